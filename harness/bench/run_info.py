"""The run-level facts of a harness session, which pytest-benchmark's machine_info carries under "harness".

`start(config, options)` gathers them once the session has collected harness tests (a session that collected none
has none, and its machine_info stays pytest-benchmark's own): the results schema, run id and start, profile, sizes,
order seed, selection, pool size, versions, whether they are the pinned set, the CPU, and each adapter's migration
facts where the run times the migrations family. `record_database` adds each database's facts as it is loaded,
`record_skip` each benchmark skipped because the adapter declares an operation of it unavailable there.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from harness.bench.extra_info import RESULTS_SCHEMA
from harness.bench.options import BenchOptions, bench_options

if TYPE_CHECKING:
    from harness.bench.workload import Workloads

_FACTS = pytest.StashKey[dict[str, Any]]()


def start(config: pytest.Config, options: BenchOptions) -> None:
    from harness.bench import affinity
    from harness.bench.environment import cpu, package_versions
    from harness.core.versions import pinned_status
    from scenarios import CATALOGUE

    config.stash[_FACTS] = {
        "harness_schema": RESULTS_SCHEMA,
        "run_id": uuid.uuid4().hex[:12],
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "profile": options.profile.name,
        "dataset": vars(options.profile.dataset),
        "sizes": {s.id: options.profile.size(s) for s in CATALOGUE.values() if s.sizes is not None},
        "order_seed": options.order_seed,
        "adapters": list(options.adapters),
        "scenarios": [s.id for s in CATALOGUE.values() if options.selects(s.id, s.family)],
        "pool_size": options.pool_size,
        "pool_tier": options.pool_tier,
        "concurrency": list(options.concurrency),
        "timer": "harness.bench.runner.loop_time: seconds inside the event loop (driving the loop left out)",
        "trials": options.trials,
        "precision": options.profile.precision,
        "group_cap_s": options.profile.cap,
        "rounds_bounds": list(options.profile.rounds),
        "garbage_collection": "gc.collect() then gc.freeze() before each group (harness/bench/interleave.py)",
        "settle": "PostgreSQL, before each round of a writing scenario and after every group's restore: VACUUM "
        "(ANALYZE the first time), CHECKPOINT",
        "affinity": affinity.describe(options.affinity),
        "databases": {},
        "versions": package_versions(),
        "pinned": pinned_status(),
        "cpu": cpu(),
        "migrations": _migration_facts(options),
        "skipped": [],
    }


def facts(config: pytest.Config) -> dict[str, Any] | None:
    """The session's run-level facts; None where it collected no harness test."""
    return config.stash.get(_FACTS, None)


def _migration_facts(options: BenchOptions) -> dict[str, dict[str, Any]]:
    """Each adapter's `migration_facts` (its tool, autogenerate, downgrade, SQLite, transactional DDL, the files of
    revision 0002), recorded with a run that times the migrations family, for the report's migration section."""
    from harness.core.adapters import BY_NAME
    from harness.core.factory import adapter_class
    from scenarios import CATALOGUE

    if not any(s.family == "migrations" and options.selects(s.id, s.family) for s in CATALOGUE.values()):
        return {}
    adapters = [adapter for adapter in options.adapters if not BY_NAME[adapter].is_reference]  # no migrations
    return {adapter: asdict(adapter_class(adapter).migration_facts) for adapter in adapters}


def record_database(config: pytest.Config, label: str, workloads: Workloads) -> None:
    """Add the facts of the database labelled `label` (dialect, server, settings, extensions; for the throwaway
    cluster its settings and where its binaries come from), once it holds a workload."""
    from harness.databases.pgserver import SERVER_SETTINGS, binaries_source
    from harness.databases.targets import PostgresTarget, SqliteTarget

    run = facts(config)
    if run is None or not workloads.facts:
        return
    recorded = {"dialect": workloads.dialect, **workloads.facts, "capabilities": dict(workloads.capabilities)}
    spec = bench_options(config).spec(label)
    if spec == "postgresql":
        recorded["throwaway_cluster_settings"] = dict(SERVER_SETTINGS)
        if isinstance(workloads.target, PostgresTarget) and workloads.target.server is not None:
            recorded["throwaway_cluster_binaries"] = binaries_source(workloads.target.server.bindir)
    elif spec == "sqlite" and isinstance(workloads.target, SqliteTarget):
        recorded["directory"] = str(workloads.target.directory)
    run["databases"][label] = recorded


def record_skip(config: pytest.Config, label: str, adapter: str, scenario: str, reason: str) -> None:
    """Record a benchmark not run: `adapter` declares an operation of `scenario` unavailable on database `label`
    (`Scenario.unavailable`), for the report to show with its reason."""
    if (run := facts(config)) is not None:
        run["skipped"].append({"database": label, "adapter": adapter, "scenario": scenario, "reason": reason})
