"""What every benchmark records in pytest-benchmark's `extra_info`: the results schema, written in one place.

`extra_info(facts, ...)` builds the dict for every benchmark the harness writes (the scenarios, the round
overhead, the server restart), so they share one shape; `RESULTS_SCHEMA` is its version, which the run-level
facts repeat and harness/report/results.py checks before reading a file (a newer one is refused).

The keys (schema 2; the report reads exactly these). "Per operation" means per timed call, the unit
pytest-benchmark's times are in; for a concurrency run that is one round of `operations` calls.
    harness_schema; adapter; database "sqlite" | "postgresql"; scenario, family, label (the docstring);
    parameter {} | {"size": rows} | {"concurrency": tasks}; versions {"orm", "orm_version", "driver",
    "driver_version", "server", "python"}; connection_model; profile "quick" | "full"; order_seed;
    order_position (0-based, within the scenario's group); pool_size; trial (1-based: the pass over the suite
    that measured it; harness/report/results.py pools a benchmark's trials);
and what the benchmark measured (harness/bench/interleave.py, harness/bench/runner.py):
    rows_per_op: rows read or written, as the honesty check counted them;
    calls_per_round: calls each timed round made (the times are per call);
    stopped_by: why the rounds stopped: "precision" (every adapter's median known to the profile's precision),
        "cap" (the group's time cap), "max_rounds", or "one_round" (quick profile);
    median_precision: the half-width of the 95 percent interval of this adapter's median over the median
        (None below 6 rounds);
    statements, memory_peak_bytes and pool are measured in the first trial only (absent from the others):
    statements: {"round_trips", "executions", "queries"} of one call (harness/core/statements.py);
    memory_peak_bytes: tracemalloc's peak during one call above what was allocated before it, the socket
        transport's read buffer (256 KiB per read on PostgreSQL, the same for every adapter) cut to 1 KiB
        (`allocated_by` in harness/bench/runner.py): the rows, objects and statements of the operation;
    pool: None without a pool, else {"min", "max", "size" (peak), "checked_out_peak", "idle" (after the call),
        "overflow" (peak), "acquire_wait_p50_ms", "acquire_wait_p99_ms" (None if no checkout was timed),
        "acquires"} (harness/bench/pool.py);
    concurrency: None, or {"tasks", "operations", "throughput_ops_s" (operations / median round time),
        "latency_ms": {"p50", "p95", "p99"}} over every operation of the timed rounds;
    quality: None, or what the scenario measures of its answer after the timed rounds (`Scenario.quality`): for
        an approximate nearest-neighbour search (scenarios/embeddings.py, knn_hnsw) {"recall_at_k" (the share of
        the exact top-k found, mean over the queries), "k", "queries", "ef_search", "m", "ef_construction"};
    the round overhead (family `HARNESS_FAMILY`) adds `driving_median_us`, the server restart (family
    "resilience") `resilience` (scenarios/resilience.py) in their place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

RESULTS_SCHEMA = 2
"""The version of the keys above; raise it when they change (and teach harness/report/results.py the old one).
2: trials, interleaved rounds (trial, calls_per_round, stopped_by, median_precision); memory net of the socket read
buffer. A schema-1 file reads as one trial of rounds that were not interleaved."""
HARNESS_FAMILY = "harness"
"""The family of the harness's measurement of itself (`round_overhead`): environment, not results."""


@dataclass(frozen=True)
class RunFacts:
    """The run-level facts every benchmark's extra_info repeats."""

    profile: str
    order_seed: int
    pool_size: int


def extra_info(
    facts: RunFacts,
    *,
    adapter: str | None,
    database: str | None,
    scenario: str,
    family: str,
    label: str,
    parameter: Mapping[str, int],
    versions: Mapping[str, str | None],
    connection_model: str | None,
    order_position: int = 0,
    **measured: Any,
) -> dict[str, Any]:
    """One benchmark's extra_info: what it is, what it measured (`measured`), and the run it belongs to."""
    return {
        "harness_schema": RESULTS_SCHEMA,
        "adapter": adapter,
        "database": database,
        "scenario": scenario,
        "family": family,
        "label": label,
        "parameter": dict(parameter),
        **measured,
        "versions": dict(versions),
        "connection_model": connection_model,
        "profile": facts.profile,
        "order_seed": facts.order_seed,
        "order_position": order_position,
        "pool_size": facts.pool_size,
    }
