"""Named parameters for the contract's raw-SQL path, bound by each driver in its own placeholder style.

`BaseORMProvider.execute(query, params)` takes SQL with `:name` parameters (SQLAlchemy's `text()` style, the
seed's `params: dict`). The drivers underneath number their parameters instead: asyncpg `$1`, sqlite3 `?`,
Piccolo's `raw()` `{}`. `bind` rewrites the names into the driver's style and lists the values in order, so
the values always travel as bind parameters and never become part of the SQL text. PostgreSQL casts (`::jsonb`)
and anything inside quotes (string literals, quoted identifiers) are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Literal

from harness.core.errors import ParameterMismatch

PlaceholderStyle = Literal["dollar", "qmark", "braces"]

_TOKENS = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|::|:([A-Za-z_][A-Za-z0-9_]*)""")


@lru_cache(maxsize=512)
def _parsed(query: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The SQL between parameters (one more piece than names) and the parameter names, in order."""
    pieces: list[str] = []
    names: list[str] = []
    start = 0
    for match in _TOKENS.finditer(query):
        if match.group(1) is not None:
            pieces.append(query[start : match.start()])
            names.append(match.group(1))
            start = match.end()
    pieces.append(query[start:])
    return tuple(pieces), tuple(names)


def check_parameters(query: str, params: Mapping[str, Any]) -> None:
    """Raise `ParameterMismatch` for a `:name` that `params` lacks, or a value the query never uses (a misspelt
    name would otherwise go unnoticed)."""
    names = set(_parsed(query)[1])
    if missing := sorted(names - set(params)):
        given = ", ".join(sorted(params)) or "none"
        raise ParameterMismatch(f"SQL parameter :{missing[0]} has no value (given: {given})")
    if unused := sorted(set(params) - names):
        raise ParameterMismatch(f"SQL parameters not used by the query: {', '.join(unused)}")


def bind(query: str, params: Mapping[str, Any], style: PlaceholderStyle) -> tuple[str, list[Any]]:
    """`query` with each `:name` replaced by the driver's placeholder, and the values in placeholder order (a name
    used twice is bound twice: sqlite3 and Piccolo number nothing). `check_parameters` has passed."""
    pieces, names = _parsed(query)
    if style == "braces":
        # Piccolo reads `{}` as its placeholder (str.format's syntax): a literal brace is written doubled.
        pieces = tuple(piece.replace("{", "{{").replace("}", "}}") for piece in pieces)
    placeholders = ["{}"] * len(names) if style == "braces" else ["?"] * len(names)
    if style == "dollar":
        placeholders = [f"${n}" for n in range(1, len(names) + 1)]
    sql = "".join(piece + placeholder for piece, placeholder in zip(pieces, [*placeholders, ""], strict=True))
    return sql, [params[name] for name in names]
