"""The USERS and AUDIT tier operations (harness/core/workloads/), every adapter x database, against the dataset.

Also: each adapter declares how it does every operation, and the declaration matches what it does (an operation
declared `raw SQL` goes through `execute`, one declared `native` does not; the raw baseline's SQL is its native
path); and the SQL each adapter sends for the email lookup is answered from the index on lower(email).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from harness.core.config import DatabaseConfig
from harness.core.contract import BaseORMProvider
from harness.core.errors import InvalidArgument, UniqueViolation
from harness.core.statements import capture
from harness.core.workloads.audit import AuditOperations
from harness.core.workloads.users import UserOperations
from scenarios.users import mixed_case
from tests.conftest import Loaded

OPERATIONS = (*UserOperations.OPERATIONS, *AuditOperations.OPERATIONS)
MIXINS = (UserOperations, AuditOperations)
LATER = datetime(2026, 7, 1, 12, 0, 0, 123_456, tzinfo=UTC)


def user_row(db: Loaded, user_id: int) -> dict[str, Any]:
    return {"id": user_id, **db.dataset.users[user_id - 1]}


def event_ids(db: Loaded, first: int, last: int, outcome: str) -> list[int]:
    """Ids of the dataset's events at positions first..last-1 whose payload outcome is `outcome`."""
    events = db.dataset.audit_events
    return [n + 1 for n in range(first, last) if events[n]["payload"]["outcome"] == outcome]


# --- USERS -------------------------------------------------------------------------------------------


async def test_find_user_by_email_ignores_case(db: Loaded) -> None:
    p = db.provider
    for user_id in (1, 4):
        email = db.dataset.users[user_id - 1]["email"]
        for typed in (email, email.upper(), mixed_case(email)):
            assert await p.find_user_by_email(typed) == user_row(db, user_id)
    assert await p.find_user_by_email("nobody@example.org") is None


async def test_find_user_by_email_sends_one_select(db: Loaded) -> None:
    p = db.provider
    async with capture() as log:
        await p.find_user_by_email(mixed_case(db.dataset.users[2]["email"]))
    pragmas = sum(s.sql.startswith("PRAGMA") for s in log.statements)
    assert log.queries - pragmas == 1


@pytest.mark.parametrize("email", ["", "   ", None, 42])
async def test_find_user_by_email_refuses_bad_input_before_any_statement(db: Loaded, email: Any) -> None:
    async with capture() as log:
        with pytest.raises(InvalidArgument, match="email"):
            await db.provider.find_user_by_email(email)
    assert log.statements == []


async def test_sign_in_records_the_time_of_an_active_user(fresh: Loaded) -> None:
    p, users = fresh.provider, fresh.dataset.users
    active = next(i for i, u in enumerate(users, start=1) if u["is_active"])
    assert await p.sign_in(mixed_case(users[active - 1]["email"]), LATER) == active
    assert await p.find_user_by_email(users[active - 1]["email"]) == {
        **user_row(fresh, active),
        "last_sign_in_at": LATER,
    }
    others = [u for u in await p.get_many(p.models.User, order_by="id") if u.id != active]
    assert [u.last_sign_in_at for u in others] == [u["last_sign_in_at"] for i, u in enumerate(users, 1) if i != active]


async def test_sign_in_refuses_inactive_and_unknown_users_and_writes_nothing(fresh: Loaded) -> None:
    p, users = fresh.provider, fresh.dataset.users
    inactive = next((i for i, u in enumerate(users, start=1) if not u["is_active"]), None)
    if inactive is None:  # the contract dataset's seed decides; make one inactive
        inactive = 2
        await p.update(p.models.User, {"id": inactive}, {"is_active": False})
    assert await p.sign_in(users[inactive - 1]["email"], LATER) is None
    assert await p.sign_in("nobody@example.org", LATER) is None
    stored = await p.find_user_by_email(users[inactive - 1]["email"])
    assert stored is not None and stored["last_sign_in_at"] == users[inactive - 1]["last_sign_in_at"]


async def test_sign_in_refuses_a_naive_time(db: Loaded) -> None:
    with pytest.raises(InvalidArgument, match="timezone-aware"):
        await db.provider.sign_in(db.dataset.users[0]["email"], datetime(2026, 1, 1))


async def test_a_sign_up_with_a_taken_email_in_another_case_is_refused(fresh: Loaded) -> None:
    p = fresh.provider
    taken = fresh.dataset.users[2]["email"]
    with pytest.raises(UniqueViolation):
        await p.create(p.models.User, {"username": "newcomer", "email": taken.upper()})
    assert await p.count(p.models.User) == len(fresh.dataset.users)
    created = await p.create(p.models.User, {"username": "newcomer", "email": "Newcomer@Example.org"})
    assert (await p.find_user_by_email("newcomer@example.org") or {}).get("id") == created.id


