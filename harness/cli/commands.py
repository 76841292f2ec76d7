"""`orm-harness`: run the benchmark suite and report on it, compare runs, show the tier recommendation.

    orm-harness run [--db sqlite|postgresql|URL ...] [--adapters a,b] [--scenarios family-or-id,...] [--quick]
                    [--out DIR] [--tiers FILE] [--pool-size N] [--concurrency 1,8,64] [--order-seed N]
                    [--trials N] [--affinity on|off]
    orm-harness report RUN [--tiers FILE]
    orm-harness compare A B [--threshold 0.05] [--alpha 0.05] [--out DIR]
    orm-harness tiers [RUN ...] [--tiers FILE] [--tier NAME ...]
    orm-harness stability RUN RUN [RUN ...] [--out DIR]
    orm-harness list
    orm-harness db mark|release|check|list URL

`run` runs pytest on the installed benchmark suite (harness/bench/suite.py, through the harness's pytest plugin)
in the current directory, so it works from anywhere and from any installation. RUN is a run directory, its
benchmark.json, the name of a run under ./results/, or `latest` (the newest there). Bad input (an unknown adapter,
scenario or tier, a corrupt or newer results file, an invalid tier file) gives one line on stderr and exit status
2 (harness/cli/entry.py wraps `main` in that net); a suite with failing tests still gets its report, and exit
status 1, as does a run (or `report`) that fails its honesty check: an ORM faster than the raw baseline beyond the
noise (harness/report/results.py `below_the_floor`).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, NoReturn

import pandas as pd

from harness.bench.extra_info import ADAPTER_TAX
from harness.bench.progress import PROGRESS_FD
from harness.bench.runrecord import recover
from harness.cli.guard import SuiteSetup, stop_suite
from harness.core.adapters import BY_NAME, REGISTRY
from harness.core.config import DatabaseConfig
from harness.core.errors import ConfigurationError, redact
from harness.core.factory import RESULTS_DIR, tier_settings
from harness.databases.targets import KEEP_VARIABLE
from harness.report.compare import (
    DEFAULT_ALPHA,
    DEFAULT_THRESHOLD,
    changes_frame,
    compare_runs,
    counts,
    write_comparison,
)
from harness.report.report import ReportFiles, write_report
from harness.report.results import BENCHMARK_FILE, ResultsError, load_run, load_tax
from harness.report.stability import stability, write_stability
from harness.report.tax import tax_table
from harness.report.tiers import Tier, across_runs, load_tiers, recommend, recommendations_frame, select

SUITE = "harness.bench.suite"
"""The benchmarks `run` gives pytest, with `suite.ini` beside them as its configuration."""
EXIT_GRACE_SECONDS = 30
DB_ACTIONS = {  # `orm-harness db ACTION URL` (harness/databases/isolation.py)
    "mark": "make an empty database one orm-harness may use",
    "release": "free a marked database whose run has gone",
    "check": "check a --db value without writing",
    "list": "what orm-harness has there",
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit status 2), like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.handler(args)
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="orm-harness", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND", parser_class=_Parser)
    run = commands.add_parser("run", help="run the benchmark suite, then write the report (SQLite, all adapters)")
    run.add_argument("--db", action="append", help="sqlite (default), postgresql (throwaway cluster) or a URL")
    run.add_argument("--adapters", help=f"comma-separated, from {', '.join(BY_NAME)} (default: all)")
    run.add_argument("--scenarios", help=f"comma-separated scenario ids or families, or {ADAPTER_TAX} (default: all)")
    run.add_argument("--quick", action="store_true", help="quick profile: small dataset, few rounds")
    run.add_argument("--out", type=Path, help="run directory (default: ./results/<UTC time>)")
    run.add_argument(
        "--pool-size", help="connections per pool (suite default 10), or a tier's name: that tier's pool configuration"
    )
    run.add_argument("--concurrency", help="concurrent tasks, comma-separated (suite default 1,8,64)")
    run.add_argument("--order-seed", type=int, help="seed of the adapters' order (default: random, recorded)")
    run.add_argument(
        "--trials",
        type=int,
        help="passes over the suite, each measuring every benchmark anew (default: full 2 on SQLite and 4 on "
        "PostgreSQL, quick 1)",
    )
    run.add_argument(
        "--affinity",
        choices=("on", "off"),
        help="pin the measured code to CPUs: the harness on one CPU for SQLite, the throwaway PostgreSQL server and "
        "the harness apart (on)",
    )
    run.add_argument("--keep", action="store_true", help="keep the databases created on a server given by URL")
    _tier_options(run)
    run.set_defaults(handler=_run)
    report = commands.add_parser("report", help="(re)write the table, charts and report of a run")
    report.add_argument("run", help="run directory, benchmark.json, run name under results/, or latest")
    _tier_options(report)
    report.set_defaults(handler=_report)
    compare = commands.add_parser("compare", help="changes from run A to run B, with their significance")
    compare.add_argument("a", help="the earlier run (baseline)")
    compare.add_argument("b", help="the later run")
    compare.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD, help="smallest change that counts")
    compare.add_argument(
        "--alpha",
        type=float,
        default=DEFAULT_ALPHA,
        help="false discovery rate: q-value limit (Mann-Whitney U, Benjamini-Hochberg)",
    )
    compare.add_argument("--out", type=Path, help="where to write compare.* (default: results/compare-A-vs-B)")
    compare.set_defaults(handler=_compare)
    stable = commands.add_parser("stability", help="how stable the ORMs' ranking is across repeated runs")
    stable.add_argument("runs", nargs="+", metavar="RUN", help="two or more runs (as for report)")
    stable.add_argument("--out", type=Path, default=Path(), help="where to write stability.md/.csv (default: .)")
    stable.set_defaults(handler=_stability)
    tiers = commands.add_parser("tiers", help="the tier profiles, or the recommendation for a run")
    tiers.add_argument(
        "runs", nargs="*", metavar="RUN", help="runs to recommend from; several: also across runs (default: profiles)"
    )
    _tier_options(tiers)
    tiers.set_defaults(handler=_tiers)
    listing = commands.add_parser("list", help="adapters, scenarios, tiers and runs")
    listing.set_defaults(handler=_list)
    db = commands.add_parser("db", help="a PostgreSQL database or server for orm-harness: mark, release, check, list")
    db.add_argument("action", choices=DB_ACTIONS, help="; ".join(f"{k}: {v}" for k, v in DB_ACTIONS.items()))
    db.add_argument("url", metavar="URL", help="postgresql://user@host/database (or .../postgres: the server)")
    db.set_defaults(handler=_db)
    return parser


def _tier_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tiers", type=Path, help="tier file (default: harness/report/tiers.toml)")
    parser.add_argument("--tier", action="append", help="only this tier (repeatable)")


# --- run ---------------------------------------------------------------------------------------------


def _run(args: argparse.Namespace) -> int:
    suite_args = _suite_arguments(args)
    tiers = _tiers_of(args)
    out = args.out or RESULTS_DIR / datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    if (out / BENCHMARK_FILE).exists():
        raise ConfigurationError(f"{out} already holds a run: choose another --out")
    # Every --db checked (reachable, password, a database the harness may use) and its password moved out of
    # the suite's command line into a private password file (harness/cli/guard.py), before the suite starts.
    adapters = [a.strip() for a in (args.adapters or "").split(",") if a.strip()] or list(BY_NAME)
    setup = SuiteSetup.prepare(args.db or ["sqlite"], adapters)
    suite_args = [a for a in suite_args if not a.startswith("--db=")] + [f"--db={db}" for db in setup.databases]
    if args.keep:
        setup.environment[KEEP_VARIABLE] = "1"
    out.mkdir(parents=True, exist_ok=True)
    try:
        failed = _drive_suite(suite_args, out, setup)
    finally:
        setup.close()
    recover(out)  # a suite that died before writing benchmark.json: its record becomes one, marked partial
    if not (out / BENCHMARK_FILE).exists():
        print(f"orm-harness: the suite wrote no results; see {out / 'pytest.log'}", file=sys.stderr)
        return 1
    warnings = [f"test failed: `{nodeid}` (see pytest.log)" for nodeid in failed]
    if args.scenarios and {s.strip() for s in args.scenarios.split(",")} == {ADAPTER_TAX}:
        return _print_tax(out, failed)
    try:
        run = load_run(out)
    except ResultsError as exc:  # e.g. every benchmark failed: the suite's failures are the news, not the JSON
        print(f"orm-harness: no report ({exc}); {len(failed)} tests failed, see {out / 'pytest.log'}", file=sys.stderr)
        return 1
    if partial := run.environment.get("harness", {}).get("partial"):
        print(f"orm-harness: partial run, {partial}", file=sys.stderr)
    files = write_report(run, tiers, warnings)
    print(f"report: {files.html}\n        {files.markdown}")
    _print_frame(recommendations_frame(files.recommendations))
    return 1 if _dishonest(files) or failed else 0


def _print_tax(out: Path, failed: Sequence[str]) -> int:
    """A run of the adapter tax alone: no adapter benchmark to report, its table on the terminal instead."""
    print(f"The adapter tax ({out / BENCHMARK_FILE}; no report: the run measured no adapter benchmark)")
    _print_frame(tax_table(load_tax(out)))
    if failed:
        print(f"orm-harness: {len(failed)} tests failed, see {out / 'pytest.log'}", file=sys.stderr)
    return 1 if failed else 0


def _suite_arguments(args: argparse.Namespace) -> list[str]:
    """Check the options here (one clear line) rather than in pytest, and translate them for the suite."""
    from scenarios import CATALOGUE, FAMILIES  # the catalogue, only for the commands that need it

    arguments = []
    for db in args.db or ["sqlite"]:
        if db not in ("sqlite", "postgresql") and DatabaseConfig(db).dialect != "postgresql":
            raise ConfigurationError(f"--db takes sqlite, postgresql or a postgresql:// URL, not {db!r}")
        arguments.append(f"--db={db}")
    if args.adapters:
        _known("adapter", args.adapters, BY_NAME)
        arguments.append(f"--adapters={args.adapters}")
    if args.scenarios:
        _known("scenario or family", args.scenarios, [*CATALOGUE, *FAMILIES, ADAPTER_TAX])
        arguments.append(f"--scenarios={args.scenarios}")
    if args.pool_size is not None and not args.pool_size.strip().isdigit():
        tier_settings(args.pool_size)  # a tier's name, or one line naming the tiers
    if args.quick:
        arguments.append("--quick")
    for option in ("pool_size", "concurrency", "order_seed", "trials", "affinity"):
        if (value := getattr(args, option)) is not None:
            arguments.append(f"--{option.replace('_', '-')}={value}")
    return arguments


def _known(what: str, value: str, known: Collection[str]) -> None:
    items = [item.strip() for item in value.split(",") if item.strip()]
    unknown = [item for item in items if item not in known]
    if unknown or not items:
        raise ConfigurationError(f"unknown {what} {', '.join(unknown) or repr(value)}: choose from {', '.join(known)}")


def _module_file(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None, module  # a module of this package
    return Path(spec.origin)


def _drive_suite(suite_args: list[str], out: Path, setup: SuiteSetup) -> list[str]:
    """Run pytest on the installed suite, in the current directory, with a progress bar; returns the node ids of
    the tests that failed. An explicit file is collected whatever `python_files` says; its settings are the
    package's own (`-c`), so no configuration found around it or in the current directory changes the run; the
    storage pytest-benchmark creates on start is the run directory, not a `.benchmarks` left where the user is."""
    read_end, write_end = os.pipe()
    suite = _module_file(SUITE)
    command = [
        *(sys.executable, "-m", "pytest", str(suite), "-c", str(suite.with_name("suite.ini"))),
        *("--benchmark-only", "--benchmark-save-data", f"--benchmark-storage=file://{out.resolve()}"),
        *(f"--benchmark-json={(out / BENCHMARK_FILE).resolve()}", "-p", "harness.bench.progress"),
        *("-p", "no:cacheprovider"),
        *(argument for plugin in setup.plugins for argument in ("-p", plugin)),
        *suite_args,
    ]
    print(f"orm-harness: running {' '.join(['pytest', str(suite), *suite_args])}", file=sys.stderr)
    with (out / "pytest.log").open("w") as log:
        env = {**setup.suite_environment(), PROGRESS_FD: str(write_end)}
        # A session of its own: a Ctrl-C reaches the CLI only, which forwards it once (guard.stop_suite), so the
        # suite is never interrupted a second time while it writes its results and stops its cluster.
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            pass_fds=[write_end],
            start_new_session=True,
        )
        os.close(write_end)
        try:
            with os.fdopen(read_end) as events:
                failed = _follow(events, sys.stderr)
        except KeyboardInterrupt:
            stop_suite(process, EXIT_GRACE_SECONDS)  # it writes what it measured and stops its cluster first
            recover(out)
            raise
        try:
            process.wait(timeout=EXIT_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()  # finished, JSON written, but stuck on exit (e.g. a stray non-daemon thread)
            print(f"orm-harness: pytest hung after finishing; stopped it (see {out / 'pytest.log'})", file=sys.stderr)
    return failed


def _follow(events: IO[str], stream: IO[str]) -> list[str]:
    """Draw the progress bar from the plugin's events (harness.bench.progress) until the pipe closes."""
    bar = _Bar(stream)
    failed: list[str] = []
    for event in map(json.loads, events):
        if "finished" in event:
            break
        if "total" in event:
            bar.total = event["total"]
        elif event["outcome"] in ("failed", "error"):
            failed.append(event["done"])
            bar.note(f"FAILED {event['done']}")
        if "done" in event:
            bar.advance(event["done"])
    bar.close()
    return list(dict.fromkeys(failed))


