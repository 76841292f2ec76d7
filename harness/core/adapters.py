"""The adapters, each declared once: every other module (factory, environment, results table, charts) reads this.

An adapter is a backend package implementing the provider contract. Its declaration names where its provider class
lives ("module:Class", imported only when asked for, see `harness.core.factory.adapter_class`), the pip extra of
pyproject.toml that installs what it needs, the distribution of its ORM (recorded with every run's versions; None
for the raw-SQL baseline, which has no ORM), its colour in every chart, and whether it is the baseline every ORM is
measured against (scored for scale, never recommended). Adding an adapter is one entry here plus its package in
`backends/`; tests/test_factory.py checks each entry against pyproject.toml's extras.
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
)
"""Every adapter, in the order the harness runs and lists them."""

BY_NAME: dict[str, Adapter] = {adapter.name: adapter for adapter in REGISTRY}

(BASELINE,) = (adapter.name for adapter in REGISTRY if adapter.baseline)
"""The name of the one baseline adapter."""

REPORT_ORDER: tuple[str, ...] = (BASELINE, *(a.name for a in REGISTRY if not a.baseline))
"""The order of adapters in tables and charts: the baseline first, then the others as declared."""
