"""orm-harness: measure async ORMs against a raw-SQL baseline, per database tier.

The harness is layered, lowest first. A module imports from its own layer and the rows above it in this table,
never from a row below it; tests/test_layers.py checks this, and that no import cycle exists:

| layer               | holds                                                                     | may import       |
| ------------------- | ------------------------------------------------------------------------- | ---------------- |
| `harness.core`      | provider contract, schema, errors, config, dataset, versions, the tiers   | nothing else     |
|                     | enum + adapter registry + factory, statement counter, concurrency helpers |                  |
| `harness.databases` | throwaway PostgreSQL and Redis, targets, isolation, ownership, catalog    | core             |
| `scenarios`         | the benchmark scenarios (a top-level package): async functions            | core, databases  |
| `harness.bench`     | the benchmark runner, workloads, pool and pg_stat probes, run log, the    | the rows above   |
|                     | pytest plugin (entry point `orm_harness`) and the suite it runs           |                  |
| `harness.report`    | results table, charts, report, compare, tier recommendation, sources      | the rows above   |
| `harness.cli`       | the `orm-harness` command: entry point, commands, error net               | everything       |

`backends` (one package per adapter: its provider, models and migrations) implements the contract and imports
`harness.core` only; the harness reaches a backend only through the adapter registry's "module:Class" strings
(harness/core/adapters.py, imported by harness/core/factory.py).
"""
