"""The piccolo adapter's models: `make_tables()` declares the shared schema as fresh Piccolo `Table` classes, one
set per provider (bound to the provider's engine when it connects); the migrations' app lists them too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from piccolo.columns import (
    JSON,
    JSONB,
    M2M,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    Numeric,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnUpdate
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.reference import LazyTableReference
from piccolo.constraints import Check, Unique
from piccolo.table import Table

from harness.core.contract import Models
from harness.core.schema import EMBEDDING_DIMENSIONS


class Vector(Column):
    """pgvector's `vector(n)`. Piccolo has no vector column (its column types stop at arrays and JSON), so this one
    only names the type; values are lists of floats, which pgvector's asyncpg codec on the provider's pool binds
    and reads (PostgreSQL), and which Piccolo's own list adapter stores as JSON text (SQLite)."""

    value_type = list

    def __init__(self, dimensions: int, **kwargs: Any) -> None:
        self.dimensions = dimensions
        self.default = None
        kwargs["dimensions"] = dimensions  # kept for Piccolo's migrations, like every column's arguments
        super().__init__(**kwargs)

    @property
    def column_type(self) -> str:
        return f"vector({self.dimensions})"


@dataclass
class _LocalReference(LazyTableReference):
    """Resolves to a Table of this provider: Piccolo's own references resolve through a module or app."""

    tables: dict[str, type[Table]] = field(default_factory=dict, repr=False, compare=False)

    def resolve(self) -> type[Table]:
        return self.tables[self.table_class_name]


def _fk(references: type[Table], index: bool = False) -> ForeignKey:
    # Piccolo's ForeignKey defaults to NULL and ON UPDATE CASCADE; the shared schema has neither.
    return ForeignKey(references, null=False, index=index, on_update=OnUpdate.no_action)


def make_tables(postgres: bool = True) -> Models:
    """Fresh Table classes for one provider (on PostgreSQL or SQLite): their engine is set when it connects."""
    local: dict[str, type[Table]] = {}
    task_tags = _LocalReference("TaskTag", module_path=__name__, tables=local)

    # default=None on NOT NULL columns: no DEFAULT in the catalog (Piccolo's is ''), NOT NULL enforced by the DB.
    class User(Table, tablename="users"):
        username = Varchar(length=50, unique=True, default=None)
        email = Varchar(length=255, unique=True, default=None)
        is_active = Boolean(default=True)
        created_at = Timestamptz(default=TimestamptzNow())
        last_sign_in_at = Timestamptz(null=True, default=None)
        # The unique index on lower(email) is an expression, which a Piccolo Table cannot declare: the provider's
        # DDL and the migrations add it as raw SQL.

    class Task(Table, tablename="tasks"):
        user_id = _fk(User, index=True)
        title = Varchar(length=255, default=None)
        description = Text(null=True, default=None)
        completed = Boolean(default=False)
        priority = SmallInt(default=0)
        created_at = Timestamptz(default=TimestamptzNow())
        due_date = Timestamptz(null=True, default=None)
        tags = M2M(task_tags)
        tasks_user_id_title_key = Unique([user_id, title])
        tasks_priority_check = Check((priority >= 0) & (priority <= 5))

    class Tag(Table, tablename="tags"):
        name = Varchar(length=50, unique=True, default=None)
        tasks = M2M(task_tags)

    class TaskTag(Table, tablename="task_tags"):
        task_id = _fk(Task)
        tag_id = _fk(Tag)
        task_tags_task_id_tag_id_key = Unique([task_id, tag_id])

    class Comment(Table, tablename="comments"):
        task_id = _fk(Task, index=True)
        author_id = _fk(User, index=True)
        body = Text(default=None)
        created_at = Timestamptz(default=TimestamptzNow())

    class Account(Table, tablename="accounts"):
        user_id = _fk(User, index=True)
        balance = Numeric(digits=(12, 2), default=Decimal(0))
        accounts_balance_check = Check(balance >= 0)

    class TransferLog(Table, tablename="transfer_log"):
        from_account_id = _fk(Account, index=True)
        to_account_id = _fk(Account, index=True)
        amount = Numeric(digits=(12, 2), default=None)
        created_at = Timestamptz(default=TimestamptzNow())
        transfer_log_amount_check = Check(amount > 0)

    class AuditEvent(Table, tablename="audit_events"):
        # Append-only: actor_id is no foreign key, as an audit trail outlives the users it names.
        occurred_at = Timestamptz(default=TimestamptzNow(), index=True)
        actor_id = Integer(default=None)
        action = Varchar(length=50, default=None)
        payload = (JSONB if postgres else JSON)(default=None)

    class Document(Table, tablename="documents"):
        title = Varchar(length=255, default=None)
        category = Varchar(length=50, default=None, index=True)
        embedding = Vector(EMBEDDING_DIMENSIONS)

    class Follow(Table, tablename="follows"):
        follower_id = _fk(User)  # the unique pair below indexes it first
        followee_id = _fk(User, index=True)
        follows_follower_id_followee_id_key = Unique([follower_id, followee_id])

    class CacheEntry(Table, tablename="cache_entries"):
        key = Varchar(length=255, primary_key=True, default=None)
        value = Text(default=None)
        expires_at = Timestamptz(index=True, default=None)

    local["TaskTag"] = TaskTag
    return Models(
        User=User,
        Task=Task,
        Tag=Tag,
        Comment=Comment,
        Account=Account,
        TransferLog=TransferLog,
        AuditEvent=AuditEvent,
        Document=Document,
        Follow=Follow,
        CacheEntry=CacheEntry,
    )
