"""USERS tier: accounts and sign-in. Case-insensitive email lookup through the index on lower(email), and a sign-in.

The schema (docs/schema.md) gives `users` a unique index on `lower(email)`: two accounts cannot share an email that
differs only in case, and a lookup written `lower(email) = lower(:email)` is answered from that index. Only that
form can use it: an ORM whose idiomatic case-insensitive match compiles to something else (`UPPER(email) =
UPPER(...)`, `email ILIKE ...`) scans the table, so its adapter writes the indexable form with the ORM's own
functions where it has them (declared `native`), else through `execute` (`raw SQL`). Both sides are lowered by
the database, not by Python: SQLite's lower() folds ASCII only, and Python's str.lower() would disagree with it.

A sign-up needs no operation of its own: it is the contract's `create`, and the unique index makes a duplicate
email (in any case) raise `UniqueViolation`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from harness.core.errors import InvalidArgument
from harness.core.schema import ENTITIES
from harness.core.workloads.records import SQLPath, check_moment, record

USER_COLUMNS = ENTITIES["User"].columns
FIND_BY_EMAIL = f"SELECT {', '.join(USER_COLUMNS)} FROM users WHERE lower(email) = lower(:email)"
RECORD_SIGN_IN = "UPDATE users SET last_sign_in_at = :at WHERE id = :id"


def check_email(email: Any) -> None:
    if not isinstance(email, str) or not email.strip():
        raise InvalidArgument(f"an email must be a non-empty string, got {email!r}")


class UserOperations:
    """Accounts and sign-in (the USERS tier). Defaults: SQL through `execute`, the same on both dialects."""

    OPERATIONS: ClassVar[tuple[str, ...]] = ("find_user_by_email", "sign_in")

    async def find_user_by_email(self: SQLPath, email: str) -> dict[str, Any] | None:
        """The user whose email equals `email` ignoring case, as a dict of every column of `users`, or None. One
        SELECT, answered from the unique index on lower(email)."""
        check_email(email)
        rows = await self.execute(FIND_BY_EMAIL, {"email": email})
        return record(USER_COLUMNS, rows[0]) if rows else None

    async def sign_in(self: SQLPath, email: str, at: datetime) -> int | None:
        """Sign a user in: in one transaction, read the user by email (ignoring case), then set its
        `last_sign_in_at` to `at`. Returns the user's id, or None (and writes nothing) when no active user has
        that email. Two statements inside BEGIN ... COMMIT."""
        check_email(email)
        check_moment(at, "the sign-in time")
        async with self.transaction():
            rows = await self.execute(FIND_BY_EMAIL, {"email": email})
            user = record(USER_COLUMNS, rows[0]) if rows else None
            if user is None or not user["is_active"]:
                return None
            await self.execute(RECORD_SIGN_IN, {"at": self.sql_timestamp(at), "id": user["id"]})
        return int(user["id"])
