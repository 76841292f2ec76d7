"""The adapter tax in a run: what its benchmarks record (the small run measures it), the rows the loader keeps with
their intervals, and the report's section."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.bench.extra_info import ADAPTER_TAX, HARNESS_FAMILY
from harness.bench.tax import TAXED
from harness.report import statistics as bootstrap
from harness.report.document import to_html, to_markdown
from harness.report.results import BENCHMARK_FILE, load_run
from harness.report.tax import TARGET, adapter_tax, tax_section, tax_text
from tests.reports.conftest import ADAPTERS, SmallRun

OPERATIONS = [taxed.scenario for taxed in TAXED]


def _tax_benchmarks(small_run: SmallRun) -> list[dict[str, Any]]:
    document = json.loads((small_run.directory / BENCHMARK_FILE).read_text())
    return [b for b in document["benchmarks"] if b["extra_info"].get("scenario") == ADAPTER_TAX]


def test_each_adapter_and_database_records_every_operation_both_ways(small_run: SmallRun) -> None:
    benchmarks = _tax_benchmarks(small_run)
    measured = {(b["extra_info"]["adapter"], b["extra_info"]["database"]) for b in benchmarks}
    assert measured == {(a, d) for a in ADAPTERS.split(",") for d in small_run.databases}
    for benchmark in benchmarks:
        info = benchmark["extra_info"]
        assert info["family"] == HARNESS_FAMILY and info["profile"] == "quick"
        assert list(info[ADAPTER_TAX]) == OPERATIONS
        for figures in info[ADAPTER_TAX].values():
            provider, direct = figures["provider_us"], figures["direct_us"]
            assert len(provider) == len(direct) == figures["pairs"] == 10 and figures["stopped_by"] == "max_pairs"
            assert figures["provider_median_us"] == pytest.approx(statistics.median(provider), abs=1e-3)
            assert figures["direct_median_us"] == pytest.approx(statistics.median(direct), abs=1e-3)
            expected_tax = statistics.median(provider) / statistics.median(direct) - 1
            assert figures["tax"] == pytest.approx(expected_tax, abs=1e-4)
            assert figures["queries"] >= 1


def test_the_loader_keeps_one_row_per_operation_with_its_bootstrap_interval(small_run: SmallRun) -> None:
    benchmarks = _tax_benchmarks(small_run)
    rows = load_run(small_run.directory).environment[ADAPTER_TAX]
    assert rows == adapter_tax(benchmarks)
    assert len(rows) == len(benchmarks) * len(OPERATIONS)
    (first,) = (b["extra_info"] for b in benchmarks[:1])
    figures = first[ADAPTER_TAX][OPERATIONS[0]]
    ways = [figures["provider_us"]], [figures["direct_us"]]
    interval, tax = bootstrap.ratio_interval(*ways, bootstrap.rng()), bootstrap.ratio(*ways)
    assert interval is not None and tax is not None
    low, high = interval
    (row,) = (
        r
        for r in rows
        if (r["adapter"], r["database"], r["operation"]) == (first["adapter"], first["database"], OPERATIONS[0])
    )
    assert (row["tax_low"], row["tax_high"]) == pytest.approx((low - 1, high - 1))
    assert row["tax"] == pytest.approx(tax - 1) and low <= tax <= high


def test_the_report_has_the_section_with_a_row_per_adapter_database_and_operation(small_run: SmallRun) -> None:
    markdown = (small_run.directory / "report.md").read_text()
    section = markdown.split("## Adapter tax", 1)[1].split("\n## ", 1)[0]
    table = [line for line in section.splitlines() if line.startswith("| ") and "`" in line]
    assert len(table) == len(small_run.databases) * len(ADAPTERS.split(",")) * len(OPERATIONS)
    for adapter in ADAPTERS.split(","):
        assert sum(f"| {adapter} | `get_by_pk` |" in line for line in table) == len(small_run.databases)
    assert ">Adapter tax</h2>" in (small_run.directory / "report.html").read_text()


def test_the_section_marks_a_tax_above_the_target_and_is_absent_without_figures(tmp_path: Path) -> None:
    assert tax_section({}) == []
    blocks = tax_section(
        {
            ADAPTER_TAX: [
                {
                    "adapter": "raw",
                    "database": "sqlite",
                    "operation": "get_by_pk",
                    "provider_median_us": 40.0,
                    "direct_median_us": 32.0,
                    "tax": 0.25,
                    "tax_low": 0.2,
                    "tax_high": 0.3,
                    "pairs": 500,
                    "stopped_by": "cap",
                    "queries": 1,
                }
            ]
        }
    )
    assert "| sqlite | raw | `get_by_pk` | 40.0 | 32.0 | +25.0% (+20.0% to +30.0%) **above 5%** | 500 (cap) | 1 |" in (
        to_markdown(blocks, tmp_path)
    )
    assert "<strong>above 5%</strong>" in to_html(blocks, "tax")


def test_tax_text_marks_only_an_interval_above_the_target() -> None:
    assert tax_text(0.031, 0.012, 0.049) == "+3.1% (+1.2% to +4.9%)"
    assert tax_text(0.08, 0.04, 0.12) == "+8.0% (+4.0% to +12.0%)"
    assert tax_text(0.08, TARGET + 0.001, 0.12).endswith("**above 5%**")
    assert tax_text(0.08, None, None) == "+8.0% (interval n/a)"


def test_a_run_of_the_tax_alone_prints_its_table_and_succeeds(tmp_path: Path) -> None:
    out = tmp_path / "tax"
    command = [sys.executable, "-m", "harness", "run", "--quick", "--adapters", "raw", "--scenarios", ADAPTER_TAX]
    done = subprocess.run([*command, "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "no report: the run measured no adapter benchmark" in done.stdout
    table = [line.split() for line in done.stdout.splitlines() if line.split()[:2] == ["sqlite", "raw"]]
    assert [row[2] for row in table] == [f"`{operation}`" for operation in OPERATIONS]
    assert (out / BENCHMARK_FILE).is_file() and not (out / "report.md").exists()
