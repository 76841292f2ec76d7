"""AUDIT tier: an append-only log of events with a JSON payload, scanned by time and payload key, purged by age.

Appends are the contract's `create` (one event) and `create_many` (a batch): every ORM writes its JSON field
itself. The operations here are the two an ORM may not express: a time-range scan filtered on a key inside the
payload (PostgreSQL `payload ->> 'key'` on JSONB, SQLite `json_extract(payload, '$.key')` on JSON text), and the
retention purge, which must say how many events it deleted.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, ClassVar

from harness.core.errors import InvalidArgument
from harness.core.schema import ENTITIES
from harness.core.workloads.records import SQLPath, check_moment, record

EVENT_COLUMNS = ENTITIES["AuditEvent"].columns
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SELECT = f"SELECT {', '.join(EVENT_COLUMNS)} FROM audit_events"
_IN_RANGE = "occurred_at >= :start AND occurred_at < :end"
SCAN = {
    "postgresql": f"{_SELECT} WHERE {_IN_RANGE} AND payload ->> :key = :value ORDER BY occurred_at, id",
    "sqlite": f"{_SELECT} WHERE {_IN_RANGE} AND json_extract(payload, :path) = :value ORDER BY occurred_at, id",
}
PURGE = {
    # PostgreSQL counts in the statement and returns one row; SQLite has no DML in a WITH, so one id per event.
    "postgresql": "WITH purged AS (DELETE FROM audit_events WHERE occurred_at < :before RETURNING 1) "
    "SELECT count(*) AS purged FROM purged",
    "sqlite": "DELETE FROM audit_events WHERE occurred_at < :before RETURNING id",
}


def check_scan(start: datetime, end: datetime, key: str, value: str) -> None:
    check_moment(start, "the start of the range")
    check_moment(end, "the end of the range")
    if start >= end:
        raise InvalidArgument(f"the range is empty: start {start.isoformat()} is not before end {end.isoformat()}")
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise InvalidArgument(f"a payload key must be a plain name (letters, digits, _), got {key!r}")
    if not isinstance(value, str):
        raise InvalidArgument(f"the payload value to match must be a string, got {value!r}")


class AuditOperations:
    """Audit logs and compliance (the AUDIT tier). Defaults: SQL through `execute`, one statement per dialect."""

    OPERATIONS: ClassVar[tuple[str, ...]] = ("audit_events_between", "purge_audit_events")

    async def audit_events_between(
        self: SQLPath, start: datetime, end: datetime, key: str, value: str
    ) -> list[dict[str, Any]]:
        """The events with `start <= occurred_at < end` whose payload holds `value` (a string) under the top-level
        `key`, ordered by occurred_at then id, each a dict of every column (the payload a dict). One SELECT: the
        index on occurred_at finds the range, the payload test filters it."""
        check_scan(start, end, key, value)
        bounds = {"start": self.sql_timestamp(start), "end": self.sql_timestamp(end), "value": value}
        where_key = {"key": key} if self.dialect == "postgresql" else {"path": f"$.{key}"}
        rows = await self.execute(SCAN[self.dialect], bounds | where_key)
        return [record(EVENT_COLUMNS, row) for row in rows]

    async def purge_audit_events(self: SQLPath, before: datetime) -> int:
        """Delete every event that occurred before `before` (the retention cutoff); returns how many. One DELETE."""
        check_moment(before, "the retention cutoff")
        rows = await self.execute(PURGE[self.dialect], {"before": self.sql_timestamp(before)})
        return int(rows[0]["purged"]) if self.dialect == "postgresql" else len(rows)
