"""The benchmark engine as a pytest plugin: `orm_harness`, registered through the `pytest11` entry point.

It holds what makes the harness's tests benchmarks: the options (harness/bench/options.py), the matrix, selection
and order (harness/bench/matrix.py), the fixtures (harness/bench/fixtures.py), the run-level facts in
machine_info (harness/bench/run_info.py) and pytest-benchmark's machine comparison. `orm-harness run` and
`pytest --benchmark-only` in a clone both go through it, so they write the same benchmark records.

Being an entry point, it loads in every pytest session of the environment, so it stays inert in a session that
collects no harness test (`matrix.harness_test`): it registers its options (group "orm-harness"), its marker and
its fixtures (which only harness tests request), and nothing more. It parametrizes only harness functions;
selects, orders and starts the run-level facts only once collection found a harness test; adds to machine_info
only when those facts exist; and reduces the machine comparison only against a saved run of the harness's. It
imports the engine (runner, workloads, scenarios) only then too, so a foreign session does not pay for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from harness.bench import run_info
from harness.bench.matrix import kind_of, ordered, parametrize, wanted
from harness.bench.options import add_options, bench_options, given, summary

POSTGRESQL_MARKER = "postgresql: needs a PostgreSQL server (the throwaway cluster or --db URL)"
_MISSING = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker and the fixtures; without pytest-asyncio (the [bench] extra) there are no fixtures,
    which matters only to a session that collects harness tests (`pytest_collection_modifyitems`)."""
    config.addinivalue_line("markers", POSTGRESQL_MARKER)
    if given(config):
        bench_options(config)  # bad input is one line now, rather than a collection error in every module
    try:
        from harness.bench import fixtures
    except ModuleNotFoundError as exc:
        config.stash[_MISSING] = exc.name or "?"
        return
    config.pluginmanager.register(fixtures, "orm_harness.fixtures")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if kind_of(metafunc.function) is not None:
        parametrize(metafunc, bench_options(metafunc.config))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Where harness tests were collected: deselect what --scenarios leaves out, order the rest, and start the
    run-level facts. Otherwise nothing."""
    if not any(kind_of(item) for item in items):
        return
    if _MISSING in config.stash:
        raise pytest.UsageError(
            f"the orm-harness benchmarks need {config.stash[_MISSING]!r}: pip install 'orm-harness[bench]'"
        )
    options = bench_options(config)
    kept = [item for item in items if wanted(item, options)]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
    items[:] = ordered(kept, options)
    run_info.start(config, options)


def pytest_report_collectionfinish(config: pytest.Config, items: list[pytest.Item]) -> str | None:
    return summary(bench_options(config)) if run_info.facts(config) is not None else None


def pytest_unconfigure(config: pytest.Config) -> None:
    """A benchmark that failed before disconnecting its provider would keep its aiosqlite thread, and pytest, alive."""
    if run_info.facts(config) is not None:
        from harness.core.statements import stop_open_sqlite_connections

        stop_open_sqlite_connections()


@pytest.hookimpl(optionalhook=True)
def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict[str, Any]) -> None:
    if (run := run_info.facts(config)) is not None:
        machine_info["harness"] = run


@pytest.hookimpl(wrapper=True, optionalhook=True)
def pytest_benchmark_compare_machine_info(
    config: pytest.Config, benchmarksession: Any, machine_info: dict[str, Any], compared_benchmark: dict[str, Any]
) -> Iterator[None]:
    """`--benchmark-compare` warns when the machines differ, not on every harness run: pytest-benchmark's own check
    compares the whole machine_info, whose run-level facts (run id, time, databases) differ every time, so both
    sides are reduced, in place, to what identifies a machine before it runs. It runs while pytest configures,
    before collection, so what says that the comparison is the harness's is the saved run's own facts."""
    if "harness" in (compared_benchmark.get("machine_info") or {}):
        from harness.bench.environment import machine_identity

        for info in (machine_info, compared_benchmark.setdefault("machine_info", {})):
            identity = machine_identity(info)
            info.clear()
            info.update(identity)
    return (yield)
