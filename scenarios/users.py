"""users: accounts and sign-in (the USERS tier), on the dataset's users.

Emails are looked up ignoring case, through the unique index on lower(email) (harness/core/workloads/users.py); the
input is the stored address in mixed case, as a user types it. A sign-in reads the user and records the time in
one transaction; a sign-up with an address that differs from a stored one only in case is refused by that index.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from harness.core.contract import BaseORMProvider
from harness.core.dataset import Dataset
from harness.core.errors import UniqueViolation
from harness.core.statements import capture
from scenarios.base import Scenario, ScenarioFailed, delete_added, expect
from scenarios.crud import middle
from scenarios.eager import queries_of_one_select

SIGN_IN_AT = datetime(2026, 6, 1, 9, 30, 15, 250_000, tzinfo=UTC)
NEW_USERNAME = "bench_sign_up"


def mixed_case(email: str) -> str:
    """ "user00500@example.org" -> "uSeR00500@eXaMpLe.oRg": as typed, never as stored."""
    return "".join(c.upper() if i % 2 else c for i, c in enumerate(email))


def active_user(data: Dataset) -> int:
    """The id of the first active user from the middle of the table on."""
    start = middle(data.users)
    return next(i for i in range(start, len(data.users) + 1) if data.users[i - 1]["is_active"])


def _email_of(data: Dataset, user_id: int) -> str:
    return mixed_case(data.users[user_id - 1]["email"])


async def email_lookup(p: BaseORMProvider, data: Dataset) -> dict[str, Any] | None:
    """Find a user by email ignoring case (mixed-case input), through the index on lower(email)."""
    return await p.find_user_by_email(_email_of(data, middle(data.users)))


async def sign_in(p: BaseORMProvider, data: Dataset) -> int | None:
    """Sign in: read the user by email (ignoring case), then record the sign-in time, in one transaction."""
    return await p.sign_in(_email_of(data, active_user(data)), SIGN_IN_AT)


async def sign_up_duplicate(p: BaseORMProvider, data: Dataset) -> UniqueViolation | None:
    """Sign up with an email taken but for its case: the unique index refuses it (the error path's cost)."""
    try:
        await p.create(p.models.User, {"username": NEW_USERNAME, "email": _email_of(data, middle(data.users))})
    except UniqueViolation as refused:
        return refused
    return None


# --- untimed steps -----------------------------------------------------------------------------------


async def _check_lookup(p: BaseORMProvider, data: Dataset, user: dict[str, Any] | None) -> int:
    expected = {"id": middle(data.users), **data.users[middle(data.users) - 1]}
    expect(user, expected, "user found by email")
    return 1


async def _restore_sign_in(p: BaseORMProvider, data: Dataset) -> None:
    user_id = active_user(data)
    original = data.users[user_id - 1]["last_sign_in_at"]
    await p.update(p.models.User, {"id": user_id}, {"last_sign_in_at": original})


async def _check_sign_in(p: BaseORMProvider, data: Dataset, signed_in: int | None) -> int:
    expect(signed_in, active_user(data), "signed-in user")
    stored = await p.find_user_by_email(data.users[active_user(data) - 1]["email"])
    expect(None if stored is None else stored["last_sign_in_at"], SIGN_IN_AT, "last_sign_in_at stored")
    return 2


async def _drop_new_users(p: BaseORMProvider, data: Dataset) -> None:
    await delete_added(p, data, "User")


async def _check_sign_up_duplicate(p: BaseORMProvider, data: Dataset, refused: UniqueViolation | None) -> int:
    if not isinstance(refused, UniqueViolation):
        raise ScenarioFailed(f"a sign-up with a taken email (in another case) was not refused: {refused!r}")
    expect(await p.count(p.models.User), len(data.users), "users after the refused sign-up")
    # The provider stays usable: the next call on it succeeds.
    found = await p.find_user_by_email(data.users[middle(data.users) - 1]["email"])
    expect(None if found is None else found["id"], middle(data.users), "a lookup after the refused sign-up")
    return 1


async def _read_then_write(p: BaseORMProvider, data: Dataset) -> int:
    """Queries of a transaction holding one plain read, plus one more statement in it (an adapter may send a PRAGMA
    before each statement, and one when it opens the transaction's connection)."""
    async with capture() as log, p.transaction():
        await p.get_many(p.models.Task, {"user_id": 1})
    return log.queries + await queries_of_one_select(p, data)


SCENARIOS = (
    Scenario(email_lookup, "users", _check_lookup, expected_queries=queries_of_one_select, calls=4),
    Scenario(
        sign_in,
        "users",
        _check_sign_in,
        setup=_restore_sign_in,
        restore=_restore_sign_in,
        expected_queries=_read_then_write,
    ),
    Scenario(sign_up_duplicate, "users", _check_sign_up_duplicate, setup=_drop_new_users, restore=_drop_new_users),
)
