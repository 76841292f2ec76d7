"""The tier workloads' queries in Tortoise (harness/core/workloads/ says what each operation answers).

GRAPH: a QuerySet has no common table expression (tortoise-orm issue #819, open), so the recursive walks are the
contract's SQL through `execute` (the connection's execute_query_dict); friends of friends is a QuerySet with IN
subqueries (`Subquery`), as a QuerySet cannot join a table to itself.
CACHE: the upsert is `bulk_create(on_conflict=["key"], update_fields=[...])`, one INSERT ... ON CONFLICT DO UPDATE
executemany (Tortoise wraps it in BEGIN/COMMIT outside a transaction); `update_or_create` would instead send a
SELECT ... FOR UPDATE and then an UPDATE or an INSERT, in a transaction of its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.expressions import Subquery
from tortoise.models import Model
from tortoise.queryset import BulkCreateQuery, QuerySet, ValuesListQuery

from harness.core.contract import OperationPath
from harness.core.workloads.cache import CacheItem

_NO_CTE = "Tortoise's QuerySet has no CTE (tortoise-orm #819): the contract's WITH RECURSIVE SQL through execute."
PATHS = {
    "neighbourhood": OperationPath("raw SQL", _NO_CTE),
    "reachable": OperationPath("raw SQL", _NO_CTE),
    "shortest_path_length": OperationPath("raw SQL", _NO_CTE),
    "friends_of_friends": OperationPath(
        "native", "filter(follower_id__in=Subquery(...)).exclude(followee_id__in=...): IN subqueries, not a self-join."
    ),
    "cache_upsert": OperationPath(
        "native",
        "bulk_create([entry], on_conflict=['key'], update_fields=[...]): one INSERT ... ON CONFLICT DO UPDATE in "
        "BEGIN/COMMIT (update_or_create would SELECT ... FOR UPDATE, then UPDATE or INSERT).",
    ),
    "cache_upsert_many": OperationPath(
        "native", "bulk_create(entries, on_conflict=['key'], update_fields=[...]): one executemany in BEGIN/COMMIT."
    ),
    "cache_get": OperationPath("native", "filter(key=..., expires_at__gt=now).values_list('value')."),
    "cache_get_many": OperationPath("native", "filter(key__in=keys, expires_at__gt=now).values_list('key', 'value')."),
    "cache_delete": OperationPath("native", "filter(key__in=keys).delete(), which returns the row count."),
    "cache_sweep": OperationPath("native", "filter(expires_at__lte=now).delete(), which returns the row count."),
}


def friends_of_friends(follow: type[Model], user: int) -> ValuesListQuery[Any]:
    followed = Subquery(follow.filter(follower_id=user).values("followee_id"))
    return (
        follow.filter(follower_id__in=followed)
        .exclude(followee_id__in=followed)
        .exclude(followee_id=user)
        .distinct()
        .order_by("followee_id")
        .values_list("followee_id", flat=True)
    )


def upsert(entry: type[Model], items: list[CacheItem], clock: datetime) -> BulkCreateQuery[Any]:
    rows = [entry(key=key, value=value, expires_at=clock + ttl) for key, value, ttl in items]
    return entry.bulk_create(rows, on_conflict=["key"], update_fields=["value", "expires_at"])


def live_value(entry: type[Model], key: str, clock: datetime) -> ValuesListQuery[Any]:
    return entry.filter(key=key, expires_at__gt=clock).limit(1).values_list("value", flat=True)


def live_values(entry: type[Model], keys: list[str], clock: datetime) -> ValuesListQuery[Any]:
    return entry.filter(key__in=keys, expires_at__gt=clock).values_list("key", "value")


def keys(entry: type[Model], keys: list[str]) -> QuerySet[Any]:
    return entry.filter(key__in=keys)


def expired(entry: type[Model], clock: datetime) -> QuerySet[Any]:
    return entry.filter(expires_at__lte=clock)
