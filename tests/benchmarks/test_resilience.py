"""The resilience scenario (scenarios/resilience.py) as a benchmark: each adapter through a server restart.

Defined in harness/bench/suite.py, with the other benchmarks `orm-harness run` drives, and imported here for
`pytest --benchmark-only` in a clone (tests/benchmarks/test_scenarios.py says why).
"""

from __future__ import annotations

from harness.bench.suite import test_server_restart

__all__ = ["test_server_restart"]
