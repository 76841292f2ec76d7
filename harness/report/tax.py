"""The adapter tax in a run's results and report: what the provider contract costs each adapter over its own ORM
called directly, per operation and database (harness/bench/tax.py measures it).

`adapter_tax(benchmarks)` reads the tax benchmarks' `extra_info["adapter_tax"]` into one row per adapter, database
and operation. Its tax is the report's ratio of two adapters (harness/report/statistics.py, `ratio`, less 1) over the
timed calls of both ways, paired call by call: the median of each pair's provider time over its direct time, so a
slow spell of the machine that both calls of a pair share cancels (the benchmark's own `tax`, the ratio of the two
medians, does not pair them); with its 95% bootstrap interval (`ratio_interval`). `harness/report/results.py` keeps
the rows in the run's environment (`adapter_tax`). `tax_section(environment)` is the report's "Adapter tax" section.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from harness.bench.extra_info import ADAPTER_TAX
from harness.bench.tax import TAXED
from harness.core.adapters import REPORT_ORDER
from harness.report import statistics
from harness.report.document import Block, Heading, Paragraph, Table

TARGET = 0.05
"""The contract should cost no adapter more than this on any operation; a tax whose interval lies above it is marked."""
SECTION_NOTE = (
    "The same operation run two ways on the same loaded database, interleaved call by call in a random order: through "
    "the provider (the scenario's contract call: the public method, its checks and the adapter's hooks) and through "
    "the adapter's control (backends/<adapter>/controls.py: the ORM called directly as its documentation shows, raw's "
    "bare driver calls, on the provider's own engine or pool and models). Each control passed the scenario's check and "
    "sent the same SQL as the provider. Tax: the median over the pairs of the call through the provider over the "
    "control's, less 1, with its 95% bootstrap interval (both ways' calls resampled in pairs). Pairs: how many, and "
    "what stopped them (`precision`: both medians known precisely enough; `cap`: the time per operation spent; "
    "`max_pairs`). **above {target:.0%}**: "
    "the whole interval lies above the {target:.0%} the contract should cost at most."
)


def adapter_tax(benchmarks: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per adapter, database and operation of the tax benchmarks among `benchmarks` (pytest-benchmark's
    records): the medians (us), the tax and its interval (`tax_low`, `tax_high`; None with too few calls), the pairs
    and why they stopped, and the queries of one call."""
    rows = []
    for benchmark in benchmarks:
        info = benchmark.get("extra_info") or {}
        if info.get("scenario") != ADAPTER_TAX or not isinstance(info.get(ADAPTER_TAX), dict):
            continue
        for operation, figures in info[ADAPTER_TAX].items():
            ways = [figures["provider_us"]], [figures["direct_us"]]
            tax = statistics.ratio(*ways)
            ratio = statistics.ratio_interval(*ways, statistics.rng())
            rows.append(
                {
                    "adapter": info["adapter"],
                    "database": info["database"],
                    "operation": operation,
                    "provider_median_us": figures["provider_median_us"],
                    "direct_median_us": figures["direct_median_us"],
                    "tax": figures["tax"] if tax is None else tax - 1,
                    "tax_low": None if ratio is None else ratio[0] - 1,
                    "tax_high": None if ratio is None else ratio[1] - 1,
                    "pairs": figures["pairs"],
                    "stopped_by": figures.get("stopped_by"),
                    "queries": figures["queries"],
                }
            )
    return rows


def tax_section(environment: Mapping[str, Any]) -> list[Block]:
    """The report's "Adapter tax" section, from a run's environment; nothing where the run did not measure it."""
    rows = environment.get(ADAPTER_TAX) or []
    if not rows:
        return []
    return [Heading(2, "Adapter tax"), Paragraph(SECTION_NOTE.format(target=TARGET)), Table(tax_table(rows))]


def tax_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The tax per database, adapter and operation, as the report shows it."""
    operations = [taxed.scenario for taxed in TAXED]
    adapters = list(REPORT_ORDER)

    def rank(row: dict[str, Any]) -> tuple[Any, ...]:
        return (
            row["database"],
            _position(adapters, row["adapter"]),
            _position(operations, row["operation"]),
            row["operation"],
        )

    return pd.DataFrame(
        [
            {
                "database": row["database"],
                "adapter": row["adapter"],
                "operation": f"`{row['operation']}`",
                "provider us": f"{row['provider_median_us']:,.1f}",
                "direct us": f"{row['direct_median_us']:,.1f}",
                "tax": tax_text(row["tax"], row["tax_low"], row["tax_high"]),
                "pairs": f"{row['pairs']} ({row['stopped_by']})" if row.get("stopped_by") else str(row["pairs"]),
                "queries": row["queries"],
            }
            for row in sorted(rows, key=rank)
        ]
    )


def tax_text(tax: float, low: float | None, high: float | None) -> str:
    """`+3.1% (+1.2% to +4.9%)`, marked where the interval lies above `TARGET`; `n/a` for the interval with too few
    calls."""
    interval = "(interval n/a)" if low is None or high is None else f"({low:+.1%} to {high:+.1%})"
    above = low is not None and low > TARGET
    return f"{tax:+.1%} {interval}" + (f" **above {TARGET:.0%}**" if above else "")


def _position(names: list[str], name: str) -> int:
    return names.index(name) if name in names else len(names)
