"""The benchmark engine's command-line options (group "orm-harness"), parsed once per session into `BenchOptions`.

Registered by the harness's pytest plugin (harness/bench/plugin.py) in every session; parsed only in a session
that collected a harness test. Light to import (the plugin loads in every pytest session of the environment): the
catalogue is imported when the options are parsed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from harness.bench.extra_info import ADAPTER_TAX, HARNESS_FAMILY
from harness.core.adapters import BY_NAME
from harness.core.config import DatabaseConfig
from harness.core.errors import ConfigurationError
from harness.core.factory import tier_settings

if TYPE_CHECKING:
    from harness.bench.runner import Profile


DEFAULTS: dict[str, Any] = {
    "db": None,
    "quick": False,
    "concurrency": "1,8,64",
    "pool_size": "10",
    "order_seed": None,
    "adapters": ",".join(BY_NAME),
    "scenarios": None,
    "trials": None,
    "affinity": "on",
}
"""Each option's default, by its destination."""


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("orm-harness", "orm-harness benchmarks")
    group.addoption(
        "--db",
        action="append",
        default=DEFAULTS["db"],
        help="database to benchmark: sqlite (default), postgresql (a throwaway cluster) or a postgresql:// URL; "
        "repeat to run several",
    )
    group.addoption("--quick", action="store_true", help="quick profile: small dataset, 1-3 rounds (CI)")
    group.addoption("--concurrency", default=DEFAULTS["concurrency"], help="concurrent tasks, comma-separated (1,8,64)")
    group.addoption(
        "--pool-size",
        default=DEFAULTS["pool_size"],
        help="connections per pool, min = max (10), or a tier's name (PRIMARY, USERS, ...): that tier's pool "
        "configuration from the factory, as the tier will run",
    )
    group.addoption("--order-seed", type=int, default=None, help="seed of the adapters' order (default: random)")
    group.addoption("--adapters", default=DEFAULTS["adapters"], help="adapters to benchmark, comma-separated")
    group.addoption("--scenarios", default=None, help="scenario ids or families to run, comma-separated (all)")
    group.addoption(
        "--trials",
        type=int,
        default=None,
        help="passes over the suite, each measuring every benchmark anew (default: the profile's, full 2 on SQLite and "
        "4 on PostgreSQL, quick 1)",
    )
    group.addoption(
        "--affinity",
        choices=("on", "off"),
        default=DEFAULTS["affinity"],
        help="pin the measured code to CPUs: the harness on one CPU for SQLite, the throwaway PostgreSQL server on "
        "the last CPU and the harness on the others (on, where the machine allows it)",
    )


def given(config: pytest.Config) -> bool:
    """Whether the command line set any of the harness's options."""
    return any(config.getoption(name) != default for name, default in DEFAULTS.items())


@dataclass(frozen=True)
class BenchOptions:
    """The parsed options. `databases` maps a label used in ids (`sqlite`, `postgresql`) to its --db spec."""

    databases: dict[str, str]
    profile: Profile
    concurrency: tuple[int, ...]
    pool_size: int
    pool_tier: str | None
    """The tier whose pool configuration every provider gets (`--pool-size USERS`); None for a number."""
    order_seed: int
    adapters: tuple[str, ...]
    scenarios: frozenset[str]
    trials: dict[str, int]
    """Passes over the suite per database label: the profile's for its dialect, or --trials for every one."""
    affinity: bool

    @property
    def pool(self) -> dict[str, Any]:
        """The pool settings every provider gets: the tier's from the factory, else `pool_size` for min and max."""
        return tier_settings(self.pool_tier) if self.pool_tier else {"pool_size": self.pool_size}

    def selects(self, scenario_id: str, family: str) -> bool:
        return scenario_id in self.scenarios or family in self.scenarios

    @property
    def statements_database(self) -> str:
        """The label of the PostgreSQL database the pg_stat_statements check runs on (the first given, else
        the throwaway cluster)."""
        return next((label for label in self.databases if label.startswith("postgresql")), "postgresql")

    def spec(self, label: str) -> str:
        return self.databases.get(label, label)


