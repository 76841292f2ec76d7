"""The scenario catalogue (docs/scenarios.md), every scenario written once as a plain async function of a provider.

`CATALOGUE` maps each scenario id to its `Scenario` (scenarios/base.py says what a scenario function is and
which untimed steps come with it, its sizes included), in the catalogue's order: the order of the family modules
below. `FAMILIES` is that order, the one every listing, table and chart follows.

The scenarios layer sits above harness.core and harness.databases, the only layers it may import (no ORM, no
bench or report code: tests/test_layers.py checks it); harness.bench runs the scenarios, harness.report lists them.
"""

from __future__ import annotations

from scenarios import audit, bulk, cache, concurrency, crud, eager, embeddings, graph, migrations, transactions, users
from scenarios.base import Scenario, ScenarioFailed, Sizes

CATALOGUE: dict[str, Scenario] = {
    s.id: s
    for family in (crud, eager, bulk, transactions, concurrency, migrations, users, audit, embeddings, graph, cache)
    for s in family.SCENARIOS
}
FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(s.family for s in CATALOGUE.values()))
POOL_FAMILIES = frozenset({"concurrency"})
"""Families whose point is the pool: the report shows each adapter's `connect`, where it configures its pool."""

__all__ = ["CATALOGUE", "FAMILIES", "POOL_FAMILIES", "Scenario", "ScenarioFailed", "Sizes"]
