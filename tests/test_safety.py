"""Isolation, bad input and timeouts, against a real PostgreSQL.

Every test here runs on a throwaway cluster of this module's own (never on a database the tests did not
create), with two password roles whose logins over TCP need a password (scram): `harness_pw` may create
databases, `harness_nocreate` may not. The CLI is run as a subprocess (`python -m harness`, what the
console script runs), so the assertions see exactly what a user sees: one line on stderr, exit status 2, no
traceback, no password.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.core.adapters import CONTRACT
from harness.core.config import DatabaseConfig
from harness.core.errors import ConfigurationError, ConnectionFailed, LockTimeout, StatementTimeout, redact, translate
from harness.core.factory import adapter_class
from harness.databases.isolation import (
    MARKER_TABLE,
    connect,
    contents,
    inventory,
    mark,
    preflight,
    set_marker,
    with_database,
)
from harness.databases.pgserver import ThrowawayPostgres, find_binaries
from harness.databases.targets import MarkedTarget, PostgresTarget, open_target

pytestmark = pytest.mark.postgresql

REPOSITORY = Path(__file__).resolve().parent.parent
PASSWORD = "S3cret-Pw0rd"
ROLES = {"harness_pw": "CREATEDB", "harness_nocreate": "NOCREATEDB"}


@dataclass(frozen=True)
class Cluster:
    server: ThrowawayPostgres

    @property
    def admin(self) -> str:
        return self.server.url()

    def url(self, database: str, user: str = "postgres", password: str | None = None) -> str:
        credentials = user if password is None else f"{user}:{password}"
        return f"postgresql://{credentials}@127.0.0.1:{self.server.port}/{database}"


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    if find_binaries() is None:
        if os.environ.get("CI"):
            pytest.fail("CI needs PostgreSQL server binaries")
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl)")
    server = ThrowawayPostgres.start_new()
    hba = server.data_dir / "pg_hba.conf"
    lines = "".join(f"host all {role} 127.0.0.1/32 scram-sha-256\n" for role in ROLES)
    hba.write_text(lines + hba.read_text())
    asyncio.run(_admin(server.url(), *[f"CREATE ROLE {r} LOGIN {o} PASSWORD '{PASSWORD}'" for r, o in ROLES.items()]))
    asyncio.run(_admin(server.url(), "SELECT pg_reload_conf()"))
    # What a server's administrator does once for orm-harness's roles, who may not create pgvector's extension
    # themselves: install it in template1, so every database created from it (theirs too) has it.
    asyncio.run(_admin(server.url("template1"), "CREATE EXTENSION vector"))
    yield Cluster(server)
    server.stop()


async def _admin(url: str, *statements: str) -> None:
    connection = await connect(url)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def cli(*arguments: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "harness", *arguments]
    environment = {**os.environ, **(env or {})}
    return subprocess.run(command, cwd=REPOSITORY, capture_output=True, text=True, timeout=timeout, env=environment)


def assert_one_line_refusal(done: subprocess.CompletedProcess[str], *expected: str) -> None:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("orm-harness: ")
    assert "Traceback" not in done.stderr + done.stdout
    assert PASSWORD not in done.stderr + done.stdout
    for text in expected:
        assert text in lines[0], lines[0]


# --- a database of another application -----------------------------------------------------------------


@pytest.fixture
async def other_app(cluster: Cluster) -> AsyncIterator[str]:
    """A database holding another application's tables and rows."""
    await _admin(cluster.admin, "DROP DATABASE IF EXISTS shop", "CREATE DATABASE shop")
    url = cluster.url("shop")
    await _admin(
        url,
        "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL)",
        "CREATE TABLE users (id int PRIMARY KEY, username text)",  # a name the shared schema uses too
        "INSERT INTO customers SELECT i, 'customer ' || i FROM generate_series(1, 50) i",
        "INSERT INTO users VALUES (1, 'alice'), (2, 'bob')",
    )
    yield url
    await _admin(cluster.admin, "DROP DATABASE IF EXISTS shop WITH (FORCE)")


