"""A seeded, deterministic dataset, loaded the same way through every adapter.

Rows carry no ids: they are inserted, in order, into fresh tables, so the database numbers them 1..N the same
way for every adapter, and foreign keys are given as those positions. `load` checks that this held.

The documents' embeddings are synthetic: unit vectors of `EMBEDDING_DIMENSIONS` float32 values around
`EMBEDDING_CLUSTERS` random centres (a topic each), so a document's nearest neighbours are mostly of its topic, as
with real sentence embeddings; categories are drawn independently of topics, so a category filter changes the
answer. They are kept as one numpy matrix (`document_vectors`, row i is document i + 1) rather than as millions of
Python floats; `document_rows` turns a slice into the rows `create_many` takes. `query_vectors` are new points drawn
the same way, the queries the nearest-neighbour scenarios ask.

The tier workloads' data: users' last sign-ins and `audit_events` (drawn from a generator of their own), `follows`,
the GRAPH tier's edges between the users, and `cache_entries`, the CACHE tier's keys (each from a generator of its
own too, so no tier's data or size changes another's rows). The follow graph has communities (consecutive blocks of
users, each following mostly inside its own, so neighbourhoods grow hop by hop, slowly inside a community and faster
once edges leave it), and in every community one user nobody follows (no path leads to them) and one who follows
nobody (no path leaves them). A cache entry carries its time to live (`ttl`) rather than its expiry, as the cache's
clock is the current time (harness/core/workloads/cache.py): `load` stores `now + ttl`, and about one entry in five
has expired already.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from harness.core.contract import BaseORMProvider
from harness.core.schema import EMBEDDING_DIMENSIONS
from harness.core.workloads.cache import CacheItem, CacheOperations

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
STARTING_BALANCE = Decimal("1000.00")
AUDIT_EPOCH = EPOCH + timedelta(days=30)
AUDIT_SPACING = timedelta(seconds=90)
"""Audit events are spread evenly, one per 90 seconds (960 a day), each at a random instant within its slot, so
their ids follow their times."""
AUDIT_ACTIONS = ("sign_in", "sign_out", "task.create", "task.update", "task.delete", "export", "role.grant")
AUDIT_OUTCOMES = (("success", 0.93), ("denied", 0.05), ("error", 0.02))
CATEGORIES = ("news", "science", "sports", "finance", "health", "travel", "food", "culture")
EMBEDDING_CLUSTERS = 24
EMBEDDING_SPREAD = 0.8
"""Length of a vector's offset from its topic's centre before normalising (the centre has length 1): a document's
cosine similarity to its centre is about 0.8, to another document of its topic about 0.6, to other topics about 0."""
LOAD_CHUNK = 1000
"""Documents per `create_many` in `load`: their embeddings become Python floats one chunk at a time."""


@dataclass(frozen=True)
class DatasetSize:
    users: int = 50
    tasks_per_user: int = 10
    comments_per_task: int = 2
    tags: int = 20
    tags_per_task: int = 2
    audit_events: int = 300
    documents: int = 100
    embedding_queries: int = 10
    follows_per_user: int = 3
    communities: int = 2
    cache_entries: int = 40

    def without_tier_rows(self) -> DatasetSize:
        """The same users, tasks, tags and comments, without the tier workloads' rows (audit events, documents,
        follows, cache entries): for a database whose scenario reads none of them."""
        return replace(self, audit_events=0, documents=0, embedding_queries=0, follows_per_user=0, cache_entries=0)


@dataclass(frozen=True)
class Dataset:
    size: DatasetSize
    seed: int
    users: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    tags: list[dict[str, Any]]
    task_tags: list[tuple[int, int]]
    comments: list[dict[str, Any]]
    accounts: list[dict[str, Any]]
    audit_events: list[dict[str, Any]]
    follows: list[dict[str, Any]]
    cache_entries: list[dict[str, Any]]
    documents: list[dict[str, Any]] = field(default_factory=list)
    """Each document's title and category; its embedding is the same row of `document_vectors`."""
    document_vectors: np.ndarray = field(default_factory=lambda: _no_vectors(), compare=False)
    query_vectors: np.ndarray = field(default_factory=lambda: _no_vectors(), compare=False)

    @property
    def total_balance(self) -> Decimal:
        return sum((a["balance"] for a in self.accounts), Decimal("0.00"))


