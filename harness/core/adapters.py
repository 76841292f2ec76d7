"""The adapters, each declared once: every other module (factory, environment, results table, charts) reads this.

An adapter is a backend package implementing the provider contract. Its declaration names where its provider class
lives ("module:Class", imported only when asked for, see `harness.core.factory.provider_class`), the pip extra of
pyproject.toml that installs what it needs, the distribution of its ORM (recorded with every run's versions; None
for the raw-SQL baseline, which has no ORM), its colour in every chart, and whether it is the baseline every ORM is
measured against (scored for scale, never recommended). A reference is not an adapter of the contract but another
store the seed names for a tier (Redis, its CACHE choice): a raw provider (`BaseRawProvider`) that runs only the
families it declares, shown next to the ORMs for scale, never ranked, counted as fastest or recommended. Adding an
adapter is one entry here plus its package in `backends/`; tests/test_factory.py checks each entry against
pyproject.toml's extras.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Adapter:
    name: str
    """The adapter's name everywhere: on the command line, in results, as `provider.name`."""
    target: str
    """"module:Class" of its provider."""
    extra: str
    """The extra of pyproject.toml that installs its ORM and driver: `pip install 'orm-harness[<extra>]'`."""
    orm: str | None
    """The ORM's distribution name (as `importlib.metadata` knows it); None for the baseline."""
    colour: str
    """Its colour in every chart."""
    baseline: bool = False
    """The raw-SQL floor every ORM is measured against: shown for scale, never recommended."""
    reference: tuple[str, ...] = ()
    """For a reference store, the scenario families it runs (its tier's workload; a scenario needing an operation
    its provider declares unavailable is skipped there with the declared reason, recorded with the run); empty for
    an adapter of the contract, which runs every scenario."""

    @property
    def is_reference(self) -> bool:
        return bool(self.reference)

    def runs(self, family: str) -> bool:
        """Whether the benchmarks run the scenarios of `family` on this adapter."""
        return not self.reference or family in self.reference

    @property
    def controls(self) -> str:
        """The module of its controls for the adapter tax (harness/bench/tax.py): `controls.py` beside its provider."""
        return self.target.split(":")[0].rpartition(".")[0] + ".controls"

    @property
    def requirement(self) -> str:
        """The pip requirement that installs what the adapter needs."""
        return f"orm-harness[{self.extra}]"


REGISTRY: tuple[Adapter, ...] = (
    Adapter("sqlalchemy", "backends.sqlalchemy.provider:SQLAlchemyProvider", "sqlalchemy", "sqlalchemy", "#1f77b4"),
    Adapter("tortoise", "backends.tortoise.provider:TortoiseProvider", "tortoise", "tortoise-orm", "#2ca02c"),
    Adapter("piccolo", "backends.piccolo.provider:PiccoloProvider", "piccolo", "piccolo", "#ff7f0e"),
    Adapter("raw", "backends.raw.provider:RawProvider", "raw", None, "#7f7f7f", baseline=True),
    Adapter(
        "redis",
        "backends.redis.provider:RedisProvider",
        "redis",
        None,
        "#d62728",
        reference=("cache",),
    ),
)
"""Every adapter, in the order the harness runs and lists them."""

BY_NAME: dict[str, Adapter] = {adapter.name: adapter for adapter in REGISTRY}

(BASELINE,) = (adapter.name for adapter in REGISTRY if adapter.baseline)
"""The name of the one baseline adapter."""

CONTRACT: tuple[str, ...] = tuple(a.name for a in REGISTRY if not a.is_reference)
"""The adapters of the provider contract (the ORMs and the baseline): every scenario runs on them."""

ORMS: tuple[str, ...] = tuple(name for name in CONTRACT if name != BASELINE)
"""The adapters that are ORMs: the ones ranked, counted as fastest and recommended."""

REPORT_ORDER: tuple[str, ...] = (BASELINE, *ORMS, *(a.name for a in REGISTRY if a.is_reference))
"""The order of adapters in tables and charts: the baseline first, then the ORMs as declared, then the references."""
