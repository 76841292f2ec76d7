"""One tidy results table, loaded from pytest-benchmark's JSON: the only input of charts, reports and comparisons.

`load_run(path)` reads a run directory (its `benchmark.json`) or a JSON file and returns a `Run`: a long
pandas table with one row per measured value, and the run's environment.

The table's columns (`COLUMNS`): run, adapter, database, scenario, family, parameter, metric, value, unit.
`parameter` is `""` or `"concurrency=8"` / `"size=1000"` (`key=value` joined by `,`). The metrics (`METRICS`
names each with its unit) are pytest-benchmark's time statistics of one operation in seconds, every raw
timing sample as a `time_sample` row (kept for the significance test of `compare`), and the harness's
own measurements from `extra_info`: statements, rows and peak memory per operation, pool gauges and acquire
wait, throughput and latency of concurrency runs. A metric an adapter or database does not have (no pool
on SQLite) is simply absent, never a zero.

The environment is a dict: `schema_version`, `run_id`, `datetime`, `profile`, the suite's run-level facts
(`harness`: databases and their settings, order seed, CPU, ...), versions and connection model per adapter
and database, each scenario's family and label, and the adapter tax (`adapter_tax`, harness/report/tax.py).

Schema versions: every benchmark carries `extra_info["harness_schema"]`. A file whose version is newer than
`RESULTS_SCHEMA` (harness/bench/extra_info.py, which writes it) is refused with a message saying so. Schema 1 (before
trials and interleaved rounds) needs no migration: its benchmarks read as one trial each, their samples unpaired.

Trials: a run measures each benchmark once per trial (harness/bench/interleave.py); `pooled_trials` makes them one
benchmark before the table is built, every trial's samples together (in trial order), plus `trials`, `trial_median`
and `trial_rounds` (one row per trial: its median and how many of the samples are its rounds; `trial_samples` splits
the samples by them) and `trial_spread` (the largest trial median over the smallest).
"""

from __future__ import annotations

import json
import math
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from itertools import accumulate, combinations, pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.bench.extra_info import ADAPTER_TAX, HARNESS_FAMILY, RESULTS_SCHEMA
from harness.bench.runrecord import recover
from harness.core import adapters
from harness.core.errors import HarnessError
from harness.report import statistics
from harness.report.tax import adapter_tax
from scenarios import CATALOGUE, FAMILIES
from scenarios.resilience import FAMILY as RESILIENCE_FAMILY

COLUMNS = ["run", "adapter", "database", "scenario", "family", "parameter", "metric", "value", "unit"]
KEYS = ["run", "adapter", "database", "scenario", "family", "parameter"]
"""The columns that identify one benchmark."""
BASELINE = adapters.BASELINE
"""The adapter every ORM is measured against; shown for scale, never recommended (harness/core/adapters.py)."""
ORMS = adapters.ORMS
"""The adapters ranked: neither the baseline nor a reference store (shown for scale on its tier's scenarios)."""
ADAPTER_ORDER = adapters.REPORT_ORDER
FAMILY_ORDER = FAMILIES
"""The scenario families in catalogue order (scenarios/__init__.py declares it)."""
UNSTABLE_CV = 0.10
"""A coefficient of variation at or above this marks a result as unstable (as pyperf warns)."""
BENCHMARK_FILE = "benchmark.json"
TABLE_FILE = "results.csv"
ENVIRONMENT_FILE = "environment.json"

_TIME_STATS = ("min", "max", "mean", "median", "stddev", "iqr", "q1", "q3")
METRICS: dict[str, str] = {
    **{f"time_{stat}": "s" for stat in _TIME_STATS},
    "time_cv": "ratio",
    "time_sample": "s",
    "ops": "op/s",
    "rounds": "rounds",
    "statements_round_trips": "statements/op",
    "statements_executions": "statements/op",
    "statements_queries": "statements/op",
    "rows_per_op": "rows/op",
    "memory_peak": "bytes/op",
    "pool_min": "connections",
    "pool_max": "connections",
    "pool_size": "connections",
    "pool_checked_out_peak": "connections",
    "pool_idle": "connections",
    "pool_overflow": "connections",
    "pool_acquire_wait_p50": "ms",
    "pool_acquire_wait_p99": "ms",
    "concurrency_tasks": "tasks",
    "concurrency_operations": "operations",
    "throughput": "op/s",
    "latency_p50": "ms",
    "latency_p95": "ms",
    "latency_p99": "ms",
    "order_position": "position",
    "calls_per_round": "calls",
    "median_precision": "ratio",
    "trials": "trials",
    "trial_spread": "ratio",
    "trial_median": "s",
    "trial_rounds": "rounds",
}
"""Every metric of the table and its unit."""


