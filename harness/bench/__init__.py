"""The bench layer: running the benchmark scenarios and recording what they measured.

The benchmark runner and its protocol (runner.py), what each benchmark records (extra_info.py: the results schema),
workloads (workload.py), the adapter tax (tax.py: provider against the ORM called directly), pg_stat_statements
cross-check (pgstat.py), pool observer (pool.py), environment facts (environment.py); the engine as a pytest plugin,
the `orm_harness` entry point (plugin.py), with its options (options.py), matrix and order (matrix.py), fixtures
(fixtures.py) and run-level facts (run_info.py), and the benchmarks `orm-harness run` drives (suite.py, configured by
suite.ini); the pytest plugins `orm-harness run` adds for an incremental, atomic run record (runlog.py, runrecord.py)
and the progress bar's events (progress.py).

May import harness.core, harness.databases and scenarios.
"""