_KEY = pytest.StashKey[BenchOptions]()


def bench_options(config: pytest.Config) -> BenchOptions:
    """The session's options, parsed (and the order seed drawn) on first use."""
    if _KEY not in config.stash:
        config.stash[_KEY] = _parse(config)
    return config.stash[_KEY]


def _parse(config: pytest.Config) -> BenchOptions:
    from harness.bench.runner import FULL, QUICK
    from scenarios import CATALOGUE, FAMILIES

    adapters = _items(config.getoption("adapters"))
    if unknown := set(adapters) - set(BY_NAME):
        raise pytest.UsageError(f"--adapters: unknown {', '.join(sorted(unknown))} (known: {', '.join(BY_NAME)})")
    known = {*CATALOGUE, *FAMILIES, HARNESS_FAMILY, "round_overhead", ADAPTER_TAX}
    scenarios = _items(config.getoption("scenarios")) or tuple(known)
    if unknown := set(scenarios) - known:
        raise pytest.UsageError(f"--scenarios: unknown {', '.join(sorted(unknown))} (ids or families)")
    try:
        concurrency = tuple(int(c) for c in _items(config.getoption("concurrency")))
    except ValueError:
        raise pytest.UsageError("--concurrency takes integers, e.g. 1,8,32,64") from None
    pool_size, pool_tier = _pool(config.getoption("pool_size"))
    if not concurrency or min(concurrency) < 1 or pool_size < 1:
        raise pytest.UsageError("--concurrency and --pool-size must be positive")
    seed = config.getoption("order_seed")
    profile = QUICK if config.getoption("quick") else FULL
    trials = config.getoption("trials")
    if trials is not None and trials < 1:
        raise pytest.UsageError("--trials must be positive")
    databases = _databases(config.getoption("db") or ["sqlite"])
    return BenchOptions(
        databases=databases,
        profile=profile,
        concurrency=concurrency,
        pool_size=pool_size,
        pool_tier=pool_tier,
        order_seed=random.SystemRandom().randrange(2**31) if seed is None else seed,
        adapters=adapters,
        scenarios=frozenset(scenarios),
        trials={label: trials or profile.trials[label.rstrip("0123456789")] for label in databases},
        affinity=config.getoption("affinity") == "on",
    )


def _pool(value: str) -> tuple[int, str | None]:
    """`--pool-size`: a number, or a tier whose size the factory gives (`tier_settings`)."""
    if value.strip().lstrip("-").isdigit():
        return int(value), None
    try:
        return int(tier_settings(value)["pool_size"]), value.strip().upper()
    except ConfigurationError as exc:
        raise pytest.UsageError(f"--pool-size takes a number or a tier: {exc}") from None


def _items(value: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (value or "").split(",") if item.strip())


def _databases(specs: list[str]) -> dict[str, str]:
    """Label each --db: its dialect, numbered from the second of the same dialect on (postgresql2)."""
    databases: dict[str, str] = {}
    for spec in dict.fromkeys(specs):
        try:
            dialect = spec if spec in ("sqlite", "postgresql") else DatabaseConfig(spec).dialect
        except ConfigurationError as exc:
            raise pytest.UsageError(f"--db {spec!r}: {exc}") from None
        if dialect != "postgresql" and spec != "sqlite":
            raise pytest.UsageError(f"--db takes sqlite, postgresql or a postgresql:// URL, not {spec!r}")
        label, n = dialect, 1
        while label in databases:
            n += 1
            label = f"{dialect}{n}"
        databases[label] = spec
    return databases


def summary(options: BenchOptions) -> str:
    """The line the session prints once it has collected harness tests."""
    tier = f" (tier {options.pool_tier})" if options.pool_tier else ""
    return (
        f"orm-harness benchmarks: profile {options.profile.name}, databases {', '.join(options.databases)}, "
        f"pool size {options.pool_size}{tier}, concurrency {','.join(map(str, options.concurrency))}, "
        f"trials {', '.join(f'{label} {n}' for label, n in options.trials.items())}, order seed {options.order_seed}"
    )