def generate(size: DatasetSize | None = None, seed: int = 42) -> Dataset:
    """The same rows for the same size and seed, on every machine."""
    size = size or DatasetSize()
    rng = random.Random(seed)
    # The tier workloads' values come from a stream of their own, so the rows that existed before them stay the same.
    tier_rng = random.Random(f"{seed}:tiers")
    users = [
        {
            "username": f"user{u:05d}",
            "email": f"user{u:05d}@example.org",
            "is_active": rng.random() < 0.9,
            "created_at": EPOCH + timedelta(minutes=u),
            "last_sign_in_at": _last_sign_in(tier_rng),
        }
        for u in range(1, size.users + 1)
    ]
    tasks = [
        {
            "user_id": u,
            "title": f"task {t} of user {u}",
            "description": None if rng.random() < 0.3 else f"details of task {t} for user {u}",
            "completed": rng.random() < 0.4,
            "priority": rng.randint(0, 5),
            "created_at": EPOCH + timedelta(hours=u, minutes=t),
            "due_date": None if rng.random() < 0.5 else EPOCH + timedelta(days=30 + u % 60, hours=t),
        }
        for u in range(1, size.users + 1)
        for t in range(1, size.tasks_per_user + 1)
    ]
    tags = [{"name": f"tag{g:03d}"} for g in range(1, size.tags + 1)]
    task_tags = [
        (task, tag)
        for task in range(1, len(tasks) + 1)
        for tag in sorted(rng.sample(range(1, size.tags + 1), min(size.tags_per_task, size.tags)))
    ]
    comments = [
        {
            "task_id": task,
            "author_id": rng.randint(1, size.users),
            "body": f"comment {c} on task {task}",
            "created_at": EPOCH + timedelta(days=1, minutes=task, seconds=c),
        }
        for task in range(1, len(tasks) + 1)
        for c in range(1, size.comments_per_task + 1)
    ]
    accounts = [{"user_id": u, "balance": STARTING_BALANCE} for u in range(1, size.users + 1)]
    audit_events = [_audit_event(tier_rng, n, size.users) for n in range(size.audit_events)]
    documents = [{"title": f"document {d}", "category": rng.choice(CATEGORIES)} for d in range(1, size.documents + 1)]
    vectors = embeddings(size.documents + size.embedding_queries, seed)
    follows = _follows(size, random.Random(f"{seed}:graph"))
    cache_entries = _cache_entries(size, random.Random(f"{seed}:cache"))
    return Dataset(
        size,
        seed,
        users,
        tasks,
        tags,
        task_tags,
        comments,
        accounts,
        audit_events,
        follows,
        cache_entries,
        documents,
        vectors[: size.documents],
        vectors[size.documents :],
    )


def _last_sign_in(rng: random.Random) -> datetime | None:
    """A user's last sign-in: never for 3 in 10, else some instant of the tenth day."""
    return None if rng.random() < 0.3 else EPOCH + timedelta(days=10, microseconds=rng.randrange(86_400_000_000))


def _audit_event(rng: random.Random, n: int, users: int) -> dict[str, Any]:
    """The n-th event (from 0) of the audit log: who did what, and the request's details in the JSON payload."""
    outcome = rng.choices([o for o, _ in AUDIT_OUTCOMES], [w for _, w in AUDIT_OUTCOMES])[0]
    return {
        "occurred_at": AUDIT_EPOCH + n * AUDIT_SPACING + timedelta(microseconds=rng.randrange(90_000_000)),
        "actor_id": rng.randint(1, max(users, 1)),
        "action": rng.choice(AUDIT_ACTIONS),
        "payload": {
            "outcome": outcome,
            "ip": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            "target": f"task:{rng.randint(1, 100_000)}",
            "request_id": f"{rng.getrandbits(64):016x}",
        },
    }


def embeddings(count: int, seed: int) -> np.ndarray:
    """`count` unit vectors (float32, one per row) around `EMBEDDING_CLUSTERS` seeded random centres."""
    generator = np.random.default_rng(seed)
    centres = _unit(generator.standard_normal((EMBEDDING_CLUSTERS, EMBEDDING_DIMENSIONS)))
    topics = generator.integers(EMBEDDING_CLUSTERS, size=count)
    offsets = generator.standard_normal((count, EMBEDDING_DIMENSIONS)) * (EMBEDDING_SPREAD / EMBEDDING_DIMENSIONS**0.5)
    return _unit(centres[topics] + offsets).astype(np.float32)


