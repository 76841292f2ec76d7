"""Alembic environment of the sqlalchemy adapter: Alembic's async template with the connection-sharing recipe.

The harness (runner.py) hands over the provider's own connection, already in a transaction, in
`config.attributes["connection"]`: no engine, URL or logging is set up here then. Alembic's command line (see
alembic.ini) opens its own async engine on the URL given with `-x url=...`.
"""

import asyncio
from typing import Any, Literal

from alembic import context
from pgvector.sqlalchemy import Vector
from sqlalchemy import Connection, DateTime, pool
from sqlalchemy.ext.asyncio import create_async_engine

from backends.sqlalchemy.models import Base

config = context.config


def render_item(kind: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Timestamps as plain `sa.DateTime`: the models' SQLite variant (`_UTCText`) converts values in Python only, its
    DDL is the same, and a revision must not import the models, which move on after it."""
    if kind == "type" and isinstance(obj, DateTime):
        return f"sa.DateTime(timezone={obj.timezone!r})"
    return False


def compare_type(context: Any, inspected: Any, metadata: Any, inspected_type: Any, metadata_type: Any) -> bool | None:
    """On SQLite a `vector(384)` column reflects as NUMERIC(384) (its affinity; SQLite has no vector type), so
    pgvector's `Vector` is never reported as changed there; every other type gets Alembic's own comparison (None)."""
    if isinstance(metadata_type, Vector) and context.dialect.name == "sqlite":
        return False
    return None


OPTIONS: dict[str, Any] = {
    "target_metadata": Base.metadata,
    # One revision file serves SQLite and PostgreSQL, so autogenerate always renders batch blocks: on SQLite they
    # rebuild the table (move and copy) where ALTER TABLE cannot make the change; elsewhere they are plain ALTERs.
    "render_as_batch": True,
    "render_item": render_item,
    "compare_type": compare_type,
}


def command_line_url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("name the database: -x url=postgresql+asyncpg://... or -x url=sqlite+aiosqlite:///...")
    return url


def run_migrations(connection: Connection) -> None:
    # Server defaults are compared on PostgreSQL only: SQLite reflects true()/false() as 1/0 or the text of the DDL,
    # and autogenerate would report every boolean default as changed.
    context.configure(connection=connection, compare_server_default=connection.dialect.name != "sqlite", **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


async def run_on_new_engine(url: str) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(run_migrations)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=command_line_url(), literal_binds=True, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()
elif (shared := config.attributes.get("connection")) is not None:
    run_migrations(shared)
else:
    asyncio.run(run_on_new_engine(command_line_url()))
