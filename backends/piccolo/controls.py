"""Controls for the adapter tax (harness/bench/tax.py): its operations written straight against Piccolo, as its
documentation shows them (`objects().where(...)`, `insert(...).returning(...)`, and for a reverse foreign key,
which Piccolo does not prefetch, a second query with `is_in` grouped in Python), on the provider's own engine and
tables. They send the statements the provider's hooks send, so the difference in time is the contract layer's.
"""

from __future__ import annotations

from typing import Any

from backends.piccolo.provider import PiccoloProvider


async def get_by_pk(provider: PiccoloProvider, user_id: int) -> Any:
    user = provider.models.User
    return await user.objects().where(user.id == user_id).first()


async def filter_page(provider: PiccoloProvider, completed: bool, min_priority: int, limit: int, offset: int) -> Any:
    task = provider.models.Task
    matching = task.objects().where(task.completed == completed, task.priority >= min_priority)
    return await matching.order_by(task.created_at, ascending=False).limit(limit).offset(offset)


async def insert_one(provider: PiccoloProvider, username: str, email: str) -> Any:
    user = provider.models.User
    rows = await user.insert(user(username=username, email=email)).returning(*user.all_columns())
    return user(**rows[0], _exists_in_db=True)


async def one_level(provider: PiccoloProvider, last_user_id: int) -> Any:
    user, task = provider.models.User, provider.models.Task
    users = await user.objects().where(user.id <= last_user_id)
    tasks: dict[int, list[Any]] = {u.id: [] for u in users}
    for row in await task.objects().where(task.user_id.is_in(list(tasks))):
        tasks[row.user_id].append(row)
    for u in users:
        u.tasks = tasks[u.id]
    return users
