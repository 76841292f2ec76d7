"""Controls for the adapter tax (harness/bench/tax.py): its operations written straight against SQLAlchemy, as its
asyncio documentation shows them (an `async_sessionmaker` session per unit of work, `select()` and `scalars()`),
on the provider's own autocommit sessions and models. They send the statements the provider's hooks send, so the
difference in time is the contract layer's.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from backends.sqlalchemy.models import Task, User
from backends.sqlalchemy.provider import SQLAlchemyProvider


def _sessions(provider: SQLAlchemyProvider) -> async_sessionmaker[AsyncSession]:
    sessions = provider._autocommit_sessions
    if sessions is None:
        raise provider._not_connected()
    return sessions


async def get_by_pk(provider: SQLAlchemyProvider, user_id: int) -> User | None:
    async with _sessions(provider)() as session:
        return (await session.scalars(select(User).where(User.id == user_id).limit(1))).first()


async def filter_page(
    provider: SQLAlchemyProvider, completed: bool, min_priority: int, limit: int, offset: int
) -> list[Task]:
    stmt = (
        select(Task)
        .where(Task.completed == completed, Task.priority >= min_priority)
        .order_by(Task.created_at.desc())
        .limit(limit)
        .offset(offset)
    )
    async with _sessions(provider)() as session:
        return list((await session.scalars(stmt)).all())


async def insert_one(provider: SQLAlchemyProvider, username: str, email: str) -> User:
    user = User(username=username, email=email)
    async with _sessions(provider).begin() as session:
        session.add(user)
    return user


async def one_level(provider: SQLAlchemyProvider, last_user_id: int) -> list[Any]:
    stmt = select(User).where(User.id <= last_user_id).options(selectinload(User.tasks))
    async with _sessions(provider)() as session:
        return list((await session.scalars(stmt)).all())
