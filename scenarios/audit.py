"""audit: an append-only log of events with a JSON payload (the AUDIT tier), on the dataset's audit_events.

The dataset's events come one per 90 seconds (960 a day, harness/core/dataset.py), numbered in time order.
Appends add events above the dataset's ids (removed by id afterwards); the purge deletes the oldest day of the log,
which the untimed setup puts back, with the same ids, before the next round.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from harness.core.contract import BaseORMProvider
from harness.core.dataset import Dataset
from scenarios.base import Scenario, delete_added, expect
from scenarios.eager import queries_of_one_select

BATCH = 100
DAY = 960
"""Events in one day of the log: the scan's window and the purge's share, in the full profile."""
SCAN_KEY, SCAN_VALUE = "outcome", "denied"
NOW = datetime.fromisoformat("2026-12-31T23:59:59.999999+00:00")
"""When the appended events happen: after every event of the dataset."""


def new_event(n: int) -> dict[str, Any]:
    return {
        "occurred_at": NOW,
        "actor_id": 1,
        "action": "export",
        "payload": {"outcome": "success", "ip": "10.0.0.1", "target": f"report:{n}", "request_id": f"{n:016x}"},
    }


def scan_window(data: Dataset) -> tuple[int, int]:
    """Positions (from 0) of the events that open and close the scanned day: from 40% into the log."""
    events = len(data.audit_events)
    first = events * 2 // 5
    return first, min(first + DAY, events - 1)


def purged(data: Dataset) -> int:
    """How many of the oldest events one purge deletes: a day's worth, at most a fifth of the log."""
    return min(DAY, len(data.audit_events) // 5)


async def audit_append(p: BaseORMProvider, data: Dataset) -> Any:
    """Append one audit event with its JSON payload."""
    return await p.create(p.models.AuditEvent, new_event(0))


async def audit_append_batch(p: BaseORMProvider, data: Dataset, events: list[dict[str, Any]]) -> int:
    """Append a batch of 100 audit events in one call."""
    return await p.create_many(p.models.AuditEvent, events)


async def audit_scan(p: BaseORMProvider, data: Dataset) -> list[dict[str, Any]]:
    """Scan one day of the log for the events whose JSON payload says outcome = denied."""
    first, last = scan_window(data)
    start, end = data.audit_events[first]["occurred_at"], data.audit_events[last]["occurred_at"]
    return await p.audit_events_between(start, end, SCAN_KEY, SCAN_VALUE)


async def audit_purge(p: BaseORMProvider, data: Dataset) -> int:
    """Retention: delete the events older than a cutoff (the log's oldest day)."""
    return await p.purge_audit_events(_cutoff(data))


# --- untimed steps -----------------------------------------------------------------------------------


def _cutoff(data: Dataset) -> datetime:
    return data.audit_events[purged(data)]["occurred_at"]


async def _drop_new_events(p: BaseORMProvider, data: Dataset, **_: Any) -> None:
    await delete_added(p, data, "AuditEvent")


async def _check_append(p: BaseORMProvider, data: Dataset, event: Any) -> int:
    expect((event.id > len(data.audit_events), event.payload), (True, new_event(0)["payload"]), "appended event")
    stored = await p.get(p.models.AuditEvent, {"id": event.id})
    expect(None if stored is None else stored.payload, new_event(0)["payload"], "stored payload")
    return 1


async def _new_batch(p: BaseORMProvider, data: Dataset) -> dict[str, Any]:
    await _drop_new_events(p, data)
    return {"events": [new_event(n) for n in range(BATCH)]}


async def _check_batch(p: BaseORMProvider, data: Dataset, appended: int, events: list[dict[str, Any]]) -> int:
    expect(appended, BATCH, "events appended")
    added = await p.get_many(p.models.AuditEvent, {"id__gt": len(data.audit_events)}, order_by="id")
    expect([e.payload["target"] for e in added], [f"report:{n}" for n in range(BATCH)], "payloads appended")
    return BATCH


async def _check_scan(p: BaseORMProvider, data: Dataset, events: list[dict[str, Any]]) -> int:
    first, last = scan_window(data)
    expected = [
        {"id": n + 1, **data.audit_events[n]}
        for n in range(first, last)
        if data.audit_events[n]["payload"][SCAN_KEY] == SCAN_VALUE
    ]
    expect(events, expected, "events of the day with outcome denied, in time order")
    return len(events)


async def _put_back_purged(p: BaseORMProvider, data: Dataset) -> None:
    """The purged events again, with their ids (they are the dataset's first ones: ids follow times)."""
    count = purged(data)
    if await p.count(p.models.AuditEvent, {"id__lte": count}) < count:
        await p.delete(p.models.AuditEvent, {"id__lte": count})
        rows = [{"id": n + 1, **data.audit_events[n]} for n in range(count)]
        await p.create_many(p.models.AuditEvent, rows)


async def _check_purge(p: BaseORMProvider, data: Dataset, deleted: int) -> int:
    expect(deleted, purged(data), "events purged")
    expect(await p.count(p.models.AuditEvent), len(data.audit_events) - deleted, "events left")
    oldest = await p.get_many(p.models.AuditEvent, order_by="occurred_at", limit=1)
    expect([e.id for e in oldest], [purged(data) + 1], "the oldest event left")
    return deleted


SCENARIOS = (
    Scenario(audit_append, "audit", _check_append, setup=_drop_new_events, restore=_drop_new_events),
    Scenario(audit_append_batch, "audit", _check_batch, setup=_new_batch, restore=_drop_new_events),
    Scenario(audit_scan, "audit", _check_scan, expected_queries=queries_of_one_select),
    Scenario(
        audit_purge,
        "audit",
        _check_purge,
        setup=_put_back_purged,
        restore=_put_back_purged,
        expected_queries=queries_of_one_select,
    ),
)
