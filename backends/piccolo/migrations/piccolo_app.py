"""The Piccolo app whose migrations build the shared schema: the adapter's own tables, one set of them."""

from __future__ import annotations

from piccolo.conf.apps import AppConfig

from backends.piccolo.migrations.runner import APP_NAME, MIGRATIONS_FOLDER
from backends.piccolo.models import make_tables

_models = make_tables()

APP_CONFIG = AppConfig(
    app_name=APP_NAME,
    migrations_folder_path=str(MIGRATIONS_FOLDER),
    table_classes=[
        _models.User,
        _models.Task,
        _models.Tag,
        _models.Task.tags._meta.resolved_joining_table,
        _models.Comment,
        _models.Account,
        _models.TransferLog,
        _models.AuditEvent,
        _models.Document,
        _models.Follow,
        _models.CacheEntry,
    ],
)