# --- AUDIT -------------------------------------------------------------------------------------------


async def test_audit_events_between_filters_time_and_payload_key(db: Loaded) -> None:
    p, events = db.provider, db.dataset.audit_events
    first, last = 10, len(events) - 10
    start, end = events[first]["occurred_at"], events[last]["occurred_at"]
    for outcome in ("success", "denied"):
        found = await p.audit_events_between(start, end, "outcome", outcome)
        assert [e["id"] for e in found] == event_ids(db, first, last, outcome)
        assert found == [{"id": i, **events[i - 1]} for i in event_ids(db, first, last, outcome)]


async def test_audit_range_includes_its_start_and_excludes_its_end(db: Loaded) -> None:
    """On SQLite timestamps are text in each ORM's format: an exact bound meets the stored text exactly."""
    p, events = db.provider, db.dataset.audit_events
    outcome = events[5]["payload"]["outcome"]
    found = await p.audit_events_between(events[5]["occurred_at"], events[6]["occurred_at"], "outcome", outcome)
    assert [e["id"] for e in found] == [6]
    moment = events[5]["occurred_at"]
    assert await p.audit_events_between(moment - timedelta(seconds=1), moment, "outcome", outcome) == []


async def test_audit_scan_of_a_missing_key_or_value_finds_nothing(db: Loaded) -> None:
    p, events = db.provider, db.dataset.audit_events
    start, end = events[0]["occurred_at"], events[-1]["occurred_at"]
    assert await p.audit_events_between(start, end, "no_such_key", "success") == []
    assert await p.audit_events_between(start, end, "outcome", "no such outcome") == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"key": "outcome'; DROP TABLE audit_events; --"}, "plain name"),
        ({"key": "a.b"}, "plain name"),
        ({"value": 3}, "string"),
        ({"start": datetime(2026, 1, 1)}, "timezone-aware"),
        ({"start": LATER, "end": LATER}, "empty"),
    ],
)
async def test_audit_scan_refuses_bad_input_before_any_statement(
    db: Loaded, arguments: dict[str, Any], message: str
) -> None:
    given: dict[str, Any] = {"start": LATER - timedelta(days=1), "end": LATER, "key": "outcome", "value": "denied"}
    given |= arguments
    async with capture() as log:
        with pytest.raises(InvalidArgument, match=message):
            await db.provider.audit_events_between(**given)
    assert log.statements == []


async def test_purge_deletes_the_events_before_the_cutoff_and_counts_them(fresh: Loaded) -> None:
    p, events = fresh.provider, fresh.dataset.audit_events
    assert await p.purge_audit_events(events[0]["occurred_at"]) == 0
    assert await p.purge_audit_events(events[25]["occurred_at"]) == 25
    assert await p.count(p.models.AuditEvent) == len(events) - 25
    assert [e.id for e in await p.get_many(p.models.AuditEvent, order_by="occurred_at", limit=1)] == [26]
    with pytest.raises(InvalidArgument, match="timezone-aware"):
        await p.purge_audit_events(datetime(2026, 1, 1))


async def test_appended_events_keep_their_json_payload(fresh: Loaded) -> None:
    p = fresh.provider
    payload = {"outcome": "denied", "nested": {"list": [1, 2.5, None, True], "text": "é ' \" \\"}}
    event = await p.create(p.models.AuditEvent, {"actor_id": 3, "action": "export", "payload": payload})
    assert event.payload == payload and event.id == len(fresh.dataset.audit_events) + 1
    batch = [{"occurred_at": LATER, "actor_id": n, "action": "sign_in", "payload": {"n": n}} for n in range(5)]
    assert await p.create_many(p.models.AuditEvent, batch) == 5
    stored = await p.get_many(p.models.AuditEvent, {"id__gt": event.id}, order_by="id")
    assert [(e.actor_id, e.payload, e.occurred_at) for e in stored] == [(n, {"n": n}, LATER) for n in range(5)]
    found = await p.audit_events_between(LATER, LATER + timedelta(seconds=1), "outcome", "denied")
    assert found == []  # the appended "denied" event occurred now, outside the range


# --- how each operation is done ------------------------------------------------------------------------


