"""The databases layer: the databases the harness measures on, and keeping other databases safe.

Throwaway PostgreSQL clusters (pgserver.py) and Redis servers (redisserver.py), the benchmark targets and their
databases (targets.py), the isolation rules for a given server (isolation.py), ownership of temporary directories by
their process (ownership.py) and the catalog reader (catalog.py).

May import harness.core only.
"""
