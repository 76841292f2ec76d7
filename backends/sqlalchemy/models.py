"""The sqlalchemy adapter's models: the shared schema as SQLAlchemy 2 declarative classes (and the `task_tags`
link table), with the SQLite variant of timestamps. Alembic's env.py reads their metadata.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    func,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from harness.core.schema import EMBEDDING_DIMENSIONS


class _UTCText(TypeDecorator[datetime]):
    """SQLite keeps timestamps as naive text (CURRENT_TIMESTAMP is UTC): store and return them as aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            return value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


# asyncpg already returns aware datetimes: no per-row Python conversion on PostgreSQL.
Timestamp = DateTime(timezone=True).with_variant(_UTCText(), "sqlite")
Money = Numeric(12, 2, asdecimal=True)
# JSONB on PostgreSQL, JSON (text) on SQLite; indexing the column (`payload["key"].as_string()`) compiles to
# `payload ->> 'key'` on the one and JSON_EXTRACT(payload, '$."key"') on the other.
Payload = JSON().with_variant(JSONB(), "postgresql")


def _created_at() -> Mapped[datetime]:
    return mapped_column(Timestamp, server_default=func.current_timestamp())


def _fk(target: str) -> Mapped[int]:
    return mapped_column(ForeignKey(target, ondelete="CASCADE"), index=True)


class Base(DeclarativeBase):
    pass


task_tags = Table(
    "task_tags",
    Base.metadata,
    Column("id", Integer, primary_key=True),
    Column("task_id", ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), nullable=False),
    UniqueConstraint("task_id", "tag_id"),
)

# lazy="raise": a relation that was not eagerly loaded fails loudly instead of trying (and failing) to lazy-load.


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    is_active: Mapped[bool] = mapped_column(server_default=true())
    created_at: Mapped[datetime] = _created_at()
    last_sign_in_at: Mapped[datetime | None] = mapped_column(Timestamp)
    tasks: Mapped[list[Task]] = relationship(back_populates="user", lazy="raise")
    accounts: Mapped[list[Account]] = relationship(back_populates="user", lazy="raise")


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("user_id", "title"),
        CheckConstraint("priority >= 0 AND priority <= 5", name="ck_tasks_priority"),
        Index("ix_tasks_user_id_completed", "user_id", "completed"),
        Index("ix_tasks_user_id_due_date", "user_id", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = _fk("users.id")
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    completed: Mapped[bool] = mapped_column(server_default=false())
    priority: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    created_at: Mapped[datetime] = _created_at()
    due_date: Mapped[datetime | None] = mapped_column(Timestamp)
    user: Mapped[User] = relationship(back_populates="tasks", lazy="raise")
    comments: Mapped[list[Comment]] = relationship(back_populates="task", lazy="raise")
    tags: Mapped[list[Tag]] = relationship(secondary=task_tags, back_populates="tasks", lazy="raise")


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    tasks: Mapped[list[Task]] = relationship(secondary=task_tags, back_populates="tags", lazy="raise")


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = _fk("tasks.id")
    author_id: Mapped[int] = _fk("users.id")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _created_at()
    task: Mapped[Task] = relationship(back_populates="comments", lazy="raise")
    author: Mapped[User] = relationship(lazy="raise")


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint("balance >= 0", name="ck_accounts_balance"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = _fk("users.id")
    balance: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    user: Mapped[User] = relationship(back_populates="accounts", lazy="raise")


class TransferLog(Base):
    __tablename__ = "transfer_log"
    __table_args__ = (CheckConstraint("amount > 0", name="ck_transfer_log_amount"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    from_account_id: Mapped[int] = _fk("accounts.id")
    to_account_id: Mapped[int] = _fk("accounts.id")
    amount: Mapped[Decimal] = mapped_column(Money)
    created_at: Mapped[datetime] = _created_at()


# An expression index is declared after the class: it needs the mapped column.
Index("ix_users_lower_email", func.lower(User.email), unique=True)


class AuditEvent(Base):
    """Append-only: no relation, and actor_id is no foreign key, as an audit trail outlives the users it names."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_occurred_at", "occurred_at"),
        Index("ix_audit_events_actor_id_occurred_at", "actor_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = _created_at()
    actor_id: Mapped[int]
    action: Mapped[str] = mapped_column(String(50))
    payload: Mapped[dict[str, Any]] = mapped_column(Payload)


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(255))
    category: Mapped[str] = mapped_column(String(50), index=True)
    # pgvector's SQLAlchemy type: vector(384) on PostgreSQL; on SQLite the same text form, which sqlite-vec reads.
    embedding: Mapped[list[float]] = mapped_column(Vector(EMBEDDING_DIMENSIONS))


class Follow(Base):
    """An edge of the GRAPH tier: `follower_id` follows `followee_id`. The unique pair is the forward index."""

    __tablename__ = "follows"
    __table_args__ = (UniqueConstraint("follower_id", "followee_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    follower_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    followee_id: Mapped[int] = _fk("users.id")


class CacheEntry(Base):
    __tablename__ = "cache_entries"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(Timestamp, index=True)