class ResultsError(HarnessError):
    """A results file that cannot be read: missing, corrupt, not the harness's, or from a newer version."""


@dataclass(frozen=True)
class Run:
    """A loaded run: the tidy table and the run's environment."""

    table: pd.DataFrame
    environment: dict[str, Any]
    source: Path

    @property
    def run_id(self) -> str:
        return str(self.environment["run_id"])

    @property
    def directory(self) -> Path:
        """Where the run's table, charts and report are written: the JSON's directory."""
        return self.source.parent


def benchmark_path(path: str | Path) -> Path:
    """The JSON of a run given as a directory or a file."""
    path = Path(path)
    if path.is_dir():
        recover(path)  # a run killed before it wrote its JSON: rebuilt from its record, marked partial
        path = path / BENCHMARK_FILE
    if not path.is_file():
        raise ResultsError(f"no results file at {path}")
    return path


def load_run(path: str | Path) -> Run:
    """Read a run directory or pytest-benchmark JSON file into a `Run`."""
    source = benchmark_path(path)
    document = _read_json(source)
    found = _harness_benchmarks(document, source)
    benchmarks = [b for b in found if b["extra_info"].get("family") not in (HARNESS_FAMILY, RESILIENCE_FAMILY)]
    if not benchmarks:
        raise ResultsError(f"results file {source} holds no adapter benchmarks")
    run_id = _run_id(document, source)
    benchmarks = pooled_trials(benchmarks)
    rows = [row for bench in benchmarks for row in _rows(bench, run_id, source)]
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["value"] = table["value"].astype(float)
    environment = _environment(document, benchmarks, run_id)
    environment["overhead"] = _overhead([b for b in found if b not in benchmarks])
    environment["resilience"] = _resilience(found)
    environment[ADAPTER_TAX] = adapter_tax(found)
    return Run(table, environment, source)


def load_tax(path: str | Path) -> list[dict[str, Any]]:
    """The adapter tax of a run (`adapter_tax`'s rows), which a run of the tax alone (`--scenarios adapter_tax`) holds
    without any adapter benchmark for `load_run`."""
    source = benchmark_path(path)
    return adapter_tax(_harness_benchmarks(_read_json(source), source))


