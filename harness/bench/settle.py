"""The same physical database state before every timed round of a writing scenario.

A writing scenario's setup puts the rows back as the round expects them (scenarios/base.py), but on PostgreSQL
"the same rows" is not the same state: every round's UPDATE or DELETE and every restore leave dead row versions
behind, which the next round's statements scan past until autovacuum, at a moment of its own choosing, removes
them. `update_many` showed it: every ORM "faster" than the raw baseline they are measured against, all sending
the same single UPDATE. So before each timed round of a scenario with a setup, on PostgreSQL, the settler runs
`VACUUM` on the tables of its schema (dead versions gone; the visibility map makes it cheap where there are none; the
first round of a group also ANALYZEs, so the planner's statistics are current) and a `CHECKPOINT` (dirty pages
written, so no checkpoint starts mid-round), on a connection of its own, outside the round's time. A server that
refuses CHECKPOINT (a role without the privilege) gets the VACUUM only. SQLite keeps no dead versions: nothing to do.
"""

from __future__ import annotations

import asyncpg

from harness.bench.runner import Case

TABLES = "SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables WHERE schemaname = current_schema()"
"""The tables there are now: a migration scenario's rounds run at an older revision, without the newer tables."""


class Settler:
    """Settles one adapter's database before each round (`settle`); a no-op where there is nothing to settle."""

    def __init__(self, dsn: str | None) -> None:
        self._dsn = dsn
        self._connection: asyncpg.Connection | None = None
        self._checkpoint = True

    @classmethod
    def for_case(cls, case: Case) -> Settler:
        """The settler of a case: active for a scenario with a setup (it writes) on PostgreSQL."""
        config = case.workload.provider.config
        writes = case.scenario.setup is not None
        return cls(config.postgres_dsn if writes and config.dialect == "postgresql" else None)

    async def settle(self) -> None:
        if self._dsn is None:
            return
        first = self._connection is None
        if self._connection is None:
            self._connection = await asyncpg.connect(self._dsn)
        tables = await self._connection.fetchval(TABLES)
        await self._connection.execute(f"VACUUM (ANALYZE) {tables}" if first else f"VACUUM {tables}")
        if self._checkpoint:
            try:
                await self._connection.execute("CHECKPOINT")
            except asyncpg.InsufficientPrivilegeError:
                self._checkpoint = False

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()