def test_every_adapter_declares_every_operation_by_what_it_overrides(loaded_database: Loaded) -> None:
    p = loaded_database.provider
    paths = p.capabilities.paths
    assert set(OPERATIONS) <= set(paths), f"{p.name} declares no path for {set(OPERATIONS) - set(paths)}"
    for name in OPERATIONS:
        inherited = all(getattr(type(p), name) is getattr(mixin, name, None) for mixin in MIXINS if name in vars(mixin))
        path = paths[name]
        assert path.note, f"{p.name}.{name}: no note"
        if p.name == "raw":
            assert path.kind == "native", name  # SQL on the bare driver is the baseline's own API
        elif inherited:
            assert path.kind == "raw SQL", f"{p.name}.{name} inherits the raw-SQL default but declares {path.kind}"
        else:
            assert path.kind in ("native", "plugin", "raw SQL"), f"{p.name}.{name}: {path.kind}"


def _calls(db: Loaded) -> dict[str, Callable[[], Awaitable[Any]]]:
    events, email = db.dataset.audit_events, db.dataset.users[0]["email"]
    start, end = events[0]["occurred_at"], events[-1]["occurred_at"]
    return {
        "find_user_by_email": lambda: db.provider.find_user_by_email(email),
        "sign_in": lambda: db.provider.sign_in("nobody@example.org", LATER),
        "audit_events_between": lambda: db.provider.audit_events_between(start, end, "outcome", "denied"),
        "purge_audit_events": lambda: db.provider.purge_audit_events(start),
    }


async def test_an_operation_goes_through_execute_exactly_when_declared_raw_sql(
    db: Loaded, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = db.provider
    used: list[str] = []
    original = p._execute

    async def spied(query: str, params: Any) -> list[dict[str, Any]]:
        used.append(query)
        return await original(query, params)

    monkeypatch.setattr(p, "_execute", spied)
    for name, call in _calls(db).items():
        used.clear()
        await call()
        kind = p.capabilities.paths[name].kind
        through_execute = kind == "raw SQL" or (p.name == "raw" and name != "purge_audit_events")
        assert bool(used) == through_execute, f"{p.name}.{name} declared {kind}, sent through execute: {used}"


# --- the email index -----------------------------------------------------------------------------------


async def _plan(config: DatabaseConfig, sql: str, email: str) -> str:
    """The plan of one captured statement: SQLite's trace has the parameters inlined; on PostgreSQL the statement
    is prepared and executed with the email for each text parameter (1 for a number), sequential scans off so
    that only an index the query cannot use leaves one."""
    if config.dialect == "sqlite":
        with closing(sqlite3.connect(config.sqlite_path)) as connection:
            return "\n".join(str(row[-1]) for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}"))
    connection = await asyncpg.connect(config.postgres_dsn)
    try:
        await connection.execute("SET enable_seqscan = off")
        await connection.execute(f"PREPARE probe AS {sql}")
        types = await connection.fetchval(
            "SELECT parameter_types::text[] FROM pg_prepared_statements WHERE name = 'probe'"
        )
        values = ["1" if t in ("integer", "bigint", "smallint") else "'" + email + "'" for t in types]
        rows = await connection.fetch(f"EXPLAIN EXECUTE probe{'(' + ', '.join(values) + ')' if values else ''}")
        return "\n".join(row[0] for row in rows)
    finally:
        await connection.close()


async def test_the_email_lookup_is_answered_from_the_lower_email_index(db: Loaded) -> None:
    p = db.provider
    email = mixed_case(db.dataset.users[1]["email"])
    async with capture() as log:
        await p.find_user_by_email(email)
    (select,) = [s.sql for s in log.statements if "users" in s.sql and s.sql.lstrip().upper().startswith("SELECT")]
    plan = await _plan(p.config, select, email)
    assert "ix_users_lower_email" in plan, plan


async def _idiomatic_lookups(p: BaseORMProvider) -> list[str]:
    """The SQL of the ORM's own case-insensitive match, where it is not the indexable form (the finding the
    adapters' notes state): Tortoise's email__iexact and Piccolo's ilike()."""
    if p.name == "tortoise":
        from tortoise.context import _current_context

        token = _current_context.set(p._ctx)  # type: ignore[attr-defined]
        try:
            return [p.models.User.filter(email__iexact="x").sql(params_inline=False)]
        finally:
            _current_context.reset(token)
    if p.name == "piccolo":
        query = p.models.User.objects().where(p.models.User.email.ilike("x")).querystrings[0]
        return [query.compile_string(engine_type="postgres")[0]]
    return []


@pytest.mark.postgresql
async def test_the_orms_own_case_insensitive_match_cannot_use_the_index(db: Loaded) -> None:
    p = db.provider
    if p.dialect != "postgresql":
        pytest.skip("the plans are compared on PostgreSQL")
    for sql in await _idiomatic_lookups(p):
        plan = await _plan(p.config, sql, "User00002@Example.org")
        assert "ix_users_lower_email" not in plan and "Seq Scan" in plan, plan
