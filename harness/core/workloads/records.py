"""What the tier operations share: the provider surface their raw-SQL defaults use, and rows as plain Python.

The operations return plain dicts, whatever the adapter: `record` turns a row (from `execute`, or an ORM object's
attributes) into one, with the types the contract promises for objects (bool, aware UTC datetime, a dict for
JSON), since the drivers differ underneath: SQLite returns 0/1, timestamps as text in each ORM's own format, and
JSON as text; asyncpg returns JSONB as text unless a codec was registered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any, Protocol

from harness.core.errors import InvalidArgument


class SQLPath(Protocol):
    """The part of a provider the raw-SQL defaults use (`BaseORMProvider` has all of it)."""

    @property
    def dialect(self) -> str: ...

    async def execute(self, query: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]: ...

    def transaction(self) -> AbstractAsyncContextManager[None]: ...

    def sql_timestamp(self, moment: datetime) -> Any: ...


BOOLEANS = frozenset({"is_active"})
TIMESTAMPS = frozenset({"created_at", "last_sign_in_at", "occurred_at"})
JSON_COLUMNS = frozenset({"payload"})


def _timestamp(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def record(columns: Sequence[str], row: Mapping[str, Any]) -> dict[str, Any]:
    """The row's `columns` as plain Python: booleans as bool, timestamps as aware UTC datetimes, JSON as dicts."""
    out: dict[str, Any] = {}
    for column in columns:
        value = row[column]
        if column in BOOLEANS and value is not None:
            value = bool(value)
        elif column in TIMESTAMPS:
            value = _timestamp(value)
        elif column in JSON_COLUMNS and isinstance(value, str | bytes):
            value = json.loads(value)
        out[column] = value
    return out


def object_record(columns: Sequence[str], obj: Any) -> dict[str, Any]:
    """`record` of an ORM object's attributes."""
    return record(columns, {column: getattr(obj, column) for column in columns})


def check_moment(moment: Any, what: str) -> None:
    """Refuse anything but an aware datetime: a naive one means a different instant on every server."""
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise InvalidArgument(f"{what} must be a timezone-aware datetime, got {moment!r}")
