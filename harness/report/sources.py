"""Each adapter's code for each scenario family, read from the source files (never retyped, never imported).

A family's scenarios (`scenarios/<family>.py`) call contract methods on the provider; each contract method
`name` is implemented by the adapter hook `_name` (see `harness.core.contract`). The modules are parsed with
`ast`, so showing an adapter's code needs neither its ORM installed nor any import of it.
"""

from __future__ import annotations

import ast
import importlib.util
import textwrap
from dataclasses import dataclass
from pathlib import Path

from harness.core.contract import BaseORMProvider
from harness.core.factory import ADAPTERS
from scenarios import POOL_FAMILIES

CONTRACT_METHODS = frozenset(
    name for name in dir(BaseORMProvider) if not name.startswith("_") and callable(getattr(BaseORMProvider, name))
)
POOL_HOOKS = ("connect",)
"""Shown too for a family whose point is the pool (`scenarios.POOL_FAMILIES`): where the adapter configures it."""


@dataclass(frozen=True)
class HookSource:
    method: str
    """The contract method, e.g. `get_with_relations`."""
    code: dict[str, str]
    """Adapter -> the source of its hook (or a one-line note saying why there is none)."""


def _module_file(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    return Path(spec.origin) if spec and spec.origin else None


def family_methods(family: str) -> list[str]:
    """The contract methods the scenarios of `family` call, in the order they first appear."""
    shown = POOL_HOOKS if family in POOL_FAMILIES else ()
    path = _module_file(f"scenarios.{family}")
    if path is None:
        return list(shown)
    calls = [
        node.func.attr
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CONTRACT_METHODS
    ]
    return list(dict.fromkeys([*shown, *calls]))


def hook_sources(family: str, adapters: list[str]) -> list[HookSource]:
    """For each contract method the family uses, every adapter's hook source."""
    modules = {adapter: _AdapterModule.find(adapter) for adapter in adapters}
    return [
        HookSource(method, {adapter: _hook(modules[adapter], adapter, f"_{method}") for adapter in adapters})
        for method in family_methods(family)
    ]


@dataclass(frozen=True)
class _AdapterModule:
    source: str
    classes: dict[str, ast.ClassDef]
    class_name: str

    @classmethod
    def find(cls, adapter: str) -> _AdapterModule | str:
        """The parsed module of the adapter's class, or a note saying why it is unavailable."""
        if adapter not in ADAPTERS:
            return f"# {adapter}: not an adapter of this version"
        module, class_name = ADAPTERS[adapter][0].split(":")
        path = _module_file(module)
        if path is None:
            return f"# {adapter}: source file of {module} not found"
        source = path.read_text()
        classes = {node.name: node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ClassDef)}
        if class_name not in classes:
            return f"# {adapter}: class {class_name} not found in {path.name}"
        return cls(source, classes, class_name)

    def lineage(self) -> list[ast.ClassDef]:
        """The adapter class and its base classes defined in the same module, nearest first."""
        lineage, queue = [], [self.class_name]
        while queue:
            node = self.classes.get(queue.pop(0))
            if node is not None and node not in lineage:
                lineage.append(node)
                queue += [base.id for base in node.bases if isinstance(base, ast.Name)]
        return lineage


def _hook(module: _AdapterModule | str, adapter: str, hook: str) -> str:
    if isinstance(module, str):
        return module
    for cls in module.lineage():
        for node in cls.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == hook:
                return _segment(module.source, node, None if cls.name == module.class_name else cls.name)
    return f"# {adapter}: {module.class_name}.{hook} is the contract's default"


def _segment(source: str, node: ast.FunctionDef | ast.AsyncFunctionDef, owner: str | None) -> str:
    lines = source.splitlines()
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    code = textwrap.dedent("\n".join(lines[first - 1 : node.end_lineno]))
    return f"# defined in {owner}\n{code}" if owner else code
