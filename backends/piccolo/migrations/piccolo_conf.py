"""Piccolo's configuration module for the harness app: `PICCOLO_CONF=backends.piccolo.migrations.piccolo_conf`.

Piccolo's migration code finds its engine globally, through `engine_finder()`, which reads `DB` here. `DB` is not
a constant: it is the engine the runner put in its `CURRENT_ENGINE` (a ContextVar) for the migration under way, so a
SQLite and a PostgreSQL provider can migrate at the same time from different tasks. Outside a migration `DB` is
None, which is all the authoring commands need (`piccolo migrations new harness --auto` reads no database).
"""

from __future__ import annotations

from typing import Any

from piccolo.conf.apps import AppRegistry

from backends.piccolo.migrations.runner import CURRENT_ENGINE

APP_REGISTRY = AppRegistry(apps=["backends.piccolo.migrations.piccolo_app"])


def __getattr__(name: str) -> Any:
    # Module __getattr__ (PEP 562): Piccolo's Finder does getattr(piccolo_conf, "DB") on every lookup.
    if name == "DB":
        return CURRENT_ENGINE.get()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
