"""The folder tree is the architecture: every module imports only from its own layer and the layers below it.

Layers, lowest first (harness/__init__.py documents them): harness.core < harness.databases < scenarios <
harness.bench < harness.report < harness.cli. The backends (one package per adapter) implement the contract: they
import harness.core only, and no layer imports a backend (the adapter registry names them in "module:Class"
strings). Every module of harness/, scenarios/ and backends/ is parsed with `ast`; every import counts, those inside
functions too. No import cycle may exist between modules either.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("harness", "scenarios", "backends")
LAYERS = ("harness.core", "harness.databases", "scenarios", "harness.bench", "harness.report", "harness.cli")
"""Lowest first: a module may import its own layer and those before it."""
TOP = "harness.cli"
"""The layer of the `harness` package itself and of `python -m harness` (harness/__main__.py)."""
BACKENDS = "backends"
BACKENDS_MAY_IMPORT = ("harness.core",)


@dataclass(frozen=True)
class Import:
    module: str
    target: str
    line: int


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _files(root: Path = ROOT) -> list[Path]:
    return [
        path
        for package in PACKAGES
        for path in sorted((root / package).rglob("*.py"))
        if "__pycache__" not in path.parts
    ]


def project_sources(root: Path = ROOT) -> dict[str, str]:
    """Module name -> source, for every module of the three packages."""
    return {module_name(path, root): path.read_text() for path in _files(root)}


def project_packages(root: Path = ROOT) -> set[str]:
    """The modules that are packages (an `__init__.py`): their relative imports start from themselves."""
    return {module_name(path, root) for path in _files(root) if path.name == "__init__.py"}


def _in_project(name: str) -> bool:
    return name.split(".")[0] in PACKAGES


def imports(sources: Mapping[str, str], packages: Collection[str] = ()) -> list[Import]:
    """Every import of a project module by a project module, wherever it stands (module level or in a function).

    `from package import name` counts as an import of `package.name` when that is a module, else of `package`."""
    found = []
    for module, source in sources.items():
        is_package = module in packages
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(module, is_package, node.module, node.level)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in sources else base for a in node.names]
            else:
                continue
            found += [Import(module, t, node.lineno) for t in dict.fromkeys(targets) if _in_project(t)]
    return found


def _absolute(module: str, is_package: bool, name: str | None, level: int) -> str:
    if level == 0:
        return name or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, *([name] if name else [])])


def layer(module: str) -> str:
    if module.split(".")[0] == BACKENDS:
        return BACKENDS
    if module in ("harness", "harness.__main__"):
        return TOP
    for name in LAYERS:
        if module == name or module.startswith(name + "."):
            return name
    raise AssertionError(f"{module} belongs to no layer: give it a place in LAYERS (tests/test_layers.py)")


def violations(found: Iterable[Import]) -> list[str]:
    """One line per import of a layer above the importer's own (or of a backend from outside the backends)."""
    bad = []
    for imp in found:
        own, theirs = layer(imp.module), layer(imp.target)
        if own == BACKENDS:
            allowed = theirs == BACKENDS or theirs in BACKENDS_MAY_IMPORT
        else:
            allowed = theirs != BACKENDS and LAYERS.index(theirs) <= LAYERS.index(own)
        if not allowed:
            bad.append(f"{imp.module} (layer {own}) imports {imp.target} (layer {theirs}) at line {imp.line}")
    return bad


def cycles(found: Iterable[Import]) -> list[list[str]]:
    """The import cycles between modules: each strongly connected component of more than one module (or a module
    importing itself), by Tarjan's algorithm."""
    graph: dict[str, set[str]] = {}
    for imp in found:
        graph.setdefault(imp.module, set()).add(imp.target)
        graph.setdefault(imp.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_every_module_has_a_layer() -> None:
    sources = project_sources()
    assert {"harness.core.contract", "harness.cli.entry", "scenarios.base", "backends.raw.provider"} <= set(sources)
    for module in sources:
        layer(module)


def test_no_module_imports_a_layer_above_its_own() -> None:
    assert violations(imports(project_sources(), project_packages())) == []


def test_no_import_cycle() -> None:
    assert cycles(imports(project_sources(), project_packages())) == []


def test_the_detector_flags_a_synthetic_violation() -> None:
    """The checks above can fail: an upward import, a backend imported by the harness, a backend importing the
    bench layer, and a cycle, each in made-up modules, are all reported."""
    sources = {
        "harness.core.low": "def f():\n    from harness.report.high import g\n",
        "harness.report.high": "from harness.core import low\n\ndef g(): ...\n",
        "harness.bench.probe": "import backends.raw.provider\n",
        "backends.raw.provider": "from harness.bench.probe import x\n",
        "scenarios.fine": "from harness.databases import targets\nfrom harness.core.low import f\n",
        "harness.databases.targets": "",
    }
    found = imports(sources)
    assert violations(found) == [
        "harness.core.low (layer harness.core) imports harness.report.high (layer harness.report) at line 2",
        "harness.bench.probe (layer harness.bench) imports backends.raw.provider (layer backends) at line 1",
        "backends.raw.provider (layer backends) imports harness.bench.probe (layer harness.bench) at line 1",
    ]
    assert cycles(found) == [
        ["backends.raw.provider", "harness.bench.probe"],
        ["harness.core.low", "harness.report.high"],
    ]
    relative = {"harness.report.a": "from . import b\nfrom .b import c\n", "harness.report.b": "", "harness.report": ""}
    assert [i.target for i in imports(relative)] == ["harness.report.b", "harness.report.b"]
    assert [i.target for i in imports({"harness.report": "from . import b\n"}, {"harness.report"})] == [
        "harness.report"
    ]
