"""The report layer: turning runs into tables, charts, reports, comparisons and the tier recommendation.

The tidy results table (results.py), charts (charts.py), the run's report (report.py) built from document blocks
(document.py), with its migration section (migration_report.py), its adapter tax section (tax.py) and the adapters'
code side by side (sources.py),
comparison of two runs (compare.py), the tier recommendation (tiers.py, with its profiles in tiers.toml), the
ranking's stability across runs (stability.py), and the statistics they share (statistics.py).

May import harness.core, harness.databases, scenarios and harness.bench (the results schema: extra_info; reading
partial runs: runrecord; the taxed operations: tax).
"""
