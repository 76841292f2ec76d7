"""The harness's own errors: every adapter raises these, never its ORM's or its driver's.

A scenario or a test catches `UniqueViolation` the same way over SQLAlchemy, Tortoise, Piccolo and raw SQL,
on SQLite and on PostgreSQL. Adapters do not map errors themselves: the contract's public methods run the
adapter's code inside `translated_errors()`, which recognises the drivers' errors by duck typing (asyncpg's
`sqlstate`, sqlite3's `IntegrityError` messages) wherever an ORM has wrapped them.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager


class HarnessError(Exception):
    """Base of every error the harness raises on purpose."""


class ConfigurationError(HarnessError):
    """A bad configuration: unknown adapter or tier, malformed URL, invalid pool size, missing package."""


class ConnectionFailed(HarnessError):
    """The database could not be reached, or refused the credentials."""


class UnknownFieldError(HarnessError):
    """A model, field, filter suffix, ordering or relation the shared schema does not have."""


class ConstraintViolation(HarnessError):
    """The database refused a write because of a constraint; the provider stays usable."""


class UniqueViolation(ConstraintViolation):
    """A UNIQUE or primary-key constraint was violated."""


class ForeignKeyViolation(ConstraintViolation):
    """A FOREIGN KEY constraint was violated."""


class CheckViolation(ConstraintViolation):
    """A CHECK constraint was violated."""


class NotNullViolation(ConstraintViolation):
    """A NOT NULL column was given no value."""


_SQLSTATES: dict[str, type[ConstraintViolation]] = {
    "23505": UniqueViolation,
    "23503": ForeignKeyViolation,
    "23514": CheckViolation,
    "23502": NotNullViolation,
}
_SQLITE_MESSAGES: dict[str, type[ConstraintViolation]] = {
    "UNIQUE constraint failed": UniqueViolation,
    "FOREIGN KEY constraint failed": ForeignKeyViolation,
    "CHECK constraint failed": CheckViolation,
    "NOT NULL constraint failed": NotNullViolation,
}
_CONNECTION_ERRORS = (ConnectionError, OSError)
_PASSWORD_IN_URL = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")


def redact(text: str) -> str:
    """Hide the password of any URL in `text` (`postgresql://u:secret@h` -> `postgresql://u:***@h`)."""
    return _PASSWORD_IN_URL.sub(r"\1***@", text)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception, the exceptions it wraps (`orig`, `__cause__`, `__context__`), each once."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend(
            c
            for c in (getattr(current, "orig", None), current.__cause__, current.__context__)
            if isinstance(c, BaseException)
        )


def translate(exc: BaseException) -> HarnessError | None:
    """The harness error for a driver or ORM exception, or None if it is not one the contract names."""
    for cause in _causes(exc):
        if isinstance(cause, HarnessError):
            return cause
        sqlstate = getattr(cause, "sqlstate", None)
        if sqlstate in _SQLSTATES:
            return _SQLSTATES[sqlstate](redact(str(cause)))
        if isinstance(cause, sqlite3.IntegrityError):
            message = str(cause)
            for prefix, error in _SQLITE_MESSAGES.items():
                if message.startswith(prefix):
                    return error(message)
        if isinstance(cause, sqlite3.OperationalError) and "unable to open database file" in str(cause):
            return ConnectionFailed(f"cannot open the SQLite database file: {cause}")
        if isinstance(cause, _CONNECTION_ERRORS) and not isinstance(cause, sqlite3.Error):
            return ConnectionFailed(redact(f"{type(cause).__name__}: {cause}"))
    return None


@contextmanager
def translated_errors() -> Iterator[None]:
    """Re-raise driver and ORM errors as the harness's own, keeping the original as `__cause__`."""
    try:
        yield
    except HarnessError:
        raise
    except Exception as exc:
        error = translate(exc)
        if error is None:
            raise
        raise error from exc
