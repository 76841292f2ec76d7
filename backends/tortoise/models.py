"""The tortoise adapter's models: `declare_models()` declares the shared schema as fresh Tortoise model classes,
one set per provider (see the provider's module docstring for why), with the column CHECKs Tortoise cannot declare.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from tortoise import fields
from tortoise.backends.base.schema_generator import BaseSchemaGenerator
from tortoise.fields.db_defaults import Now
from tortoise.functions import Lower
from tortoise.indexes import Index
from tortoise.models import Model
from tortoise_vector.field import VectorField

from harness.core.schema import EMBEDDING_DIMENSIONS


class _CheckMixin:
    """A column CHECK appended to the column's DDL type: `generate_schemas()` ignores `Meta.constraints` (only
    the migration editor reads them), and a column constraint may follow the type in PostgreSQL and SQLite.
    SQL_TYPE is read only for DDL (and bulk_update's casts, unused here)."""

    def __init__(self, *args: Any, check: str, sqlite_check: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.checks = {"": check, "sqlite": sqlite_check or check}

    def get_for_dialect(self, dialect: str, key: str) -> Any:
        value = super().get_for_dialect(dialect, key)  # type: ignore[misc]
        if key != "SQL_TYPE":
            return value
        return f"{value} CHECK ({self.checks.get(dialect, self.checks[''])})"


class CheckedSmallIntField(_CheckMixin, fields.SmallIntField):
    pass


# Tortoise's DecimalField subclasses both Field and Decimal, whose __copy__ signatures clash; Tortoise silences the
# same error on DecimalField itself, and every subclass inherits it.
class CheckedDecimalField(_CheckMixin, fields.DecimalField):  # type: ignore[misc]
    pass


class UniqueIndex(Index):
    """Tortoise's Index takes expressions (a functional index) but has no unique flag: CREATE UNIQUE INDEX here."""

    def get_sql(self, schema_generator: BaseSchemaGenerator, model: type[Model], safe: bool) -> str:
        return super().get_sql(schema_generator, model, safe).replace("CREATE INDEX", "CREATE UNIQUE INDEX", 1)


class UnqualifiedVectorField(VectorField):
    """tortoise-vector's field (pgvector's text form in and out), its type written `vector(384)`: the plugin's own
    `public.vector(384)` is a syntax error in SQLite's DDL, and PostgreSQL finds `vector` on the search path."""

    def __init__(self, vector_size: int, **kwargs: Any) -> None:
        super().__init__(vector_size, **kwargs)
        self._schema = ""  # the plugin turns schema="" into "public."


def _fk(target: str, related_name: str | Literal[False], index: bool = True) -> Any:
    return fields.ForeignKeyField(
        f"models.{target}", related_name=related_name, on_delete=fields.CASCADE, db_index=index
    )


def _money(column: str, check: str, **kwargs: Any) -> CheckedDecimalField:
    # Tortoise keeps decimals as text on SQLite and compares them there through CAST(... AS NUMERIC): so do the CHECKs.
    return CheckedDecimalField(
        max_digits=12,
        decimal_places=2,
        check=f'"{column}" {check}',
        sqlite_check=f'CAST("{column}" AS NUMERIC) {check}',
        **kwargs,
    )


def declare_models() -> dict[str, type[Model]]:
    """The shared schema as fresh Tortoise model classes (see the module docstring for why per provider)."""

    class User(Model):
        id = fields.IntField(primary_key=True)
        username = fields.CharField(max_length=50, unique=True)
        email = fields.CharField(max_length=255, unique=True)
        is_active = fields.BooleanField(db_default=True)
        created_at = fields.DatetimeField(db_default=Now())
        last_sign_in_at = fields.DatetimeField(null=True)

        class Meta:
            table = "users"
            indexes = (UniqueIndex(Lower("email"), name="ix_users_lower_email"),)

    class Task(Model):
        id = fields.IntField(primary_key=True)
        user = _fk("User", "tasks")
        title = fields.CharField(max_length=255)
        description = fields.TextField(null=True)
        completed = fields.BooleanField(db_default=False)
        priority = CheckedSmallIntField(db_default=0, check='"priority" >= 0 AND "priority" <= 5')
        created_at = fields.DatetimeField(db_default=Now())
        due_date = fields.DatetimeField(null=True)  # revision 0002
        # The link table is the TaskTag model below, so generate_schemas does not create its own.
        tags: fields.ManyToManyRelation[Tag] = fields.ManyToManyField(
            "models.Tag", through="task_tags", backward_key="task_id", forward_key="tag_id", related_name="tasks"
        )

        class Meta:
            table = "tasks"
            unique_together = (("user", "title"),)
            indexes = (("user_id", "completed"), ("user_id", "due_date"))

    class Tag(Model):
        id = fields.IntField(primary_key=True)
        name = fields.CharField(max_length=50, unique=True)

        class Meta:
            table = "tags"

    class TaskTag(Model):
        id = fields.IntField(primary_key=True)
        task = _fk("Task", False, index=False)
        tag = _fk("Tag", False, index=False)

        class Meta:
            table = "task_tags"
            unique_together = (("task", "tag"),)

    class Comment(Model):
        id = fields.IntField(primary_key=True)
        task = _fk("Task", "comments")
        author = _fk("User", False)
        body = fields.TextField()
        created_at = fields.DatetimeField(db_default=Now())

        class Meta:
            table = "comments"

    class Account(Model):
        id = fields.IntField(primary_key=True)
        user = _fk("User", "accounts")
        balance = _money("balance", ">= 0", db_default=Decimal("0"))

        class Meta:
            table = "accounts"

    class TransferLog(Model):
        id = fields.IntField(primary_key=True)
        from_account = _fk("Account", False)
        to_account = _fk("Account", False)
        amount = _money("amount", "> 0")
        created_at = fields.DatetimeField(db_default=Now())

        class Meta:
            table = "transfer_log"

    class AuditEvent(Model):
        # Append-only: actor_id is no foreign key, as an audit trail outlives the users it names.
        id = fields.IntField(primary_key=True)
        occurred_at = fields.DatetimeField(db_default=Now())
        actor_id = fields.IntField()
        action = fields.CharField(max_length=50)
        payload: fields.JSONField[dict[str, Any]] = fields.JSONField()  # JSONB on PostgreSQL, JSON on SQLite

        class Meta:
            table = "audit_events"
            indexes = (("occurred_at",), ("actor_id", "occurred_at"))

    class Document(Model):
        id = fields.IntField(primary_key=True)
        title = fields.CharField(max_length=255)
        category = fields.CharField(max_length=50, db_index=True)
        embedding = UnqualifiedVectorField(vector_size=EMBEDDING_DIMENSIONS)

        class Meta:
            table = "documents"

    class Follow(Model):
        id = fields.IntField(primary_key=True)
        follower = _fk("User", False, index=False)  # the unique pair below indexes it first
        followee = _fk("User", False)

        class Meta:
            table = "follows"
            unique_together = (("follower", "followee"),)

    class CacheEntry(Model):
        key = fields.CharField(max_length=255, primary_key=True)
        value = fields.TextField()
        expires_at = fields.DatetimeField(db_index=True)

        class Meta:
            table = "cache_entries"

    models = (User, Task, Tag, TaskTag, Comment, Account, TransferLog, AuditEvent, Document, Follow, CacheEntry)
    return {m.__name__: m for m in models}
