"""Read a PostgreSQL schema from the catalog, in a form two adapters' schemas can be compared in.

Names of constraints and indexes are left out (each ORM names them its own way); what they do is kept.
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from typing import Any

import asyncpg

from harness.core.config import DatabaseConfig

COLUMNS = """
SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
       a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
"""
CONSTRAINTS = """
SELECT c.relname AS table, k.contype AS kind, pg_get_constraintdef(k.oid) AS definition
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public'
"""
INDEXES = """
SELECT c.relname AS table, i.indisunique AS is_unique, i.indisprimary AS is_primary,
       ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(attnum, pos)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.pos) AS columns,
       pg_get_expr(i.indexprs, i.indrelid) AS expressions
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public'
"""
# Equivalent spellings of the same default, as different ORMs emit them.
_DEFAULT_SPELLINGS = {"now()": "CURRENT_TIMESTAMP"}
_IGNORED_TABLES = {"aerich", "migration", "alembic_version", "harness_migrations"}
"""The migration tools' bookkeeping tables (aerich, Piccolo, Alembic, raw SQL): not part of the shared schema."""


def _default(expression: str | None) -> str | None:
    if expression is None:
        return None
    expression = re.sub(r"::(numeric|smallint|integer|boolean)$", "", expression).strip("'")
    return _DEFAULT_SPELLINGS.get(expression, expression)


async def describe(dsn: str) -> dict[str, Any]:
    """Tables, columns (type, NOT NULL, default), constraints and indexes of the `public` schema. An index is
    (table, unique, primary, its columns, its expressions: `lower((email)::text)` for an index on lower(email))."""
    connection = await asyncpg.connect(dsn)
    try:
        columns = await connection.fetch(COLUMNS)
        constraints = await connection.fetch(CONSTRAINTS)
        indexes = await connection.fetch(INDEXES)
    finally:
        await connection.close()
    return {
        "tables": sorted({r["table"] for r in columns} - _IGNORED_TABLES),
        "columns": sorted(
            (r["table"], r["column"], r["type"], r["not_null"], _default(r["default"]))
            for r in columns
            if r["table"] not in _IGNORED_TABLES
        ),
        "constraints": sorted(
            (r["table"], r["kind"], r["definition"]) for r in constraints if r["table"] not in _IGNORED_TABLES
        ),
        "indexes": sorted(
            (r["table"], r["is_unique"], r["is_primary"], tuple(r["columns"]), r["expressions"])
            for r in indexes
            if r["table"] not in _IGNORED_TABLES
        ),
    }


async def table_layout(url: str, table: str) -> tuple[set[str], set[tuple[str, ...]]]:
    """The column names of `table` and the column lists of its indexes, on SQLite or PostgreSQL."""
    config = DatabaseConfig(url)
    if config.dialect == "sqlite":
        with closing(sqlite3.connect(config.sqlite_path)) as connection:
            columns = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
            names = [row[1] for row in connection.execute(f"PRAGMA index_list({table})")]
            indexes = {tuple(r[2] for r in connection.execute(f"PRAGMA index_info({n})")) for n in names}
        return columns, indexes
    schema = await describe(config.postgres_dsn)
    columns = {c[1] for c in schema["columns"] if c[0] == table}
    return columns, {i[3] for i in schema["indexes"] if i[0] == table}
