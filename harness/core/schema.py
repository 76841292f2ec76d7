"""The shared logical schema: entity names, their columns and their relations.

Every backend declares the same schema as its own ORM's models (docs/schema.md describes it). This module
is the one ORM-free description of it, used by the contract to reject unknown fields and relations with the
same error whatever ORM is underneath, and by the dataset generator and the tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

RelationKind = Literal["forward", "reverse", "m2m"]


@dataclass(frozen=True)
class Relation:
    """A navigable relation of an entity, loaded by `get_many_optimized` and `get_with_relations`.

    `forward`: a foreign key on this entity, the attribute holds one object (or None).
    `reverse`: the foreign key `via` on `target` points here, the attribute holds a list.
    `m2m`: through the `task_tags` link table, the attribute holds a list.
    """

    kind: RelationKind
    target: str
    via: str


@dataclass(frozen=True)
class Entity:
    """One table of the shared schema.

    keys: the column sets that identify one row (the primary key, unique columns, unique pairs).
    required: the columns a new row must be given (NOT NULL without a default).
    """

    name: str
    table: str
    columns: tuple[str, ...]
    relations: dict[str, Relation]
    keys: tuple[tuple[str, ...], ...] = (("id",),)
    required: tuple[str, ...] = ()


ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        Entity(
            "User",
            "users",
            ("id", "username", "email", "is_active", "created_at", "last_sign_in_at"),
            {
                "tasks": Relation("reverse", "Task", "user_id"),
                "accounts": Relation("reverse", "Account", "user_id"),
            },
            keys=(("id",), ("username",), ("email",)),
            required=("username", "email"),
        ),
        Entity(
            "Task",
            "tasks",
            ("id", "user_id", "title", "description", "completed", "priority", "created_at", "due_date"),
            {
                "user": Relation("forward", "User", "user_id"),
                "comments": Relation("reverse", "Comment", "task_id"),
                "tags": Relation("m2m", "Tag", "task_tags"),
            },
            keys=(("id",), ("user_id", "title")),
            required=("user_id", "title"),
        ),
        Entity(
            "Tag",
            "tags",
            ("id", "name"),
            {"tasks": Relation("m2m", "Task", "task_tags")},
            keys=(("id",), ("name",)),
            required=("name",),
        ),
        Entity(
            "Comment",
            "comments",
            ("id", "task_id", "author_id", "body", "created_at"),
            {
                "task": Relation("forward", "Task", "task_id"),
                "author": Relation("forward", "User", "author_id"),
            },
            required=("task_id", "author_id", "body"),
        ),
        Entity(
            "Account",
            "accounts",
            ("id", "user_id", "balance"),
            {"user": Relation("forward", "User", "user_id")},
            required=("user_id",),
        ),
        Entity(
            "TransferLog",
            "transfer_log",
            ("id", "from_account_id", "to_account_id", "amount", "created_at"),
            {},
            required=("from_account_id", "to_account_id", "amount"),
        ),
        Entity(
            "AuditEvent",
            "audit_events",
            ("id", "occurred_at", "actor_id", "action", "payload"),
            {},
            required=("actor_id", "action", "payload"),
        ),
        Entity(
            "Document",
            "documents",
            ("id", "title", "category", "embedding"),
            {},
            required=("title", "category", "embedding"),
        ),
        # The GRAPH tier's edges: who follows whom (harness/core/workloads/graph.py traverses them).
        Entity(
            "Follow",
            "follows",
            ("id", "follower_id", "followee_id"),
            {},
            keys=(("id",), ("follower_id", "followee_id")),
            required=("follower_id", "followee_id"),
        ),
        # The CACHE tier's key-value rows with an expiry (harness/core/workloads/cache.py).
        Entity(
            "CacheEntry",
            "cache_entries",
            ("key", "value", "expires_at"),
            {},
            keys=(("key",),),
            required=("key", "value", "expires_at"),
        ),
    )
}

EMBEDDING_DIMENSIONS = 384
"""Dimensions of `documents.embedding` (pgvector's `vector(384)`), the size of small sentence-embedding models."""

REVISIONS = ("0001_shared_schema", "0002_task_due_date", "0003_tier_workloads")
"""The schema's migrations, oldest first, the same in every adapter's own migration tool: 0001 creates the
shared schema without `tasks.due_date` and the tier workloads' schema; 0002 adds the nullable `tasks.due_date` (a
timestamptz) and an index on (user_id, due_date); 0003 adds the tier workloads' schema (`users.last_sign_in_at`, the
unique index on lower(email), `audit_events`, `documents`, `follows`, `cache_entries`). The head revision is the
shared schema the models describe."""


def latest_revision(applied: Iterable[str]) -> str | None:
    """The newest of the `REVISIONS` ids a migration tool records as applied; None when it records none."""
    recorded = set(applied)
    found = [revision for revision in REVISIONS if revision in recorded]
    return found[-1] if found else None


# Creation order respects foreign keys; drop in reverse.
TABLES_IN_DEPENDENCY_ORDER = (
    "users",
    "tasks",
    "tags",
    "task_tags",
    "comments",
    "accounts",
    "transfer_log",
    "audit_events",
    "documents",
    "follows",
    "cache_entries",
)


def relation_kind(entity: str, path: str) -> RelationKind:
    """The kind of the last step of a dotted relation path."""
    return relation_chain(entity, path)[-1][1].kind


def relation_chain(entity: str, path: str) -> list[tuple[str, Relation]]:
    """Resolve a dotted relation path ("tasks.comments") into (name, Relation) steps from `entity`."""
    from harness.core.errors import UnknownFieldError

    steps = []
    current = ENTITIES[entity]
    for name in path.split("."):
        relation = current.relations.get(name)
        if relation is None:
            raise UnknownFieldError(
                f"{current.name} has no relation {name!r} (known: {', '.join(sorted(current.relations))})"
            )
        steps.append((name, relation))
        current = ENTITIES[relation.target]
    return steps
