"""The harness's own errors: every adapter raises these, never its ORM's or its driver's.

A scenario or a test catches `UniqueViolation` the same way over SQLAlchemy, Tortoise, Piccolo and raw SQL,
on SQLite and on PostgreSQL. Adapters do not map errors themselves: the contract's public methods run the
adapter's code inside `translated_errors()` (or its plain-`except` form, `raise_translated`), which recognises the
drivers' errors by duck typing (asyncpg's `sqlstate`, sqlite3's `IntegrityError` messages) wherever an ORM has
wrapped them.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn


class HarnessError(Exception):
    """Base of every error the harness raises on purpose."""


class ConfigurationError(HarnessError):
    """A bad configuration: unknown adapter or tier, malformed URL, invalid pool size, missing package."""


class ConnectionFailed(HarnessError):
    """The database could not be reached, or refused the credentials."""


class QueryTimeout(HarnessError):
    """The server cancelled a statement that ran or waited too long (the harness sets both limits on the
    databases it creates: see harness/databases/targets.py)."""


class StatementTimeout(QueryTimeout):
    """A statement ran longer than `statement_timeout` (SQLSTATE 57014)."""


class LockTimeout(QueryTimeout):
    """A statement waited for a lock longer than `lock_timeout` (SQLSTATE 55P03)."""


class PoolTimeout(HarnessError):
    """No connection of the pool came free within the configured `pool_timeout` (the pool is exhausted; the
    server itself may be fine)."""


class UnknownFieldError(HarnessError):
    """A model, field, filter suffix, ordering or relation the shared schema does not have."""


class InvalidArgument(HarnessError):
    """A tier operation was given an argument it cannot use (a naive datetime, an empty email, a JSON key that is
    not a plain name, a depth below 1, an empty cache key), refused before any statement is sent."""


class OperationUnavailable(HarnessError):
    """A tier operation the adapter declares `unavailable` on this database or interpreter
    (`Capabilities.paths`); the message gives the declared reason."""


class ParameterMismatch(HarnessError):
    """`execute` was given SQL whose `:name` parameters and the values passed do not match one to one."""


class AmbiguousFilter(HarnessError):
    """`update` or `get_with_relations` was given filters that do not identify one row (no key of the entity tested
    for equality)."""


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
_TIMEOUTS: dict[str, tuple[type[QueryTimeout], str]] = {
    "57014": (StatementTimeout, "statement timeout: the server cancelled a statement that ran too long"),
    "55P03": (LockTimeout, "lock timeout: the server cancelled a statement that waited too long for a lock"),
}
_SERVER_GONE = {"57P01", "57P02", "57P03"}
"""admin_shutdown, crash_shutdown, cannot_connect_now: the server stopped or is not ready (class 08, connection
exceptions, is matched by prefix)."""
_CLOSED_MESSAGES = ("connection is closed", "connection was closed", "the underlying connection is closed")
_CONNECTION_ERRORS = (ConnectionError, OSError)
_PASSWORD_IN_URL = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^/\s]*@", re.IGNORECASE)
_PASSWORD_KEYWORD = re.compile(r"(\bpassword['\"]?\s*[=:]\s*)(['\"]?)[^\s'\",}]+\2", re.IGNORECASE)
_SECRETS: set[str] = set()


def register_secret(secret: str | None) -> None:
    """Have `redact` hide `secret` wherever it appears, not only inside URLs (a password echoed back alone)."""
    if secret and len(secret) >= 3:  # shorter strings would blank out ordinary words
        _SECRETS.add(secret)


def redact(text: str) -> str:
    """Hide passwords in `text`: of any URL (`postgresql://u:secret@h` -> `postgresql://u:***@h`, even with `@` or
    `:` in the password), of `password=...` pairs, and every secret given to `register_secret`."""
    text = _PASSWORD_KEYWORD.sub(r"\1***", _PASSWORD_IN_URL.sub(r"\1***@", text))
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


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
        if sqlstate in _TIMEOUTS:
            error, what = _TIMEOUTS[sqlstate]
            return error(redact(f"{what} ({cause})"))
        if isinstance(sqlstate, str) and (sqlstate in _SERVER_GONE or sqlstate.startswith("08")):
            return ConnectionFailed(redact(f"the database server closed the connection: {cause}"))
        if _closed_connection(cause):
            return ConnectionFailed(redact(f"the connection to the database is closed: {cause}"))
        if _pool_timed_out(cause):
            return PoolTimeout(redact(f"no connection of the pool came free in time: {cause}"))
        if isinstance(cause, sqlite3.IntegrityError):
            message = str(cause)
            for prefix, violation in _SQLITE_MESSAGES.items():
                if message.startswith(prefix):
                    return violation(message)
        if isinstance(cause, sqlite3.OperationalError) and "database is locked" in str(cause):
            return LockTimeout(f"SQLite: {cause} (the busy timeout ran out waiting for another writer)")
        if isinstance(cause, sqlite3.OperationalError) and "unable to open database file" in str(cause):
            return ConnectionFailed(f"cannot open the SQLite database file: {cause}")
        if isinstance(cause, _CONNECTION_ERRORS) and not isinstance(cause, sqlite3.Error):
            return ConnectionFailed(redact(f"{type(cause).__name__}: {cause}"))
    return None


def _pool_timed_out(exc: BaseException) -> bool:
    """SQLAlchemy's pool `TimeoutError` (the only one it raises: "QueuePool limit ... reached, connection timed
    out"); asyncpg's acquire timeout is a bare `TimeoutError`, which the raw adapter translates itself."""
    return type(exc).__name__ == "TimeoutError" and type(exc).__module__ == "sqlalchemy.exc"


def _closed_connection(exc: BaseException) -> bool:
    """asyncpg's `InterfaceError`s for a connection the server dropped carry no SQLSTATE, only a message."""
    return type(exc).__name__ in ("InterfaceError", "ConnectionDoesNotExistError") and any(
        text in str(exc) for text in _CLOSED_MESSAGES
    )


def is_server_gone(exc: BaseException) -> bool:
    """True when `exc` (or what it wraps) says the database server cannot be reached or dropped the connection."""
    return isinstance(translate(exc), ConnectionFailed)


@contextmanager
def translated_errors() -> Iterator[None]:
    """Re-raise driver and ORM errors as the harness's own, keeping the original as `__cause__`."""
    try:
        yield
    except Exception as exc:
        raise_translated(exc)


def raise_translated(exc: Exception) -> NoReturn:
    """In the `except` block that caught `exc`: raise the harness error it means (with `exc` as its cause), or `exc`
    itself. What `translated_errors()` does, for a plain try/except, which costs nothing until something fails: the
    contract's data methods use it, as a `with` block costs its context manager on every call."""
    if not isinstance(exc, HarnessError) and (error := translate(exc)) is not None:
        raise error from exc
    raise exc
