"""What the adapters share to store and search vectors: pgvector's asyncpg codec, and sqlite-vec where it can load.

PostgreSQL: `register_vector_codec` gives an asyncpg connection pgvector's binary format for `vector` values (lists
of floats in and out), for the adapters that talk to asyncpg themselves (raw, and Piccolo's pool); SQLAlchemy's and
Tortoise's vector types send and read pgvector's text form instead, their plugins' own way.

SQLite: sqlite-vec is a loadable extension, and Python's sqlite3 can load one only when it was built with
`enable_load_extension` (this project's pyenv Python is not). `SQLITE_VEC_PROBLEM` says, once per process, why
sqlite-vec cannot be used here (None when it can); `sqlite_vec_path` turns an adapter's own path into the
`unavailable` one with that reason; `load_sqlite_vec` loads it into an aiosqlite connection.
"""

from __future__ import annotations

import importlib.util
import sqlite3
from typing import Any

import aiosqlite
import asyncpg
from pgvector import Vector

from harness.core.contract import OperationPath


async def register_vector_codec(connection: asyncpg.Connection) -> None:
    """`vector` values in pgvector's binary format on this connection: a list of floats, a numpy array or pgvector's
    text form (the raw-SQL path's, harness/core/workloads/embeddings.py) in, a list of floats out. The `vector`
    extension must exist in the database (the harness creates it)."""
    await connection.set_type_codec(
        "vector",
        schema="public",
        encoder=_encode,
        decoder=lambda data: Vector.from_binary(data).to_list(),
        format="binary",
    )


def _encode(value: Any) -> bytes:
    return (Vector.from_text(value) if isinstance(value, str) else Vector(value)).to_binary()


def _sqlite_vec_problem() -> str | None:
    if not hasattr(sqlite3.Connection, "enable_load_extension"):
        return (
            f"this Python's sqlite3 (SQLite {sqlite3.sqlite_version}) was built without enable_load_extension, "
            "so the sqlite-vec extension cannot be loaded"
        )
    if importlib.util.find_spec("sqlite_vec") is None:
        return "sqlite-vec is not installed (pip install sqlite-vec)"
    return None


SQLITE_VEC_PROBLEM = _sqlite_vec_problem()
"""Why sqlite-vec cannot be used in this process, or None."""
NO_SQLITE_INDEX = OperationPath(
    "unavailable", "No approximate index on SQLite: the harness's SQLite path is sqlite-vec's exact distance functions."
)


def sqlite_vec_path(path: OperationPath) -> OperationPath:
    """`path` (how the adapter searches with sqlite-vec) where sqlite-vec loads, else `unavailable` saying why."""
    return path if SQLITE_VEC_PROBLEM is None else OperationPath("unavailable", SQLITE_VEC_PROBLEM)


async def load_sqlite_vec(connection: aiosqlite.Connection) -> None:
    """Load sqlite-vec into an aiosqlite connection (only where `SQLITE_VEC_PROBLEM` is None)."""
    import sqlite_vec  # type: ignore[import-not-found,unused-ignore]  # where the interpreter can load it

    await connection.enable_load_extension(True)
    await connection.load_extension(sqlite_vec.loadable_path())
    await connection.enable_load_extension(False)
