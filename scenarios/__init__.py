"""The scenario catalogue (docs/scenarios.md), every scenario written once as a plain async function of a provider.

`CATALOGUE` maps each scenario id to its `Scenario` (scenarios/base.py says what a scenario function is and
which untimed steps come with it), in the catalogue's order: crud, eager, bulk, transactions, concurrency,
migrations.

The scenarios layer sits above harness.core and harness.databases, the only layers it may import (no ORM, no
bench or report code: tests/test_layers.py checks it); harness.bench runs the scenarios, harness.report lists them.
"""

from __future__ import annotations

from scenarios import bulk, concurrency, crud, eager, migrations, transactions
from scenarios.base import Scenario, ScenarioFailed

CATALOGUE: dict[str, Scenario] = {
    s.id: s for family in (crud, eager, bulk, transactions, concurrency, migrations) for s in family.SCENARIOS
}
FAMILIES = ("crud", "eager", "bulk", "transactions", "concurrency", "migrations")

__all__ = ["CATALOGUE", "FAMILIES", "Scenario", "ScenarioFailed"]
