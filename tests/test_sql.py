"""Named parameters rewritten into each driver's placeholders (harness/core/sql.py)."""

from __future__ import annotations

import pytest

from harness.core.errors import ParameterMismatch
from harness.core.sql import bind, check_parameters


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        ("dollar", "SELECT $1::jsonb, ':x', \"a:b\" WHERE a = $2 OR b = $3"),
        ("qmark", "SELECT ?::jsonb, ':x', \"a:b\" WHERE a = ? OR b = ?"),
        ("braces", "SELECT {}::jsonb, ':x', \"a:b\" WHERE a = {} OR b = {}"),
    ],
)
def test_names_become_placeholders_outside_quotes_and_casts(style: str, expected: str) -> None:
    sql, values = bind("SELECT :doc::jsonb, ':x', \"a:b\" WHERE a = :n OR b = :n", {"doc": "{}", "n": 3}, style)  # type: ignore[arg-type]
    assert (sql, values) == (expected, ["{}", 3, 3])


def test_piccolo_braces_in_the_sql_are_escaped() -> None:
    assert bind("SELECT '{\"a\": 1}'::jsonb, :v", {"v": 1}, "braces") == ("SELECT '{{\"a\": 1}}'::jsonb, {}", [1])


@pytest.mark.parametrize(
    ("params", "message"),
    [({}, "SQL parameter :a has no value \\(given: none\\)"), ({"a": 1, "b": 2}, "not used by the query: b")],
)
def test_parameters_and_values_must_match(params: dict[str, int], message: str) -> None:
    with pytest.raises(ParameterMismatch, match=message):
        check_parameters("SELECT :a", params)
