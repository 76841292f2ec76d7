"""The report's code section (harness/report/sources.py): each adapter's hooks and the helpers they call, by family."""

from __future__ import annotations

import ast
import inspect
import textwrap
from pathlib import Path

import pytest

from harness.core.adapters import CONTRACT
from harness.core.contract import BaseORMProvider
from harness.core.factory import adapter_class
from harness.report.results import FAMILY_ORDER
from harness.report.sources import CONTRACT_METHODS, contract_hooks, family_methods, hook_sources

ROOT = Path(__file__).resolve().parents[2]
ALL = list(CONTRACT)

HELPERS = {
    # adapter: (contract method in crud, a helper its hook calls, the file defining the helper)
    "raw": ("get", "_where", "backends/raw/provider.py"),
    "sqlalchemy": ("get", "_criteria", "backends/sqlalchemy/provider.py"),
    "tortoise": ("get", "_query", "backends/tortoise/provider.py"),
    "piccolo": ("get", "_condition", "backends/piccolo/provider.py"),  # through _where: transitively
}


def definition(path: str, name: str, owner: str | None = None) -> str:
    """The source of a function as the file has it, from its `def` line: a method of class `owner` if given,
    else a module-level function, else a method of any class."""
    source = (ROOT / path).read_text()
    tree = ast.parse(source)
    classes = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and owner in (None, n.name)]
    scopes: list[ast.Module | ast.ClassDef] = [*classes] if owner else [tree, *classes]
    node = next(
        n
        for scope in scopes
        for n in scope.body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == name
    )
    return textwrap.dedent("\n".join(source.splitlines()[node.lineno - 1 : node.end_lineno]))


def family_code(family: str, adapter: str) -> str:
    return "\n\n".join(hook.code[adapter] for hook in hook_sources(family, ALL))


def test_hooks_are_read_from_the_contract() -> None:
    assert contract_hooks("expected_eager_statements") == ("_eager_statements",)
    assert contract_hooks("get_with_relations") == ("_get_many_optimized",)
    assert contract_hooks("create_schema") == ("_migrate",)  # through migrate()
    for method in CONTRACT_METHODS:
        hooks = contract_hooks(method)
        assert hooks, method
        assert all(callable(getattr(BaseORMProvider, hook)) for hook in hooks), (method, hooks)


@pytest.mark.parametrize("family", FAMILY_ORDER)
@pytest.mark.parametrize("adapter", ALL)
def test_every_family_shows_every_adapters_code(family: str, adapter: str) -> None:
    cls = adapter_class(adapter)
    sources = hook_sources(family, ALL)
    assert [hook.method for hook in sources] == family_methods(family) and sources
    code = family_code(family, adapter)
    for hook in sources:
        assert hook.code[adapter].strip(), (family, hook.method)
        assert "not found" not in hook.code[adapter] and "not an adapter" not in hook.code[adapter]
        for name in hook.hooks:
            own = any(name in vars(klass) for klass in cls.__mro__ if klass.__module__.startswith("backends."))
            assert (f"def {name}(" in code) if own else ("is the contract's default" in code), (family, name)


@pytest.mark.parametrize("adapter", ALL)
def test_the_helpers_a_hook_calls_are_shown(adapter: str) -> None:
    method, helper, path = HELPERS[adapter]
    cell = next(hook for hook in hook_sources("crud", ALL) if hook.method == method).code[adapter]
    assert definition(path, f"_{method}", adapter_class(adapter).__name__) in cell
    assert definition(path, helper) in cell
    assert family_code("crud", adapter).count(f"def {helper}(") == 1  # once per family


def test_helpers_are_followed_through_attributes_and_modules() -> None:
    raw = family_code("crud", "raw")
    for dialect in ("_Postgres", "_SQLite"):  # self._db.fetch: the classes self._db is built from
        assert f"# defined in class {dialect}\n" + definition("backends/raw/provider.py", "fetch", dialect) in raw
    piccolo = next(hook for hook in hook_sources("migrations", ALL) if hook.method == "migrate").code["piccolo"]
    runner = "backends/piccolo/migrations/runner.py"
    assert f"# defined in {runner}\n" + definition(runner, "migrate") in piccolo  # imported from the package
    assert f"# defined in {runner}\n" + definition(runner, "sqlite_create_table") in piccolo  # via a class


@pytest.mark.parametrize("adapter", ALL)
def test_the_eager_cost_names_each_adapters_own_override(adapter: str) -> None:
    cell = next(hook for hook in hook_sources("eager", ALL) if hook.method == "expected_eager_statements").code[adapter]
    cls = adapter_class(adapter)
    hook = contract_hooks("expected_eager_statements")[0]
    if hook in vars(cls):
        assert textwrap.dedent(inspect.getsource(vars(cls)[hook])).strip() in cell
        assert "contract's default" not in cell
    else:
        assert cell.startswith(f"# {adapter}: {cls.__name__}.{hook} is the contract's default")
        assert textwrap.dedent(inspect.getsource(getattr(BaseORMProvider, hook))).strip() in cell
    assert {a for a in ALL if hook in vars(adapter_class(a))} == {"sqlalchemy", "tortoise", "piccolo"}