def _no_vectors() -> np.ndarray:
    return np.zeros((0, EMBEDDING_DIMENSIONS), np.float32)


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def document_rows(dataset: Dataset, start: int, stop: int) -> list[dict[str, Any]]:
    """Documents start..stop-1 (0-based) as rows for `create_many`, each embedding a list of Python floats."""
    vectors = dataset.document_vectors[start:stop].tolist()
    return [{**row, "embedding": vector} for row, vector in zip(dataset.documents[start:stop], vectors, strict=True)]


def community_of(user: int, size: DatasetSize) -> range:
    """The users of `user`'s community: a block of consecutive ids."""
    count = max(1, min(size.communities, size.users))
    index = (user - 1) * count // size.users
    return range(index * size.users // count + 1, (index + 1) * size.users // count + 1)


def unfollowed(community: range) -> int:
    """The member nobody follows: its last."""
    return community[-1]


def silent(community: range) -> int:
    """The member who follows nobody: its second to last (its only one, in a community of one)."""
    return community[-2] if len(community) > 1 else community[-1]


def _follows(size: DatasetSize, rng: random.Random) -> list[dict[str, Any]]:
    """Each user follows up to `follows_per_user` others, four in five inside their community."""
    if size.follows_per_user == 0:
        return []  # without the per-user candidate lists, quadratic in the users
    users = range(1, size.users + 1)
    hidden = {unfollowed(community_of(u, size)) for u in users}
    follows = []
    for user in users:
        community = community_of(user, size)
        if user == silent(community):
            continue
        near = [u for u in community if u != user and u not in hidden]
        far = [u for u in users if u != user and u not in hidden]
        chosen: list[int] = []
        while len(chosen) < min(size.follows_per_user, len(far)):
            pool = near if near and rng.random() < 0.8 else far
            if (followee := rng.choice(pool)) not in chosen:
                chosen.append(followee)
        follows += [{"follower_id": user, "followee_id": followee} for followee in chosen]
    return follows


def _cache_entries(size: DatasetSize, rng: random.Random) -> list[dict[str, Any]]:
    """Keys `cache:000001`..., values of 60 to 300 characters; one in five expired 1 to 48 hours ago, the others
    live for 1 to 30 days."""
    entries = []
    for n in range(1, size.cache_entries + 1):
        expired = rng.random() < 0.2
        ttl = timedelta(hours=-rng.randint(1, 48) if expired else rng.randint(24, 720))
        value = f"value of cache:{n:06d} " + "x" * rng.randint(40, 280)
        entries.append({"key": f"cache:{n:06d}", "value": value, "ttl": ttl})
    return entries


def cache_rows(entries: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """The entries as rows of cache_entries, their expiry `now + ttl`."""
    return [{"key": e["key"], "value": e["value"], "expires_at": now + e["ttl"]} for e in entries]


async def load(provider: BaseORMProvider, dataset: Dataset) -> None:
    """Insert the dataset into the provider's (fresh, empty) schema with its bulk paths."""
    m = provider.models
    for model, rows in (
        (m.User, dataset.users),
        (m.Task, dataset.tasks),
        (m.Tag, dataset.tags),
        (m.Comment, dataset.comments),
        (m.Account, dataset.accounts),
        (m.AuditEvent, dataset.audit_events),
        (m.Follow, dataset.follows),
    ):
        await provider.create_many(model, rows)
        if rows and not await provider.exists(model, {"id": len(rows)}):
            raise RuntimeError(
                f"{provider.name}: {model!r} rows were not numbered 1..{len(rows)}: is the schema fresh?"
            )
    await provider.link_tags(dataset.task_tags)
    for start in range(0, len(dataset.documents), LOAD_CHUNK):
        await provider.create_many(m.Document, document_rows(dataset, start, start + LOAD_CHUNK))
    if dataset.documents and not await provider.exists(m.Document, {"id": len(dataset.documents)}):
        raise RuntimeError(f"{provider.name}: documents were not numbered 1..{len(dataset.documents)}")
    await provider.create_many(m.CacheEntry, cache_rows(dataset.cache_entries, datetime.now(UTC)))


async def load_cache(store: CacheOperations, dataset: Dataset) -> None:
    """Write the dataset's live cache entries through the cache's own upsert: what a reference store holds (a
    store that expires keys itself, Redis, never holds an expired one)."""
    live = [CacheItem(e["key"], e["value"], e["ttl"]) for e in dataset.cache_entries if e["ttl"] > timedelta(0)]
    await store.cache_upsert_many(live)
