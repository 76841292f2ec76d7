"""The versions a run measures with: the pinned set, and the packages whose internals the harness relies on.

The ORM, driver and tool versions are the variables of every measurement, so the repository pins them in
`constraints.txt` (the README's install commands and `.ci/run` use it; regenerate it with `pip freeze` in a
fresh virtual environment). `pinned_status()` says whether the running interpreter has exactly that set; the
run records it and the report shows it.

A few packages are used below their public API (listed in `INTERNALS`, with what is used). Their supported
range is written once, as the requirement in `pyproject.toml` (upper bound included); `require(name)` checks the
installed version against it where the internal is used and raises one line naming the package, the version
found and the range, instead of failing deep inside the package.
"""

from __future__ import annotations

import importlib.metadata
from functools import cache
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from harness.core.errors import ConfigurationError

PROJECT = "orm-harness"
CONSTRAINTS = Path(__file__).resolve().parents[2] / "constraints.txt"
"""The pinned set, at the top of the repository (a clone or an editable install has it)."""

INTERNALS = {
    "pytest-benchmark": "its session's benchmark list and the --benchmark-json option (harness/bench/runlog.py)",
    "asyncpg": "Connection._execute/_executemany and Pool._acquire (harness/core/statements.py, harness/bench/pool.py)",
    "aiosqlite": "Connection._connect and its sqlite3 connection (harness/core/statements.py)",
    "tortoise-orm": "tortoise.context._current_context (backends/tortoise/provider.py)",
    "sqlalchemy": "QueuePool._do_get, to time checkouts (backends/sqlalchemy/provider.py)",
}
"""Packages used below their public API, with what is used; each has an upper bound in pyproject.toml."""


@cache
def supported_range(distribution: str) -> SpecifierSet | None:
    """The range `pyproject.toml` allows for a distribution (from the installed project's metadata)."""
    try:
        requirements = importlib.metadata.requires(PROJECT) or []
    except importlib.metadata.PackageNotFoundError:
        return None
    wanted = canonicalize_name(distribution)
    for line in requirements:
        requirement = Requirement(line)
        if canonicalize_name(requirement.name) == wanted and requirement.specifier:
            return requirement.specifier
    return None


def installed_version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


@cache
def require(distribution: str) -> None:
    """Refuse, in one line, a version of `distribution` outside the range whose internals the harness knows."""
    found, allowed = installed_version(distribution), supported_range(distribution)
    if found is None or allowed is None or allowed.contains(Version(found), prereleases=True):
        return
    raise ConfigurationError(
        f"{distribution} {found} is not supported: orm-harness uses its internals ({INTERNALS[distribution]}) "
        f"and supports {distribution}{allowed}; install the pinned set: pip install -c constraints.txt -e '.[all]'"
    )


def pinned_versions(path: Path = CONSTRAINTS) -> dict[str, str]:
    """`name==version` lines of a constraints file, by canonical name."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[canonicalize_name(name)] = version.strip()
    return pins


def pinned_status(path: Path = CONSTRAINTS) -> dict[str, Any]:
    """Whether the installed packages are the pinned set: `{"pinned": bool | None, "differs": {...}}`.

    Only pinned packages that are installed are compared (an extra left out is not a difference); `pinned` is
    None where there is no constraints file (an install from a wheel rather than a clone)."""
    if not path.is_file():
        return {"pinned": None, "constraints": None, "differs": {}}
    differs: dict[str, dict[str, str]] = {}
    for name, pinned in pinned_versions(path).items():
        found = installed_version(name)
        if found is not None and found != pinned:
            differs[name] = {"installed": found, "pinned": pinned}
    return {"pinned": not differs, "constraints": path.name, "differs": differs}
