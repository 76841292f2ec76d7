"""Each adapter's code for each scenario family, read from the source files (never retyped, never imported).

A family's scenarios (`scenarios/<family>.py`) call contract methods on the provider. A contract method calls the
adapter's hooks, and which ones is read from the contract's own code (`contract_hooks`: the `self._name` methods of
`BaseORMProvider` its body uses, e.g. `expected_eager_statements` -> `_eager_statements`), so no hook name is typed
here and none can drift from the contract.

For each hook, the adapter's code is the hook followed by the helpers it uses within the adapter's package
(`backends/<adapter>/`), found by following, with `ast`, the names the code refers to, transitively: functions and
classes of its module or imported from the package (`_query`, `runner.migrate`), methods reached through
`self`/`cls` or a class of the package (`self._where`), and methods of the package classes an attribute of `self`
is built from (raw's `self._db.fetch`: `_Postgres.fetch` and `_SQLite.fetch`). Within a family each definition is
shown once, under the first contract method that reaches it. The modules are parsed, never imported, so showing
an adapter's code needs neither its ORM installed nor any import of it.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from harness.core.adapters import BY_NAME
from harness.core.contract import BaseORMProvider
from scenarios import POOL_FAMILIES

CONTRACT_METHODS = frozenset(
    name for name in dir(BaseORMProvider) if not name.startswith("_") and callable(getattr(BaseORMProvider, name))
)
POOL_HOOKS = ("connect",)
"""Shown too for a family whose point is the pool (`scenarios.POOL_FAMILIES`): where the adapter configures it."""

Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_RECEIVERS = ("self", "cls")


@dataclass(frozen=True)
class HookSource:
    method: str
    """The contract method, e.g. `get_with_relations`."""
    code: dict[str, str]
    """Adapter -> the source of its hooks and of the helpers they call (or a one-line note saying why there is
    none)."""
    hooks: tuple[str, ...] = ()
    """The hooks the contract method calls, e.g. `("_get_with_relations",)`."""


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


def contract_hooks(method: str) -> tuple[str, ...]:
    """The hooks the contract method `method` calls, read from the method's own code: the `self._name` attributes
    that are methods of `BaseORMProvider`, in the order they appear; one defined by `BaseORMProvider` itself is
    followed by the hooks it calls (`get` -> `_first_get` -> `_prepare_get` -> `_get`). A public contract method it
    calls adds its hooks in turn (`create_schema` -> `migrate` -> `_migrate`). A method that calls none
    (`pool_status`) is overridden as it is: it is its own hook."""
    return tuple(dict.fromkeys(_contract_hooks(method, frozenset()))) or (method,)


@cache
def _contract_hooks(method: str, visiting: frozenset[str]) -> list[str]:
    function = inspect.unwrap(getattr(BaseORMProvider, method))
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    hooks: list[str] = []
    for node in _in_order(ast.walk(tree)):
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"):
            continue
        name = node.attr
        if name in CONTRACT_METHODS and name != method and name not in visiting:
            hooks += _contract_hooks(name, visiting | {method})
        elif name.startswith("_") and not name.startswith("__") and (found := _contract_method(name)) is not None:
            hooks.append(name)
            if found[0] is BaseORMProvider and name not in visiting:  # a step of the contract's own (`_first_get`)
                hooks += _contract_hooks(name, visiting | {method})
    return hooks


def _contract_method(name: str) -> tuple[type, object] | None:
    """The class of the contract defining method `name`, and the method, if it is one."""
    for owner in BaseORMProvider.__mro__:
        value = owner.__dict__.get(name)
        if value is not None and owner is not object and callable(inspect.unwrap(value)):
            return owner, value
    return None


def hook_sources(family: str, adapters: list[str]) -> list[HookSource]:
    """For each contract method the family uses, every adapter's hooks and their helpers, each definition once in
    the family."""
    readers = {adapter: _AdapterReader.find(adapter) for adapter in adapters}
    shown: dict[str, dict[tuple[str, str, str], str]] = {adapter: {} for adapter in adapters}
    sources = []
    for method in family_methods(family):
        hooks = contract_hooks(method)
        code = {}
        for adapter in adapters:
            reader = readers[adapter]
            code[adapter] = reader if isinstance(reader, str) else reader.code(method, hooks, shown[adapter])
        sources.append(HookSource(method, code, hooks))
    return sources


@dataclass(frozen=True)
class _Module:
    name: str
    path: str
    """Relative to the directory the top-level package is in: `backends/raw/provider.py`."""
    lines: list[str]
    definitions: dict[str, Definition]
    """Module-level functions and classes by name."""
    imports: dict[str, tuple[str, str | None]]
    """Local name -> (module, name imported from it), or (module, None) for `import module`."""

    @classmethod
    def parse(cls, name: str, path: Path) -> _Module:
        source = path.read_text()
        tree = ast.parse(source)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        imports: dict[str, tuple[str, str | None]] = {}
        for node in tree.body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        imports[alias.asname] = (alias.name, None)
                    else:
                        top = alias.name.partition(".")[0]
                        imports[top] = (top, None)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*parts, *([node.module] if node.module else [])])
                for alias in node.names:
                    imports[alias.asname or alias.name] = (base, alias.name)
        definitions = {node.name: node for node in tree.body if isinstance(node, _DEFINITIONS)}
        relative = name.replace(".", "/") + ("/__init__.py" if path.name == "__init__.py" else ".py")
        return cls(name, relative, source.splitlines(), definitions, imports)


@dataclass(frozen=True)
class _Found:
    """A definition of the package: a module-level function or class (`owner` None), or a method of `owner`."""

    module: _Module
    node: Definition
    owner: ast.ClassDef | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return self.module.name, self.owner.name if self.owner else "", self.node.name

    @property
    def is_class(self) -> bool:
        return isinstance(self.node, ast.ClassDef)


class _AdapterReader:
    """An adapter's class and the package it lives in, parsed on demand, module by module."""

    def __init__(self, adapter: str, package: str, directory: Path, cls: _Found) -> None:
        self.adapter, self.package, self.directory, self.cls = adapter, package, directory, cls
        self._modules: dict[str, _Module | None] = {cls.module.name: cls.module}
        self._lineage = [found.node for found in self.lineage(cls)]
        self._attribute_found: dict[tuple[tuple[str, str, str], str], list[_Found]] = {}

    @classmethod
    def find(cls, adapter: str) -> _AdapterReader | str:
        """The reader of the adapter's package, or a note saying why its source is unavailable."""
        if adapter not in BY_NAME:
            return f"# {adapter}: not an adapter of this version"
        module_name, class_name = BY_NAME[adapter].target.split(":")
        path = _module_file(module_name)
        if path is None:
            return f"# {adapter}: source file of {module_name} not found"
        module = _Module.parse(module_name, path)
        node = module.definitions.get(class_name)
        if not isinstance(node, ast.ClassDef):
            return f"# {adapter}: class {class_name} not found in {path.name}"
        package = module_name.rpartition(".")[0] or module_name
        return cls(adapter, package, path.parent, _Found(module, node))

    # -- what the family shows --------------------------------------------------------------------------------

    def code(self, method: str, hooks: tuple[str, ...], shown: dict[tuple[str, str, str], str]) -> str:
        """The hooks and the helpers they use, leaving out what an earlier method of the family showed (`shown`:
        definition -> the method it was shown under, updated here)."""
        parts = []
        for hook in hooks:
            found = self.method(self.cls, hook)
            if found is None:
                parts.append(self._default(hook))
                continue
            if found.key in shown:
                parts.append(f"# {hook}: shown above, under `{shown[found.key]}`")
                continue
            for item in self.closure(found):
                if item.key not in shown:
                    shown[item.key] = method
                    parts.append(self.segment(item))
        return "\n\n".join(parts)

    def _default(self, hook: str) -> str:
        class_name = self.cls.node.name
        contract = _contract_method(hook)
        if contract is None or getattr(contract[1], "__isabstractmethod__", False):
            if BY_NAME[self.adapter].is_reference:  # not a provider of the contract: it has none of its hooks
                return f"# {self.adapter}: a reference store has no {hook}: it runs only the scenarios it declares"
            return f"# {self.adapter}: {class_name}.{hook} not found in {self.package.replace('.', '/')}/"
        owner, function = contract
        source = textwrap.dedent(inspect.getsource(inspect.unwrap(function))).rstrip()  # type: ignore[arg-type]
        where = owner.__module__.replace(".", "/") + ".py"
        return f"# {self.adapter}: {class_name}.{hook} is the contract's default ({owner.__name__}, {where})\n{source}"

    def segment(self, item: _Found) -> str:
        """The definition's source with its decorators and the comment lines right above it, and where it is
        defined unless it is the adapter class's own."""
        node, lines = item.node, item.module.lines
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        while first > 1 and lines[first - 2].strip().startswith("#"):
            first -= 1
        code = textwrap.dedent("\n".join(lines[first - 1 : node.end_lineno]))
        where = []
        if item.owner is not None and item.owner is not self.cls.node:
            where.append(f"class {item.owner.name}")
        if item.module.name != self.cls.module.name:
            where.append(item.module.path)
        return f"# defined in {', '.join(where)}\n{code}" if where else code

    def closure(self, start: _Found) -> list[_Found]:
        """`start` and every definition of the package it uses, transitively, depth first in source order."""
        found: dict[tuple[str, str, str], _Found] = {}

        def visit(item: _Found) -> None:
            if item.key in found:
                return
            found[item.key] = item
            for reference in self.references(item):
                visit(reference)

        visit(start)
        return list(found.values())

    # -- following names --------------------------------------------------------------------------------------

    def module(self, name: str) -> _Module | None:
        """A module of the adapter's package by its full name, parsed once; None outside the package."""
        if name != self.package and not name.startswith(self.package + "."):
            return None
        if name not in self._modules:
            parts = name.split(".")[len(self.package.split(".")) :]
            base = self.directory.joinpath(*parts)
            paths = [base / "__init__.py"] + ([base.with_suffix(".py")] if parts else [])
            path = next((p for p in paths if p.is_file()), None)
            self._modules[name] = None if path is None else _Module.parse(name, path)
        return self._modules[name]

    def resolve(self, module: _Module, name: str, depth: int = 0) -> _Found | _Module | None:
        """What `name` means at the top level of `module`, if it is a definition or a module of the package."""
        if name in module.definitions:
            return _Found(module, module.definitions[name])
        if name not in module.imports or depth > 3:
            return None
        source, attribute = module.imports[name]
        if attribute is None:
            return self.module(source)
        origin = self.module(source)
        found = None if origin is None else self.resolve(origin, attribute, depth + 1)
        return found or self.module(f"{source}.{attribute}")

    def lineage(self, cls: _Found) -> list[_Found]:
        """The class and its base classes defined in the package, nearest first."""
        lineage: list[_Found] = []
        queue = [cls]
        while queue:
            current = queue.pop(0)
            if not isinstance(current.node, ast.ClassDef) or any(known.node is current.node for known in lineage):
                continue
            lineage.append(current)
            for base in current.node.bases:
                resolved = self._expression(current.module, base)
                if isinstance(resolved, _Found) and resolved.is_class:
                    queue.append(resolved)
        return lineage

    def method(self, cls: _Found, name: str) -> _Found | None:
        """Method `name` of the class, or of the nearest base class in the package defining it."""
        for current in self.lineage(cls):
            owner = current.node
            if isinstance(owner, ast.ClassDef):  # always, as lineage() keeps classes only
                for node in owner.body:
                    if isinstance(node, _FUNCTIONS) and node.name == name:
                        return _Found(current.module, node, owner)
        return None

    def _expression(self, module: _Module, node: ast.expr) -> _Found | _Module | None:
        """A `name` or `module.name` expression, resolved within the package."""
        if isinstance(node, ast.Name):
            return self.resolve(module, node.id)
        if isinstance(node, ast.Attribute):
            base = self._expression(module, node.value)
            if isinstance(base, _Module):
                return self.resolve(base, node.attr)
        return None

    def references(self, item: _Found) -> list[_Found]:
        """The package's definitions `item` uses, in source order: not the adapter class (nor its bases) as a
        whole, which is what is being shown piece by piece."""
        context = self._context(item)
        roots: list[ast.AST] = [*item.node.decorator_list, *item.node.body]
        if isinstance(item.node, ast.ClassDef):
            roots += item.node.bases
        nodes = _in_order(node for root in roots for node in ast.walk(root))
        local = _local_names(item.node)
        bases = {id(node.value) for node in nodes if isinstance(node, ast.Attribute)}
        found: list[_Found] = []
        for node in nodes:
            if isinstance(node, ast.Name) and id(node) not in bases and node.id not in local:
                resolved = self.resolve(item.module, node.id)
                if isinstance(resolved, _Found):
                    found.append(resolved)
            elif isinstance(node, ast.Attribute):
                found += self._attribute(item.module, node, context, local)
        return [f for f in found if not (f.is_class and any(f.node is c for c in self._lineage))]

    def _context(self, item: _Found) -> _Found | None:
        """The class `self` and `cls` stand for in `item`'s code."""
        if item.is_class:
            return item
        if item.owner is not None:
            return _Found(item.module, item.owner)
        return None

    def _attribute(self, module: _Module, node: ast.Attribute, context: _Found | None, local: set[str]) -> list[_Found]:
        value = node.value
        if isinstance(value, ast.Name):
            if value.id in _RECEIVERS and context is not None:
                return [m] if (m := self.method(context, node.attr)) else []
            if value.id in local:
                return []
            base = self.resolve(module, value.id)
            if isinstance(base, _Module):
                resolved = self.resolve(base, node.attr)
                return [resolved] if isinstance(resolved, _Found) else []
            if isinstance(base, _Found) and base.is_class:
                return [m] if (m := self.method(base, node.attr)) else []
        elif (
            isinstance(value, ast.Attribute)
            and isinstance(value.value, ast.Name)
            and value.value.id in _RECEIVERS
            and context is not None
        ):
            methods = (self.method(cls, node.attr) for cls in self._attribute_classes(context, value.attr))
            return [m for m in methods if m is not None]
        return []

    def _attribute_classes(self, context: _Found, attribute: str) -> list[_Found]:
        """The package classes instantiated in assignments to `self.<attribute>` in the class or its bases (raw's
        `self._db = _Postgres(config) if ... else _SQLite(config)`); found once per class and attribute, as every
        method reaching them asks again."""
        key = (context.key, attribute)
        if key not in self._attribute_found:
            self._attribute_found[key] = self._assigned_classes(context, attribute)
        return self._attribute_found[key]

    def _assigned_classes(self, context: _Found, attribute: str) -> list[_Found]:
        classes: dict[tuple[str, str, str], _Found] = {}
        for cls in self.lineage(context):
            for node in ast.walk(cls.node):
                targets = (
                    node.targets
                    if isinstance(node, ast.Assign)
                    else [node.target]
                    if isinstance(node, ast.AnnAssign)
                    else []
                )
                value = getattr(node, "value", None)
                if value is None or not any(_is_self_attribute(t, attribute) for t in targets):
                    continue
                for call in ast.walk(value):
                    if isinstance(call, ast.Call):
                        resolved = self._expression(cls.module, call.func)
                        if isinstance(resolved, _Found) and resolved.is_class:
                            classes.setdefault(resolved.key, resolved)
        return list(classes.values())


def _is_self_attribute(node: ast.AST, attribute: str) -> bool:
    if isinstance(node, ast.Tuple):
        return any(_is_self_attribute(element, attribute) for element in node.elts)
    return (
        isinstance(node, ast.Attribute)
        and node.attr == attribute
        and isinstance(node.value, ast.Name)
        and node.value.id in _RECEIVERS
    )


def _local_names(node: Definition) -> set[str]:
    """Parameters and assigned names of a function (its nested functions included): they shadow the module's."""
    if isinstance(node, ast.ClassDef):
        return set()
    names: set[str] = set()
    for child in ast.walk(node):
        if isinstance(child, ast.arg):
            names.add(child.arg)
        elif isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store | ast.Del):
            names.add(child.id)
        elif isinstance(child, _FUNCTIONS) and child is not node:
            names.add(child.name)
    return names


def _in_order(nodes: Iterable[ast.AST]) -> list[ast.AST]:
    """Nodes with a position, in source order (ast.walk is breadth first)."""
    positioned = [n for n in nodes if hasattr(n, "lineno")]
    return sorted(positioned, key=lambda n: (n.lineno, n.col_offset))  # type: ignore[attr-defined]
