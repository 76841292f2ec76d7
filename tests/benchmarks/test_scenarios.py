"""One benchmark per scenario of the catalogue, the round overhead and the adapter tax: the installed suite's own
functions.

They are defined once, in harness/bench/suite.py (which `orm-harness run` gives pytest), and imported here so that
`pytest --benchmark-only` in a clone collects the very same functions among the repository's tests; the harness's
pytest plugin (harness/bench/plugin.py) parametrizes and orders them alike in both. Importing keeps the suite's code
in one place and needs no collection hook of the plugin's, which would have to guess when a session wants them.
"""

from __future__ import annotations

from harness.bench.suite import SCENARIO_BENCHMARKS, test_adapter_tax, test_round_overhead

globals().update(SCENARIO_BENCHMARKS)

__all__ = ["test_adapter_tax", "test_round_overhead", *SCENARIO_BENCHMARKS]
