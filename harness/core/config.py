"""Where a provider connects and with what pool: parsed once from a URL and a few numbers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from harness.core.errors import ConfigurationError, redact

DEFAULT_POOL_SIZE = 10
_SCHEMES = {"sqlite": "sqlite", "postgresql": "postgresql", "postgres": "postgresql", "redis": "redis"}
_DEFAULT_PORTS = {"postgresql": 5432, "redis": 6379}
KEYS = frozenset({"url", "pool_size", "pool_min", "pool_max", "max_overflow", "pool_timeout", "echo"})
"""The keys `DatabaseConfig.from_mapping` (and so the factory) accepts."""


@dataclass(frozen=True)
class DatabaseConfig:
    """A database URL and the pool settings every adapter applies through its ORM's own setting.

    URLs: `sqlite:///relative/file.db`, `sqlite:////absolute/file.db` (a file: Piccolo cannot use
    `:memory:`), `postgresql://user:password@host:port/database`, and for the Redis reference store
    `redis://host:port/number` (harness/core/adapters.py). On PostgreSQL the pool holds between
    `pool_min` and `pool_max` connections (both default to 10, so the pool is of fixed size); `max_overflow`,
    the connections allowed beyond `pool_min`, is their difference. `pool_timeout` is how long a caller waits
    for a connection of the pool before `PoolTimeout` (None: the library's own default); `echo` logs every SQL
    statement through the ORM's own SQL logging. An adapter that cannot apply one of these says so in its
    `capabilities.notes` ("Not applied: ...").
    """

    url: str
    pool_min: int = DEFAULT_POOL_SIZE
    pool_max: int = DEFAULT_POOL_SIZE
    pool_timeout: float | None = None
    echo: bool = False

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme.split("+")[0] not in _SCHEMES:
            raise ConfigurationError(
                f"unsupported database URL {redact(self.url)!r}: use sqlite:///path, postgresql://... or redis://..."
            )
        if self.dialect == "sqlite" and self.sqlite_path in ("", ":memory:"):
            raise ConfigurationError(f"SQLite URL {self.url!r} needs a file path, e.g. sqlite:///results/db.sqlite")
        if self.dialect == "postgresql" and not parts.path.strip("/"):
            raise ConfigurationError(f"PostgreSQL URL {redact(self.url)!r} names no database")
        if self.dialect == "redis" and not parts.path.strip("/").isdigit() and parts.path.strip("/"):
            raise ConfigurationError(
                f"Redis URL {redact(self.url)!r}: the path is a database number, e.g. redis://host/0"
            )
        if not 1 <= self.pool_min <= self.pool_max:
            raise ConfigurationError(
                f"pool sizes must satisfy 1 <= pool_min <= pool_max, got {self.pool_min} and {self.pool_max}"
            )
        if self.pool_timeout is not None and not self.pool_timeout > 0:
            raise ConfigurationError(f"pool_timeout must be a positive number of seconds, got {self.pool_timeout}")

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> DatabaseConfig:
        """Build from a dict with `url` and optional pool settings, the seed interface's keys among them
        (harness/core/contract.py):

        `pool_size` (the pool's size: `pool_min`, and `pool_max` too unless `max_overflow` is given),
        `max_overflow` (connections beyond `pool_size`: `pool_max` = `pool_min` + `max_overflow`; default 0),
        `pool_min`, `pool_max` (the bounds themselves), `pool_timeout` (seconds), `echo` (a bool).
        """
        if "url" not in config:
            raise ConfigurationError("database configuration has no 'url'")
        unknown = set(config) - KEYS
        if unknown:
            raise ConfigurationError(f"unknown database configuration keys: {', '.join(sorted(unknown))}")
        size = config.get("pool_size", DEFAULT_POOL_SIZE)
        try:
            pool_min = int(config.get("pool_min", size))
            pool_max = int(config.get("pool_max", size))
            if "max_overflow" in config:
                overflow = int(config["max_overflow"])
                if overflow < 0:
                    raise ConfigurationError(f"max_overflow must be 0 or more, got {overflow}")
                if "pool_max" in config and pool_max != pool_min + overflow:
                    raise ConfigurationError(
                        f"pool_max {pool_max} contradicts max_overflow {overflow} over a pool of {pool_min}: give one"
                    )
                pool_max = pool_min + overflow
            timeout = config.get("pool_timeout")
            timeout = None if timeout is None else float(timeout)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"pool sizes must be integers and pool_timeout a number: {exc}") from None
        echo = config.get("echo", False)
        if not isinstance(echo, bool):
            raise ConfigurationError(f"echo must be true or false, got {echo!r}")
        return cls(str(config["url"]), pool_min, pool_max, timeout, echo)

    @property
    def max_overflow(self) -> int:
        """Connections the pool may open beyond `pool_min` (SQLAlchemy's `max_overflow`)."""
        return self.pool_max - self.pool_min

    @property
    def dialect(self) -> str:
        """`sqlite`, `postgresql` or `redis`."""
        return _SCHEMES[urlsplit(self.url).scheme.split("+")[0]]

    @property
    def sqlite_path(self) -> str:
        """The SQLite database file (relative to the working directory unless absolute)."""
        path = self.url.split("://", 1)[1]
        return path[1:] if path.startswith("/") else path

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "localhost"

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or _DEFAULT_PORTS.get(self.dialect, 5432)

    @property
    def user(self) -> str:
        return unquote(urlsplit(self.url).username or "postgres")

    @property
    def password(self) -> str | None:
        password = urlsplit(self.url).password
        return unquote(password) if password is not None else None

    @property
    def database(self) -> str:
        """The PostgreSQL database name, or the SQLite file's name."""
        if self.dialect == "sqlite":
            return Path(self.sqlite_path).name
        return unquote(urlsplit(self.url).path.lstrip("/"))

    @property
    def postgres_dsn(self) -> str:
        """The URL with a plain `postgresql://` scheme, as asyncpg and Piccolo take it."""
        return "postgresql://" + self.url.split("://", 1)[1]

    @property
    def redacted_url(self) -> str:
        return redact(self.url)

    def __repr__(self) -> str:
        extra = "" if self.pool_timeout is None else f", pool_timeout={self.pool_timeout}"
        extra += ", echo=True" if self.echo else ""
        return f"DatabaseConfig({self.redacted_url!r}, pool_min={self.pool_min}, pool_max={self.pool_max}{extra})"
