"""The bench layer: running the benchmark scenarios and recording what they measured.

The benchmark runner and its protocol (runner.py), workloads (workload.py), pg_stat_statements cross-check
(pgstat.py), pool observer (pool.py), environment facts (environment.py), the suite's pytest plugins for an
incremental, atomic run record (runlog.py, runrecord.py) and the progress bar's events (progress.py).

May import harness.core, harness.databases and scenarios.
"""