async def snapshot(url: str) -> dict[str, object]:
    """Everything a write could change: tables, their rows, extensions, per-database settings, the comment."""
    connection = await connect(url)
    try:
        found = await contents(connection)
        rows = {
            t: await connection.fetchval(f"SELECT md5(string_agg(x::text, ',' ORDER BY x::text)) FROM {t} x")
            for t in found.tables
        }
        return {
            "tables": found.tables,
            "rows": rows,
            "extensions": await connection.fetch("SELECT extname FROM pg_extension ORDER BY 1"),
            "settings": await connection.fetch(
                "SELECT setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase "
                "WHERE d.datname = current_database()"
            ),
            "comment": await connection.fetchval(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()"
            ),
        }
    finally:
        await connection.close()


async def test_every_entry_point_refuses_a_database_with_other_tables(cluster: Cluster, other_app: str) -> None:
    before = await snapshot(other_app)
    with pytest.raises(ConfigurationError, match=r"refusing database 'shop'.*customers, users"):
        await open_target(other_app).new_database("bench_raw")
    with pytest.raises(ConfigurationError, match="refusing database 'shop'"):
        await preflight(other_app)
    with pytest.raises(ConfigurationError, match="not empty"):
        await mark(other_app)
    assert_one_line_refusal(cli("db", "mark", other_app), "not empty")
    assert_one_line_refusal(cli("run", "--db", other_app, "--quick", "--adapters", "raw"), "refusing database 'shop'")
    command = [sys.executable, "-m", "pytest", "tests/benchmarks", "--benchmark-only", "--quick", f"--db={other_app}"]
    suite = subprocess.run(
        [*command, "--adapters=raw", "--scenarios=get_by_pk", "-p", "no:cacheprovider", "-q"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert suite.returncode != 0 and "refusing database 'shop'" in suite.stdout, suite.stdout[-2000:]
    assert await snapshot(other_app) == before


async def test_a_marked_empty_database_is_used_one_adapter_at_a_time(cluster: Cluster) -> None:
    await _admin(cluster.admin, "DROP DATABASE IF EXISTS lent", "CREATE DATABASE lent OWNER harness_nocreate")
    url = cluster.url("lent", "harness_nocreate", PASSWORD)
    with pytest.raises(ConfigurationError, match="not marked for orm-harness"):
        await open_target(url).new_database("bench_raw")
    marked = cli("db", "mark", url)
    assert marked.returncode == 0 and PASSWORD not in marked.stdout + marked.stderr, marked.stderr
    assert marked.stdout.strip() == f"mark: done ({redact(url)})"
    listed = cli("db", "list", url)
    assert listed.returncode == 0 and listed.stdout.startswith("lent: marked for orm-harness"), listed.stderr
    assert "state 'idle'" in listed.stdout and "tables: none" in listed.stdout
    target = open_target(url)
    assert isinstance(target, MarkedTarget)
    assert await target.new_database("bench_raw") == url
    provider = adapter_class("raw")(DatabaseConfig(url, pool_min=1, pool_max=1))
    await provider.connect()
    await provider.create_schema()
    await provider.create(provider.models.User, {"username": "u", "email": "u@x"})
    await provider.disconnect()
    with pytest.raises(ConfigurationError, match="one adapter's tables at a time"):
        await target.new_database("bench_sqlalchemy")
    await target.close()
    connection = await connect(url)
    try:
        assert (await contents(connection)).tables == [MARKER_TABLE]
        assert await connection.fetchval("SHOW statement_timeout") == "2min"
    finally:
        await connection.close()
    await _admin(cluster.admin, "DROP DATABASE lent WITH (FORCE)")


async def test_a_database_without_pgvector_that_the_role_cannot_add_is_refused_in_one_line(cluster: Cluster) -> None:
    await _admin(
        cluster.admin, "DROP DATABASE IF EXISTS bare", "CREATE DATABASE bare OWNER harness_nocreate TEMPLATE template0"
    )
    url = cluster.url("bare", "harness_nocreate", PASSWORD)
    assert cli("db", "mark", url).returncode == 0
    target = open_target(url)
    with pytest.raises(ConfigurationError, match="cannot create pgvector's extension in 'bare'") as refused:
        await target.new_database("bench_raw")
    assert "\n" not in str(refused.value) and PASSWORD not in str(refused.value)
    await target.close()
    await _admin(cluster.admin, "DROP DATABASE bare WITH (FORCE)")


async def test_a_killed_runs_tables_are_reclaimed_but_foreign_ones_refused(cluster: Cluster) -> None:
    await _admin(cluster.admin, "DROP DATABASE IF EXISTS lent2", "CREATE DATABASE lent2")
    url = cluster.url("lent2")
    await mark(url)
    await _admin(url, "CREATE TABLE users (id int)")
    connection = await connect(url)
    await set_marker(connection, state="in use", owner="elsewhere@1:1")  # a run on another host: cannot tell
    await connection.close()
    with pytest.raises(ConfigurationError, match="in use by another orm-harness run"):
        await open_target(url).new_database("bench_raw")
    connection = await connect(url)
    await set_marker(connection, state="in use", owner=f"{os.uname().nodename}@999999999:1")  # a dead process
    await connection.close()
    target = open_target(url)
    await target.new_database("bench_raw")  # reclaims the leftover table
    await target.close()
    await _admin(url, "CREATE TABLE invoices (id int)")  # not the harness's: the marker says idle
    with pytest.raises(ConfigurationError, match=r"besides the orm-harness marker.*invoices"):
        await open_target(url).new_database("bench_raw")
    await _admin(cluster.admin, "DROP DATABASE lent2 WITH (FORCE)")


async def test_a_server_url_gets_databases_of_its_own_dropped_at_the_end(cluster: Cluster) -> None:
    target = open_target(cluster.url("postgres", "harness_pw", PASSWORD))
    assert isinstance(target, PostgresTarget)
    url = await target.new_database("isolated")
    assert DatabaseConfig(url).database == "orm_harness_isolated"
    connection = await connect(url)
    assert await connection.fetchval("SHOW lock_timeout") == "30s"
    await connection.close()
    await target.close()
    assert not await _exists("orm_harness_isolated", cluster)
    kept = PostgresTarget(cluster.url("postgres", "harness_pw", PASSWORD), keep=True)
    await kept.new_database("isolated")
    await kept.close()
    assert await _exists("orm_harness_isolated", cluster)
    mine = f"orm_harness_isolated: run pid {os.getpid()} on {os.uname().nodename} (running)"
    assert mine in await inventory(cluster.admin)
    await _admin(cluster.admin, "COMMENT ON DATABASE orm_harness_isolated IS 'orm-harness run elsewhere@1:1'")
    assert "orm_harness_isolated: run pid 1 on elsewhere (on another host)" in await inventory(cluster.admin)
    with pytest.raises(ConfigurationError, match="in use by another orm-harness run"):
        await PostgresTarget(cluster.admin).new_database("isolated")
    await _admin(cluster.admin, "COMMENT ON DATABASE orm_harness_isolated IS NULL")
    with pytest.raises(ConfigurationError, match="orm-harness did not create it"):
        await PostgresTarget(cluster.admin).new_database("isolated")
    await _admin(cluster.admin, "DROP DATABASE orm_harness_isolated")


async def _exists(database: str, cluster: Cluster) -> bool:
    connection = await connect(cluster.admin)
    try:
        return bool(await connection.fetchval("SELECT count(*) FROM pg_database WHERE datname = $1", database))
    finally:
        await connection.close()


async def test_no_createdb_says_so_and_what_to_do(cluster: Cluster) -> None:
    url = cluster.url("postgres", "harness_nocreate", PASSWORD)
    with pytest.raises(ConfigurationError, match=r"may not create databases.*CREATEDB.*orm-harness db mark"):
        await preflight(url)
    with pytest.raises(ConfigurationError, match="may not create databases"):
        await PostgresTarget(url).new_database("denied")
    assert_one_line_refusal(cli("run", "--db", url, "--adapters", "raw"), "may not create databases")


# --- bad input: one line, status 2, no traceback, no password ------------------------------------------


def _bad_tiers(directory: Path, text: str) -> str:
    path = directory / "tiers.toml"
    path.write_text(text)
    return str(path)


def _bad_results(directory: Path, document: str) -> str:
    (directory / "benchmark.json").write_text(document)
    return str(directory)


NEWER = json.dumps({"benchmarks": [{"extra_info": {"harness_schema": 99}, "stats": {}}]})
BAD_INPUT = {
    "unknown adapter": (lambda c, d: ["run", "--adapters", "raw,django"], "unknown adapter"),
    "unknown scenario": (lambda c, d: ["run", "--scenarios", "teleport"], "unknown scenario"),
    "unknown tier": (lambda c, d: ["tiers", "--tier", "ARCHIVE"], "unknown tier"),
    "malformed URL (scheme)": (lambda c, d: ["run", "--db", f"mysql://u:{PASSWORD}@h/db"], "unsupported database URL"),
    "malformed URL (port)": (
        lambda c, d: ["run", "--db", f"postgresql://u:{PASSWORD}@h:port/postgres"],
        "port is not a number",
    ),
    "unreachable host": (
        lambda c, d: ["run", "--db", f"postgresql://u:{PASSWORD}@127.0.0.1:1/postgres"],
        "cannot reach PostgreSQL at 127.0.0.1:1",
    ),
    "unknown host": (
        lambda c, d: ["run", "--db", f"postgresql://u:{PASSWORD}@no-such-host.invalid/postgres"],
        "cannot resolve host",
    ),
    "wrong password": (
        lambda c, d: ["run", "--db", c.url("postgres", "harness_pw", PASSWORD + "x")],
        "refused the password of user 'harness_pw'",
    ),
    "tier file that does not parse": (lambda c, d: ["tiers", "--tiers", _bad_tiers(d, "[CACHE\nweights = ")], "tier"),
    "tier file with invalid weights": (
        lambda c, d: ["tiers", "--tiers", _bad_tiers(d, "[CACHE.weights]\nget_by_pk = -2\n")],
        "get_by_pk",
    ),
    "corrupt results file": (lambda c, d: ["report", _bad_results(d, '{"benchmarks": [')], "is corrupt"),
    "results from a newer version": (lambda c, d: ["report", _bad_results(d, NEWER)], "newer than this"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_one_line_status_2_and_no_password(case: str, cluster: Cluster, tmp_path: Path) -> None:
    arguments, expected = BAD_INPUT[case]
    assert_one_line_refusal(cli(*arguments(cluster, tmp_path)), expected)


@pytest.fixture
def without(tmp_path: Path) -> Iterator[Callable[..., subprocess.CompletedProcess[str]]]:
    """Run the CLI with a package made unimportable (a module that raises ModuleNotFoundError shadows it)."""

    def run(package: str, *arguments: str) -> subprocess.CompletedProcess[str]:
        shadow = tmp_path / "shadow" / package
        shadow.mkdir(parents=True, exist_ok=True)
        (shadow / "__init__.py").write_text(
            f"raise ModuleNotFoundError({f'No module named {package!r}'!r}, name={package!r})\n"
        )
        path = os.pathsep.join([str(tmp_path / "shadow"), str(REPOSITORY)])
        return cli(*arguments, env={"PYTHONPATH": path})

    yield run


def test_a_missing_orm_package_or_driver_is_one_line(
    without: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    assert_one_line_refusal(without("tortoise", "run", "--adapters", "tortoise"), "pip install", "tortoise")
    assert_one_line_refusal(without("asyncpg", "run", "--db", "postgresql", "--adapters", "sqlalchemy"), "asyncpg")
    assert_one_line_refusal(without("pandas", "list"), "pandas", "pip install")


def test_debug_shows_the_traceback_still_without_the_password() -> None:
    done = cli("run", "--db", f"postgresql://u:{PASSWORD}@127.0.0.1:1/postgres", "--debug")
    assert done.returncode == 2
    assert "Traceback" in done.stderr and PASSWORD not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("orm-harness: cannot reach")


def test_redact_hides_passwords_in_every_shape() -> None:
    for text in (
        f"postgresql://u:{PASSWORD}@h/db",
        f"postgresql+asyncpg://u:{PASSWORD}@h:5432/db?x=1",
        f"postgres://:{PASSWORD}@h/db",
        f"postgresql://u:p@ss:{PASSWORD}@h/db",
        f"{{'password': '{PASSWORD}'}}",
        f"password={PASSWORD} host=h",
    ):
        assert PASSWORD not in redact(text), text


def test_a_real_run_writes_no_password_anywhere(cluster: Cluster, tmp_path: Path) -> None:
    """The whole run, a server URL with a password: the terminal, the log, the JSON, the record, the report."""
    out = tmp_path / "run"
    url = cluster.url("postgres", "harness_pw", PASSWORD)
    done = cli("run", "--db", url, "--quick", "--adapters", "raw", "--scenarios", "get_by_pk", "--out", str(out))
    assert done.returncode == 0, done.stderr + (out / "pytest.log").read_text()[-3000:]
    assert PASSWORD not in done.stdout + done.stderr
    files = [path for path in out.rglob("*") if path.is_file()]
    assert any(path.name == "report.md" for path in files)
    for path in files:
        assert PASSWORD.encode() not in path.read_bytes(), path
    assert not asyncio.run(_exists("orm_harness_bench_raw", cluster))  # dropped at the end


# --- timeouts ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("adapter", list(CONTRACT))
async def test_a_lock_wait_is_cut_by_the_lock_timeout(
    adapter: str, cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("harness.databases.isolation.LOCK_TIMEOUT", "200ms")
    target = PostgresTarget(cluster.admin)
    url = await target.new_database(f"timeout_{adapter}")
    provider = adapter_class(adapter)(DatabaseConfig(url, pool_min=1, pool_max=2))
    await provider.connect()
    await provider.create_schema()
    assert await provider.get(provider.models.User, {"id": 1}) is None  # the get by key prepared (`_prepare_get`)
    holder = await connect(url)
    try:
        async with holder.transaction():
            await holder.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
            for filters in ({"id": 1}, {"email": "x@example.org"}):  # the prepared get, then the first of its keys
                with pytest.raises(LockTimeout, match="lock timeout"):
                    await asyncio.wait_for(provider.get(provider.models.User, filters), 20)
        assert await provider.get(provider.models.User, {"id": 1}) is None  # usable again
    finally:
        await holder.close()
        await provider.disconnect()
        await target.close()


async def test_a_long_statement_is_cut_by_the_statement_timeout(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("harness.databases.isolation.STATEMENT_TIMEOUT", "300ms")
    target = PostgresTarget(cluster.admin)
    url = await target.new_database("statement_timeout")
    connection = await connect(url)
    try:
        with pytest.raises(Exception) as raised:
            await connection.execute("SELECT pg_sleep(5)")
        error = translate(raised.value)
        assert isinstance(error, StatementTimeout) and "statement timeout" in str(error)
    finally:
        await connection.close()
        await target.close()


async def test_an_unreachable_server_and_url_building(cluster: Cluster) -> None:
    with pytest.raises(ConnectionFailed, match="cannot reach"):
        await connect(f"postgresql://u:{PASSWORD}@127.0.0.1:1/postgres")
    target = PostgresTarget(cluster.admin)
    url = await target.new_database("urls")
    assert with_database(DatabaseConfig(url + "?sslmode=disable"), "x").endswith("/x?sslmode=disable")
    await target.close()
