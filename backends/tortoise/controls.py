"""Controls for the adapter tax (harness/bench/tax.py): its operations written straight against Tortoise ORM, as its
documentation shows them (`Model.filter(...)`, `Model.create(...)`, `prefetch_related`), on the provider's own
context and model classes. They send the statements the provider's hooks send, so the difference in time is the
contract layer's.

An application makes its TortoiseContext current once (`Tortoise.init`, or entering the context); `current` does
that for the controls, outside the timed call, while the provider makes its context current in every call.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tortoise.context import _current_context

from backends.tortoise.provider import TortoiseProvider


@contextmanager
def current(provider: TortoiseProvider) -> Iterator[None]:
    token = _current_context.set(provider._ctx)
    try:
        yield
    finally:
        _current_context.reset(token)


async def get_by_pk(provider: TortoiseProvider, user_id: int) -> Any:
    return await provider.models.User.filter(id=user_id).first()


async def filter_page(provider: TortoiseProvider, completed: bool, min_priority: int, limit: int, offset: int) -> Any:
    tasks = provider.models.Task.filter(completed=completed, priority__gte=min_priority)
    return await tasks.order_by("-created_at").limit(limit).offset(offset)


async def insert_one(provider: TortoiseProvider, username: str, email: str) -> Any:
    return await provider.models.User.create(username=username, email=email)


async def one_level(provider: TortoiseProvider, last_user_id: int) -> Any:
    return await provider.models.User.filter(id__lte=last_user_id).prefetch_related("tasks")