def pooled_trials(benchmarks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One benchmark per adapter, database, scenario and parameter: the run's trials of it pooled (`_pooled`)."""
    trials: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for bench in benchmarks:
        info = bench["extra_info"]
        key = (info.get("adapter"), info.get("database"), info.get("scenario"), parameter_key(info.get("parameter")))
        trials.setdefault(key, []).append(bench)
    return [_pooled(sorted(group, key=lambda b: b["extra_info"].get("trial") or 1)) for group in trials.values()]


def _pooled(trials: list[dict[str, Any]]) -> dict[str, Any]:
    """A benchmark's trials as one: every trial's samples together, in trial order (the rounds of the adapters of
    a group stay paired: each trial gave each adapter the same rounds), the statistics recomputed from them, the
    first trial's probes (only it probes), `trial_medians` and `trial_rounds`. Without the samples (pytest-benchmark
    stores them with --benchmark-save-data, which `orm-harness run` passes) the statistics are the first trial's."""
    first = trials[0]
    info = {**first["extra_info"], "trial_medians": [b["stats"]["median"] for b in trials]}
    samples = [b["stats"].get("data") for b in trials]
    if not all(samples):
        return {**first, "extra_info": info}
    info["trial_rounds"] = [len(trial or ()) for trial in samples]
    if len(trials) == 1:
        return {**first, "extra_info": info}
    data = [value for trial in samples for value in trial or ()]
    stats = _statistics(data)
    if (concurrency := info.get("concurrency")) is not None:
        latencies = [b["extra_info"]["concurrency"]["latency_ms"] for b in trials]
        info["concurrency"] = {
            **concurrency,
            "throughput_ops_s": round(concurrency["operations"] / stats["median"], 2),
            "latency_ms": {q: _median_of([t.get(q) for t in latencies]) for q in concurrency["latency_ms"]},
        }
    return {**first, "stats": stats, "extra_info": info}


def _statistics(data: list[float]) -> dict[str, Any]:
    """pytest-benchmark's statistics of pooled samples (the ones the report reads)."""
    values = pd.Series(data, dtype=float)
    q1, median, q3 = (float(values.quantile(q)) for q in (0.25, 0.5, 0.75))
    mean = float(values.mean())
    return {
        "min": float(values.min()),
        "max": float(values.max()),
        "mean": mean,
        "median": median,
        "stddev": float(values.std()) if len(values) > 1 else 0.0,
        "q1": q1,
        "q3": q3,
        "iqr": q3 - q1,
        "ops": 1 / mean if mean else None,
        "rounds": len(values),
        "data": data,
    }


def _median_of(values: list[Any]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return float(pd.Series(present).median()) if present else None


def _resilience(benchmarks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The server-restart figures per adapter and database (scenarios/resilience.py says what each means)."""
    infos = [b["extra_info"] for b in benchmarks if b["extra_info"].get("family") == RESILIENCE_FAMILY]
    return [
        {"adapter": info.get("adapter"), "database": info.get("database"), **info["resilience"]}
        for info in infos
        if isinstance(info.get("resilience"), dict)
    ]


def save_table(run: Run, directory: Path | None = None) -> Path:
    """Write the tidy table as CSV and the environment as JSON next to it; returns the CSV's path."""
    directory = directory or run.directory
    directory.mkdir(parents=True, exist_ok=True)
    run.table.to_csv(directory / TABLE_FILE, index=False)
    (directory / ENVIRONMENT_FILE).write_text(json.dumps(run.environment, indent=2, default=str) + "\n")
    return directory / TABLE_FILE


def _read_json(source: Path) -> dict[str, Any]:
    try:
        document = json.loads(source.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(f"cannot read results file {source}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ResultsError(f"results file {source} is corrupt (not valid JSON: {exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("benchmarks"), list):
        raise ResultsError(f"results file {source} is corrupt: no 'benchmarks' list (not pytest-benchmark JSON)")
    return document


def _harness_benchmarks(document: Mapping[str, Any], source: Path) -> list[dict[str, Any]]:
    """The benchmarks the harness wrote, after checking their schema version (the harness's own included)."""
    found = []
    for bench in document["benchmarks"]:
        info = bench.get("extra_info") if isinstance(bench, dict) else None
        if not isinstance(info, dict) or "harness_schema" not in info:
            continue
        version = info["harness_schema"]
        if not isinstance(version, int):
            raise ResultsError(f"results file {source} is corrupt: harness_schema {version!r} is not an integer")
        if version > RESULTS_SCHEMA:
            raise ResultsError(
                f"results file {source} has results schema {version}, newer than this orm-harness reads "
                f"({RESULTS_SCHEMA}): upgrade orm-harness to read it"
            )
        found.append(bench)
    if not found:
        raise ResultsError(f"results file {source} holds no orm-harness benchmarks (no extra_info.harness_schema)")
    return found


def _run_id(document: Mapping[str, Any], source: Path) -> str:
    harness = (document.get("machine_info") or {}).get("harness") or {}
    return str(harness.get("run_id") or source.parent.name or source.stem)


def parameter_key(parameter: Mapping[str, Any] | None) -> str:
    """`{"concurrency": 8}` -> `"concurrency=8"`; `{}` -> `""`."""
    return ",".join(f"{key}={value}" for key, value in sorted((parameter or {}).items()))


def parameter_value(parameter: str, key: str) -> float | None:
    """The number `key` has in a parameter string, or None."""
    for part in parameter.split(","):
        name, _, value = part.partition("=")
        if name == key:
            return float(value)
    return None


def _rows(bench: Mapping[str, Any], run_id: str, source: Path) -> Iterator[tuple[Any, ...]]:
    try:
        info, stats = bench["extra_info"], bench["stats"]
        keys = (run_id, info["adapter"], info["database"], info["scenario"], info["family"])
        parameter = parameter_key(info.get("parameter"))
        for metric, value in _metrics(info, stats):
            if value is not None and not (isinstance(value, float) and math.isnan(value)):
                yield (*keys, parameter, metric, float(value), METRICS[metric])
    except (KeyError, TypeError, ValueError) as exc:
        name = bench.get("fullname") or bench.get("name") or "?"
        raise ResultsError(f"results file {source} is corrupt: benchmark {name} lacks or mangles {exc}") from None


def _metrics(info: Mapping[str, Any], stats: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """(metric, value) pairs of one benchmark; values may be None where not measured."""
    for stat in _TIME_STATS:
        yield f"time_{stat}", stats[stat]
    yield "time_cv", stats["stddev"] / stats["mean"] if stats["mean"] else None
    yield "ops", stats.get("ops")
    yield "rounds", stats["rounds"]
    for sample in stats.get("data") or ():
        yield "time_sample", sample
    for kind in ("round_trips", "executions", "queries"):
        yield f"statements_{kind}", (info.get("statements") or {}).get(kind)
    yield "rows_per_op", info.get("rows_per_op")
    yield "memory_peak", info.get("memory_peak_bytes")
    yield "order_position", info.get("order_position")
    yield "calls_per_round", info.get("calls_per_round")
    yield "median_precision", info.get("median_precision")
    medians = info.get("trial_medians") or [stats["median"]]
    yield "trials", len(medians)
    yield "trial_spread", max(medians) / min(medians) if min(medians) > 0 else None
    for median in medians:
        yield "trial_median", median
    for rounds in info.get("trial_rounds") or ():
        yield "trial_rounds", rounds
    pool = info.get("pool") or {}
    for gauge in ("min", "max", "size", "checked_out_peak", "idle", "overflow"):
        yield f"pool_{gauge}", pool.get(gauge)
    for quantile in ("p50", "p99"):
        yield f"pool_acquire_wait_{quantile}", pool.get(f"acquire_wait_{quantile}_ms")
    concurrency = info.get("concurrency") or {}
    yield "concurrency_tasks", concurrency.get("tasks")
    yield "concurrency_operations", concurrency.get("operations")
    yield "throughput", concurrency.get("throughput_ops_s")
    for quantile in ("p50", "p95", "p99"):
        yield f"latency_{quantile}", (concurrency.get("latency_ms") or {}).get(quantile)


def _environment(document: Mapping[str, Any], benchmarks: list[dict[str, Any]], run_id: str) -> dict[str, Any]:
    machine = document.get("machine_info") or {}
    harness = machine.get("harness") or {}
    first = benchmarks[0]["extra_info"]
    adapters: dict[str, dict[str, Any]] = {}
    scenarios: dict[str, dict[str, str]] = {}
    for bench in benchmarks:
        info = bench["extra_info"]
        adapters.setdefault(info["adapter"], {})[info["database"]] = {
            **(info.get("versions") or {}),
            "connection_model": info.get("connection_model"),
            "pool_size": info.get("pool_size"),
        }
        scenarios[info["scenario"]] = {"family": info["family"], "label": info.get("label") or info["scenario"]}
    return {
        "schema_version": RESULTS_SCHEMA,
        "run_id": run_id,
        "datetime": harness.get("started") or document.get("datetime"),
        "profile": harness.get("profile") or first.get("profile"),
        "order_seed": harness.get("order_seed", first.get("order_seed")),
        "pytest_benchmark": document.get("version"),
        "machine": _machine(machine),
        "commit": document.get("commit_info") or {},
        "harness": harness,
        "adapters": adapters,
        "scenarios": scenarios,
    }


def _overhead(benchmarks: list[dict[str, Any]]) -> dict[str, float]:
    """The harness's own cost per round (the suite's `round_overhead` benchmark), in microseconds."""
    for bench in benchmarks:
        if bench["extra_info"].get("scenario") == "round_overhead":
            overhead = {"round_median_us": bench["stats"]["median"] * 1e6}
            if (driving := bench["extra_info"].get("driving_median_us")) is not None:
                overhead["driving_median_us"] = float(driving)
            return overhead
    return {}


def _machine(machine: Mapping[str, Any]) -> dict[str, Any]:
    cpu = machine.get("cpu") or {}
    return {
        "node": machine.get("node"),
        "system": f"{machine.get('system', '')} {machine.get('release', '')}".strip(),
        "cpu": cpu.get("brand_raw") or machine.get("processor") or machine.get("machine"),
        "cpu_count": cpu.get("count"),
        "python": f"{machine.get('python_implementation', '')} {machine.get('python_version', '')}".strip(),
    }


def benchmarks_wide(table: pd.DataFrame, metrics: tuple[str, ...] | None = None) -> pd.DataFrame:
    """One row per benchmark (the `KEYS`), one column per metric (all but the samples, unless named)."""
    rows = table[table["metric"] != "time_sample"] if metrics is None else table[table["metric"].isin(metrics)]
    wide = rows.pivot_table(index=KEYS, columns="metric", values="value", aggfunc="first")
    wide.columns.name = None
    if metrics is not None:  # a metric no benchmark has (no pool on SQLite) is a column of NaN, not a KeyError
        wide = wide.reindex(columns=list(metrics))
    return wide.reset_index()


SAMPLE_KEYS = ["adapter", "database", "scenario", "parameter"]
Samples = dict[tuple[str, str, str, str], list[float]]
"""Raw timing samples keyed by (adapter, database, scenario, parameter)."""


def samples(table: pd.DataFrame) -> Samples:
    """The raw timing samples of each benchmark of one run, keyed by (adapter, database, scenario, parameter)."""
    rows = table[table["metric"] == "time_sample"]
    return {key: list(group["value"]) for key, group in rows.groupby(SAMPLE_KEYS, sort=False)}


TrialSamples = dict[tuple[str, str, str, str], list[list[float]]]
"""Raw timing samples trial by trial, keyed like `Samples`."""


def trial_samples(table: pd.DataFrame) -> TrialSamples:
    """`samples` split into the run's trials by their `trial_rounds` (one trial where a table has none)."""
    rounds = table[table["metric"] == "trial_rounds"].groupby(SAMPLE_KEYS, sort=False)["value"]
    counts = {key: [int(n) for n in group] for key, group in rounds}
    return {key: _split(values, counts.get(key, [len(values)])) for key, values in samples(table).items()}


def _split(values: list[float], counts: list[int]) -> list[list[float]]:
    if sum(counts) != len(values):
        return [values]
    bounds = [0, *accumulate(counts)]
    return [values[start:end] for start, end in pairwise(bounds)]


def time_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per benchmark: median, spread (IQR, CV), rounds, and the ratios to the fastest ORM and to raw.

    Computed once per table (its bootstrap intervals take seconds): the report, its charts and the tier
    recommendation each ask for the summary of the same run's table, which nothing changes once loaded.

    The ratios compare adapters on the same database, scenario and parameter: `statistics.ratio` of their trial
    samples (paired rounds within a trial, the trials' geometric mean; the medians' ratio where the table has no
    samples). `fastest` names the fastest ORM, the one no other ORM is faster than (the baseline and any reference
    store left out: which ORM is the question; raw's own row then says how far below that ORM the database itself
    is, a reference store's how far another kind of store is). Each ratio
    comes with its 95 percent bootstrap interval (`fastest_low`/`fastest_high`, `raw_low`/`raw_high`; NaN with
    fewer than `statistics.MIN_SAMPLES` rounds, and for the fastest ORM and raw themselves); `tied` is True where
    an adapter's interval against the fastest ORM reaches into the equivalence band around 1.0 (`statistics.is_tie`:
    not told apart), False where it is beyond it, None where there is no interval (and for the fastest ORM itself).
    `unstable` flags a CV of `UNSTABLE_CV` or more.
    """
    cached = _SUMMARIES.get(id(table))
    if cached is None or cached[0]() is not table:  # an id is reused once its table is gone
        _SUMMARIES.clear()  # one table at a time: the run being reported
        cached = _SUMMARIES[id(table)] = (weakref.ref(table), _time_summary(table))
    return cached[1].copy()


_SUMMARIES: dict[int, tuple[weakref.ref[pd.DataFrame], pd.DataFrame]] = {}


def _time_summary(table: pd.DataFrame) -> pd.DataFrame:
    wide = benchmarks_wide(
        table, ("time_median", "time_iqr", "time_q1", "time_q3", "time_cv", "rounds", "calls_per_round", "trial_spread")
    )
    cases = list(zip(wide["database"], wide["scenario"], wide["parameter"], strict=True))
    between = Ratios(table)
    orms: dict[Case, list[str]] = {}
    for adapter, case in zip(wide["adapter"], cases, strict=True):
        if adapter in ORMS:
            orms.setdefault(case, []).append(adapter)
    fastest = {case: between.fastest(names, case) for case, names in orms.items()}
    with_raw = {case for adapter, case in zip(wide["adapter"], cases, strict=True) if adapter == BASELINE}
    wide["fastest"] = [fastest.get(case) for case in cases]
    wide["ratio_to_fastest"] = [
        between(adapter, fastest[case], case) if case in fastest else math.nan
        for adapter, case in zip(wide["adapter"], cases, strict=True)
    ]
    wide["ratio_to_raw"] = [
        between(adapter, BASELINE, case) if case in with_raw else math.nan
        for adapter, case in zip(wide["adapter"], cases, strict=True)
    ]
    wide = _with_intervals(wide, between)
    wide["unstable"] = wide["time_cv"] >= UNSTABLE_CV
    return order(wide)


Case = tuple[str, str, str]
"""(database, scenario, parameter): what a run measured every adapter on."""


class Ratios:
    """One adapter's time over another's in a case of one run's table: `statistics.ratio` of their trial samples, the
    ratio of their medians where the table has no samples (NaN where either was not measured); their bootstrap
    interval and draws, with the run's trial effect on the case's database (`statistics.trial_effect`)."""

    def __init__(self, table: pd.DataFrame) -> None:
        self.found = trial_samples(table)
        medians = table[table["metric"] == "time_median"]
        self.medians = dict(zip(zip(*(medians[k] for k in SAMPLE_KEYS), strict=True), medians["value"], strict=True))
        self.trial_effects = _trial_effects(self.found)

    def interval(self, adapter: str, other: str, case: Case) -> tuple[float, float] | None:
        """`statistics.ratio_interval` of adapter over other in `case`, with its database's trial effect."""
        return statistics.ratio_interval(*self._pair(adapter, other, case), statistics.rng(), self._effect(case))

    def draws(self, adapter: str, other: str, case: Case, generator: np.random.Generator) -> np.ndarray | None:
        """`statistics.resampled_log_ratios` of adapter over other in `case`, with its database's trial effect."""
        return statistics.resampled_log_ratios(*self._pair(adapter, other, case), generator, self._effect(case))

    def _pair(self, adapter: str, other: str, case: Case) -> tuple[statistics.Trials | None, statistics.Trials | None]:
        return self.found.get((adapter, *case)), self.found.get((other, *case))

    def _effect(self, case: Case) -> float:
        return self.trial_effects.get(case[0], 0.0)

    def __call__(self, adapter: str, other: str, case: Case) -> float:
        paired = statistics.ratio(self.found.get((adapter, *case)), self.found.get((other, *case)))
        if paired is not None:
            return paired
        return self.medians.get((adapter, *case), math.nan) / self.medians.get((other, *case), math.nan)

    def fastest(self, adapters: list[str], case: Case) -> str:
        """The adapter no other beats: the one whose largest ratio over another is the smallest (the ratios of paired
        rounds need not be transitive; where one adapter is at most 1.0 against every other, it is that one)."""
        return min(adapters, key=lambda a: max((self(a, other, case) for other in adapters if other != a), default=1.0))


def _trial_effects(found: TrialSamples) -> dict[str, float]:
    """Per database, `statistics.trial_effect` over every pair of adapters in each of its cases."""
    by_case: dict[Case, list[list[list[float]]]] = {}
    for (_adapter, database, scenario, parameter), trials in found.items():
        by_case.setdefault((database, scenario, parameter), []).append(trials)
    pairs: dict[str, list[tuple[statistics.Trials, statistics.Trials]]] = {}
    for (database, _, _), measured in by_case.items():
        pairs.setdefault(database, []).extend(combinations(measured, 2))
    return {database: statistics.trial_effect(among) for database, among in pairs.items()}


def below_the_floor(summary: pd.DataFrame) -> list[str]:
    """The honesty check of a run: the raw baseline is the floor, so an ORM faster than raw beyond the noise (its
    interval against raw entirely below 1, clear of the equivalence band: statistics.py) is a measurement defect
    (server state that differs between adapters, too few rounds, or raw off its fastest path), one line each.
    Below raw within the noise is not flagged, nor is a reference store, another kind of store that may well be
    faster than SQL."""
    beaten = summary[summary["adapter"].isin(ORMS) & (summary["raw_high"] < 1 / (1 + statistics.EQUIVALENCE))]
    return [
        f"honesty check failed: {row.adapter} beat the raw baseline on `{row.scenario}"
        f"{f'[{row.parameter}]' if row.parameter else ''}` ({row.database}) beyond the noise: "
        f"{row.ratio_to_raw:.2f}x raw ({row.raw_low:.2f}-{row.raw_high:.2f}); the baseline must be the floor"
        for row in beaten.itertuples()
    ]


def _with_intervals(wide: pd.DataFrame, between: Ratios) -> pd.DataFrame:
    """The bootstrap intervals of each adapter's ratios to the fastest ORM and to raw (statistics.py)."""
    columns: dict[str, list[Any]] = {"fastest_low": [], "fastest_high": [], "raw_low": [], "raw_high": [], "tied": []}
    for row in wide.itertuples():
        case = (row.database, row.scenario, row.parameter)
        against_fastest = None if row.adapter == row.fastest else between.interval(row.adapter, row.fastest, case)
        against_raw = None if row.adapter == BASELINE else between.interval(row.adapter, BASELINE, case)
        for name, interval in (("fastest", against_fastest), ("raw", against_raw)):
            columns[f"{name}_low"].append(interval[0] if interval else math.nan)
            columns[f"{name}_high"].append(interval[1] if interval else math.nan)
        columns["tied"].append(statistics.is_tie(against_fastest))
    return wide.assign(**columns)


def order(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by database, family, scenario (catalogue order), parameter (numerically) and adapter."""
    rankers = {
        "database": lambda s: s,
        "family": lambda s: s.map(_ranker(FAMILY_ORDER)),
        "scenario": lambda s: s.map(_ranker(scenario_order())),
        "parameter": lambda s: s.map(_parameter_rank),
        "adapter": lambda s: s.map(_ranker(ADAPTER_ORDER)),
    }
    keys = pd.DataFrame({name: rank(frame[name]) for name, rank in rankers.items() if name in frame})
    return frame.loc[keys.sort_values(list(keys.columns), kind="stable").index].reset_index(drop=True)


def scenario_order() -> tuple[str, ...]:
    """Scenario ids in catalogue order."""
    return tuple(CATALOGUE)


def _ranker(names: tuple[str, ...]) -> Callable[[str], tuple[int, str]]:
    """Known names in their given order, then unknown ones by name."""
    positions = {name: position for position, name in enumerate(names)}
    return lambda name: (positions.get(name, len(positions)), name)


def _parameter_rank(parameter: str) -> float:
    numbers = [float(part.partition("=")[2]) for part in parameter.split(",") if "=" in part]
    return numbers[0] if numbers else -1.0


def adapters_in(table: pd.DataFrame) -> list[str]:
    """The adapters of a table, raw first, then the catalogue's order, then any other by name."""
    present = set(table["adapter"])
    return [a for a in ADAPTER_ORDER if a in present] + sorted(present - set(ADAPTER_ORDER))