class _Bar:
    """A one-line bar with elapsed and estimated remaining time on a terminal; elsewhere (CI, logs) a line
    every tenth of the way or every half minute, whichever comes first."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream, self.total, self.done = stream, 0, set[str]()
        self.live = stream.isatty()
        self.started = self.last_line = time.monotonic()
        self.reported = -1

    def advance(self, nodeid: str) -> None:
        self.done.add(nodeid)
        count, total = len(self.done), max(self.total, len(self.done))
        now = time.monotonic()
        elapsed = now - self.started
        timing = f"{_clock(elapsed)} elapsed, ~{_clock(elapsed / count * (total - count))} left"
        if self.live:
            filled = int(30 * count / total)
            name = nodeid.rsplit("::", 1)[-1][:50]
            self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {count}/{total} {timing}  {name:<50}")
        elif (tenth := 10 * count // total) > self.reported or now - self.last_line > 30:
            self.reported, self.last_line = tenth, now
            self.stream.write(f"orm-harness: {count}/{total} benchmarks done, {timing}\n")
        self.stream.flush()

    def note(self, line: str) -> None:
        self.stream.write(("\r\033[K" if self.live else "") + line + "\n")

    def close(self) -> None:
        if self.live:
            self.stream.write("\n")


def _clock(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


# --- report, compare, tiers, list --------------------------------------------------------------------


def _resolve(name: str) -> Path:
    """A run given as a path, a name under ./results/, or `latest`."""
    if name == "latest":
        runs = sorted(_runs(), key=lambda path: path.stat().st_mtime)
        if not runs:
            raise ResultsError(f"no runs under {RESULTS_DIR.resolve()}")
        return runs[-1].parent
    for candidate in (Path(name), RESULTS_DIR / name):
        if candidate.exists():
            return candidate
    raise ResultsError(
        f"no run {name!r}: give a run directory, its benchmark.json, a run name under results/, or latest"
    )


def _runs() -> Iterator[Path]:
    return RESULTS_DIR.glob(f"*/{BENCHMARK_FILE}")


def _tiers_of(args: argparse.Namespace) -> dict[str, Tier]:
    from scenarios import CATALOGUE

    return select(load_tiers(args.tiers, CATALOGUE), args.tier)


def _report(args: argparse.Namespace) -> int:
    tiers = _tiers_of(args)
    files = write_report(load_run(_resolve(args.run)), tiers)
    print(f"report: {files.html}\n        {files.markdown}")
    _print_frame(recommendations_frame(files.recommendations))
    return 1 if _dishonest(files) else 0


def _dishonest(files: ReportFiles) -> bool:
    """Print the run's failed honesty checks (also the report's first warnings); True if there were any."""
    for line in files.honesty:
        print(f"orm-harness: {line}", file=sys.stderr)
    return bool(files.honesty)


def _compare(args: argparse.Namespace) -> int:
    if not 0 < args.alpha < 1 or args.threshold < 0:
        raise ConfigurationError("--alpha must be between 0 and 1 and --threshold at least 0")
    a, b = load_run(_resolve(args.a)), load_run(_resolve(args.b))
    comparison = compare_runs(a, b, args.threshold, args.alpha)
    out = args.out or RESULTS_DIR / f"compare-{a.directory.name}-vs-{b.directory.name}"
    markdown, page = write_comparison(comparison, out)
    found = counts(comparison)
    print(f"{b.run_id} against {a.run_id}: " + ", ".join(f"{n} {status}" for status, n in found.items() if n))
    significant = changes_frame(comparison, significant_only=True)
    if significant.empty:
        print(f"no significant change (q < {args.alpha:g} and at least {args.threshold:.0%})")
    else:
        _print_frame(significant)
    print(f"comparison: {page}\n            {markdown}")
    return 0


def _stability(args: argparse.Namespace) -> int:
    if len(args.runs) < 2:
        raise ConfigurationError(f"stability needs two runs or more, got {len(args.runs)}")
    result = stability([load_run(_resolve(run)) for run in args.runs])
    if result.cases.empty:
        raise ResultsError("the runs have no case (database, scenario, parameter) in common for every ORM")
    markdown, table = write_stability(result, args.out)
    print(f"{len(result.cases)} cases in {len(args.runs)} runs; fastest ORM the same in every run:")
    _print_frame(result.fastest_frame())
    print("\npairs of ORMs, same order in every run:")
    _print_frame(result.pairs_frame())
    print("\nspread of the ratio to raw across runs (max / min - 1):")
    _print_frame(result.spread_frame())
    if not result.agreement.empty:
        print("\nhow far a ratio to raw moves between runs, and how far the runs' trials say it can:")
        _print_frame(result.agreement)
    if not result.machine.empty:
        print("\nthe machine's speed in each run (raw's times over the first run's):")
        _print_frame(result.machine)
    print(f"stability: {markdown}\n           {table}")
    return 0


def _tiers(args: argparse.Namespace) -> int:
    tiers = _tiers_of(args)
    if args.runs:
        per_run = [recommend(load_run(_resolve(run)).table, tiers) for run in args.runs]
        _print_frame(recommendations_frame(per_run[-1]))
        if len(per_run) > 1:
            print(f"\nacross the {len(per_run)} runs (run-to-run spread of the margin):")
            _print_frame(across_runs(per_run))
        return 0
    for tier in tiers.values():
        weights = ", ".join(f"{key} {weight:g}" for key, weight in tier.weights.items() if weight)
        print(f"{tier.name}: {tier.description}\n    {weights}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from scenarios import CATALOGUE, FAMILIES

    _section("adapters", [f"{a.name:<11} needs {a.requirement}" for a in REGISTRY])
    for family in FAMILIES:
        scenarios = [s for s in CATALOGUE.values() if s.family == family]
        _section(f"scenarios: {family}", [f"{s.id:<22} {s.label}" for s in scenarios])
    _section(
        "tiers (harness/report/tiers.toml)",
        [f"{t.name:<11} {t.description}" for t in load_tiers(None, CATALOGUE).values()],
    )
    _section(f"runs under {RESULTS_DIR.resolve()}", [str(path.parent.name) for path in sorted(_runs())] or ["(none)"])
    return 0


def _db(args: argparse.Namespace) -> int:
    from harness.databases import isolation

    if args.action == "list":
        for line in asyncio.run(isolation.inventory(args.url)):
            print(line)
        return 0
    actions = {"mark": isolation.mark, "release": isolation.release, "check": isolation.preflight}
    asyncio.run(actions[args.action](args.url))
    print(f"{args.action}: done ({redact(args.url)})")
    return 0


def _section(title: str, lines: list[str]) -> None:
    print(title)
    for line in lines:
        print(f"  {line}")


def _print_frame(frame: pd.DataFrame, write: Callable[[str], object] = print) -> None:
    write(frame.to_string(index=False) if not frame.empty else "(nothing to show)")
