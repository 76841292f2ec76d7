"""PostgreSQL's own count of what one round executed (pg_stat_statements), next to the harness's count.

The throwaway cluster preloads pg_stat_statements with `track = top` (statements run by foreign-key triggers
are not counted) and every database the harness creates has the extension. Its `calls` count every row of
an `executemany` and every statement of a multi-statement string, so they are compared with
`StatementLog.executions`, kind by kind (SELECT, INSERT, ..., BEGIN, SAVEPOINT: a statement's first
keyword). Left out on both sides: asyncpg's reset-on-release statements (pool housekeeping;
harness/core/statements.py leaves them out too) and the pg_stat_statements queries themselves.

A statement the server refused with an error (the duplicate INSERT of `sign_up_duplicate`) is left out of the
harness's side: pg_stat_statements records completed statements only.

One known gap of the server's count: pg_stat_statements counts a utility statement run from a named prepared
statement on its first execution only (measured on PostgreSQL 15, and again on the embedded server's 18.6:
`prepare("SAVEPOINT a")` executed three times and `SAVEPOINT b` sent four times as simple queries show 5 calls).
SQLAlchemy's asyncpg dialect sends SAVEPOINT, RELEASE and ROLLBACK TO that way, and the warm-up round has already
executed them, so for those kinds the server may count fewer than the driver sent; every other kind must agree
exactly.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import asyncpg

from harness.bench.runner import Case
from harness.core.statements import StatementLog, capture

POOL_RESET = frozenset({"SELECT pg_advisory_unlock_all()", "CLOSE ALL", "UNLISTEN *", "RESET ALL"})
"""asyncpg's `Connection.reset()` query, one pg_stat_statements entry per statement."""

UNDERCOUNTED_BY_SERVER = frozenset({"SAVEPOINT", "RELEASE", "ROLLBACK TO"})
"""Kinds the server may count fewer of than were sent (see the module docstring)."""

SERVER_COUNTS = """
SELECT query, calls FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND query NOT LIKE '%pg_stat_statements%'
"""


def kind(sql: str) -> str:
    """A statement's kind: its first keyword, upper-case ("ROLLBACK TO" apart from "ROLLBACK")."""
    words = sql.split(None, 2)
    first = words[0].upper().rstrip(";") if words else ""
    return "ROLLBACK TO" if first == "ROLLBACK" and len(words) > 1 and words[1].upper() == "TO" else first


@dataclass(frozen=True)
class Comparison:
    """One round counted by the harness (at the driver) and by the server, by kind of statement."""

    log: StatementLog
    server: dict[str, int]

    @property
    def sent(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for statement in self.log.statements:
            if not statement.failed:
                counts[kind(statement.sql)] += statement.executions
        return counts

    @property
    def executed(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for query, calls in self.server.items():
            counts[kind(query)] += calls
        return counts

    def disagreements(self) -> dict[str, tuple[int, int]]:
        """Kind -> (sent, counted by the server), where the two disagree beyond the server's known gap."""
        sent, executed = self.sent, self.executed
        return {
            k: (sent[k], executed[k])
            for k in sent.keys() | executed.keys()
            if sent[k] != executed[k] and not (k in UNDERCOUNTED_BY_SERVER and executed[k] < sent[k])
        }

    def explain(self) -> str:
        harness = "\n  ".join(f"{s.executions} x {s.sql[:140]}" for s in self.log.statements)
        server = "\n  ".join(f"{calls} x {query[:140]}" for query, calls in sorted(self.server.items()))
        return (
            f"disagreements (kind: sent, counted): {self.disagreements()}\n"
            f"harness: {self.log.executions} executions\n  {harness}\n"
            f"pg_stat_statements: {sum(self.server.values())} calls\n  {server}"
        )


async def compare_round(case: Case, dsn: str) -> Comparison:
    """Run one round of `case` counted both ways. Uncounted rounds first warm the connections up: asyncpg
    introspects types and SQLAlchemy sets up a new connection with statements the driver hooks do not see,
    once per connection. As many as the pool can hold, since a pool that hands its connections out in turn
    (SQLAlchemy's queue) gives the counted round another connection than the last warm-up's."""
    admin = await asyncpg.connect(dsn)
    try:
        for _ in range(case.workload.provider.config.pool_max):
            await case.call(await case.setup())
        arguments = await case.setup()
        await admin.execute("SELECT pg_stat_statements_reset()")
        async with capture() as log:
            await case.call(arguments)
        rows = await admin.fetch(SERVER_COUNTS)
    finally:
        await admin.close()
        await case.restore()
    return Comparison(log, {r["query"]: r["calls"] for r in rows if r["query"] not in POOL_RESET})
