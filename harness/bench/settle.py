"""The same physical database state before every group and before every timed round of a writing scenario.

A writing scenario's setup puts the rows back as the round expects them (scenarios/base.py), but on PostgreSQL
"the same rows" is not the same state: every round's UPDATE or DELETE and every restore leave dead row versions
behind, which the next round's statements scan past until autovacuum, at a moment of its own choosing, removes
them. `update_many` showed it: every ORM "faster" than the raw baseline they are measured against, all sending
the same single UPDATE. So before each timed round of a scenario with a setup, on PostgreSQL, the settler runs
`VACUUM` on the tables of its schema (dead versions gone; the visibility map makes it cheap where there are none)
and a `CHECKPOINT` (dirty pages written, so no checkpoint starts mid-round), on a connection of its own, outside the
round's time: about 5 ms on the full dataset. A server that refuses CHECKPOINT (a role without the privilege) gets
the VACUUM only. SQLite keeps no dead versions: nothing to do.

Every group on PostgreSQL, reading or writing, ends the same way (`settle` once more, after its restore, interleave.py
step 5), so the next group finds every adapter's database vacuumed and checkpointed, whatever the last one wrote
(a writing group's probes and restore, `rollback`'s aborted rows), rather than as autovacuum had left each
adapter's database at that moment. The cluster the harness starts runs without autovacuum
(harness/databases/pgserver.py), so no background worker picks a moment of its own in the middle of a round. What
this does not make equal: VACUUM frees dead rows but does not shrink a table, so each adapter's tables keep the size
its own earlier writes gave them (PostgreSQL `count`, a scan, is still slower in a run's second trial, raw's the
most).

`prepare` runs before a group's rounds, outside their time cap: it connects and, the first time this process settles
a database, ANALYZEs it, so the planner's statistics are current (the restores keep the same rows, so once is
enough), also where the first group of a run reads. That takes about 160 ms; done in the first round, it spent most
of a group's cap and left writing scenarios on PostgreSQL 3 rounds per trial, too few to rank them.
"""

from __future__ import annotations

from typing import ClassVar

import asyncpg

from harness.bench.runner import Case

TABLES = "SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables WHERE schemaname = current_schema()"
"""The tables there are now: a migration scenario's rounds run at an older revision, without the newer tables."""
DATABASE = "SELECT oid FROM pg_database WHERE datname = current_database()"


class Settler:
    """Settles one adapter's database before each round of a writing group and after every group; a no-op where there
    is nothing to settle (SQLite)."""

    _analyzed: ClassVar[set[tuple[str, int]]] = set()
    """The databases this process has ANALYZEd: DSN and OID (a database dropped and created again is new)."""

    def __init__(self, dsn: str | None, writes: bool) -> None:
        self._dsn = dsn
        self._writes = writes
        self._connection: asyncpg.Connection | None = None
        self._checkpoint = True

    @classmethod
    def for_case(cls, case: Case) -> Settler:
        """The settler of a case: on PostgreSQL; settling before each round where the scenario has a setup (writes)."""
        config = case.workload.provider.config
        return cls(config.postgres_dsn if config.dialect == "postgresql" else None, case.scenario.setup is not None)

    async def prepare(self) -> None:
        """Before the rounds: the connection, and the database's statistics the first time (module docstring)."""
        if self._dsn is None or self._connection is not None:
            return
        self._connection = await asyncpg.connect(self._dsn)
        database = (self._dsn, await self._connection.fetchval(DATABASE))
        if database not in Settler._analyzed:
            await self._connection.execute(f"ANALYZE {await self._tables()}")
            Settler._analyzed.add(database)

    async def before_round(self) -> None:
        """Settle before a timed round of a writing scenario; nothing for a reading one."""
        if self._writes:
            await self.settle()

    async def settle(self) -> None:
        """VACUUM and CHECKPOINT the database (module docstring); nothing where it is not PostgreSQL."""
        if self._dsn is None:
            return
        await self.prepare()
        assert self._connection is not None
        await self._connection.execute(f"VACUUM {await self._tables()}")
        if self._checkpoint:
            try:
                await self._connection.execute("CHECKPOINT")
            except asyncpg.InsufficientPrivilegeError:
                self._checkpoint = False

    async def _tables(self) -> str:
        assert self._connection is not None
        return str(await self._connection.fetchval(TABLES))

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()
