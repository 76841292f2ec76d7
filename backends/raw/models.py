"""The raw baseline's models: plain dataclasses, one per entity of the shared schema, with slots for the relations
that `get_many_optimized` fills.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(slots=True, eq=False)
class User:
    id: int
    username: str
    email: str
    is_active: bool
    created_at: datetime
    last_sign_in_at: datetime | None
    tasks: list[Task] | None = field(default=None, repr=False)
    accounts: list[Account] | None = field(default=None, repr=False)


@dataclass(slots=True, eq=False)
class Task:
    id: int
    user_id: int
    title: str
    description: str | None
    completed: bool
    priority: int
    created_at: datetime
    due_date: datetime | None
    user: User | None = field(default=None, repr=False)
    comments: list[Comment] | None = field(default=None, repr=False)
    tags: list[Tag] | None = field(default=None, repr=False)


@dataclass(slots=True, eq=False)
class Tag:
    id: int
    name: str
    tasks: list[Task] | None = field(default=None, repr=False)


@dataclass(slots=True, eq=False)
class Comment:
    id: int
    task_id: int
    author_id: int
    body: str
    created_at: datetime
    task: Task | None = field(default=None, repr=False)
    author: User | None = field(default=None, repr=False)


@dataclass(slots=True, eq=False)
class Account:
    id: int
    user_id: int
    balance: Decimal
    user: User | None = field(default=None, repr=False)


@dataclass(slots=True, eq=False)
class TransferLog:
    id: int
    from_account_id: int
    to_account_id: int
    amount: Decimal
    created_at: datetime


@dataclass(slots=True, eq=False)
class AuditEvent:
    id: int
    occurred_at: datetime
    actor_id: int
    action: str
    payload: dict[str, Any]


@dataclass(slots=True, eq=False)
class Document:
    id: int
    title: str
    category: str
    embedding: list[float]


@dataclass(slots=True, eq=False)
class Follow:
    id: int
    follower_id: int
    followee_id: int


@dataclass(slots=True, eq=False)
class CacheEntry:
    key: str
    value: str
    expires_at: datetime
