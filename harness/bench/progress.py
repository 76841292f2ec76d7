"""A pytest plugin that reports the suite's progress to `orm-harness run` through a pipe.

`orm-harness run` starts pytest with `-p harness.bench.progress` and the environment variable
`ORM_HARNESS_PROGRESS_FD` naming the write end of a pipe. The plugin writes one JSON object per line:
`{"total": N}` once collection is done, then `{"done": nodeid, "outcome": "passed"|"failed"|"skipped"|"error"}`
per test, and `{"finished": true}` once every plugin has finished the session (pytest-benchmark's
JSON is written by then), so the CLI need not wait for an interpreter that hangs on exit (a stray
non-daemon thread). A file descriptor of its own keeps these lines clear of pytest's output capture;
without the variable the plugin does nothing.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

PROGRESS_FD = "ORM_HARNESS_PROGRESS_FD"


def _send(message: dict[str, Any]) -> None:
    if (fd := os.environ.get(PROGRESS_FD)) is not None:
        os.write(int(fd), (json.dumps(message) + "\n").encode())


def pytest_collection_finish(session: pytest.Session) -> None:
    _send({"total": len(session.items)})


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # A test is done after its call, or after setup when setup failed or skipped it.
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _send({"done": report.nodeid, "outcome": report.outcome})
    elif report.when == "teardown" and report.outcome == "failed":
        _send({"done": report.nodeid, "outcome": "error"})


def pytest_unconfigure(config: pytest.Config) -> None:
    _send({"finished": True})
