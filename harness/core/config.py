"""Where a provider connects and with what pool: parsed once from a URL and a few numbers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from harness.core.errors import ConfigurationError, redact

DEFAULT_POOL_SIZE = 10
_SCHEMES = {"sqlite": "sqlite", "postgresql": "postgresql", "postgres": "postgresql"}


@dataclass(frozen=True)
class DatabaseConfig:
    """A database URL and the pool bounds every adapter applies through its ORM's own setting.

    URLs: `sqlite:///relative/file.db`, `sqlite:////absolute/file.db` (a file: Piccolo cannot use
    `:memory:`), `postgresql://user:password@host:port/database`. On PostgreSQL the pool holds between
    `pool_min` and `pool_max` connections (both default to 10, so the pool is of fixed size).
    """

    url: str
    pool_min: int = DEFAULT_POOL_SIZE
    pool_max: int = DEFAULT_POOL_SIZE

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme.split("+")[0] not in _SCHEMES:
            raise ConfigurationError(
                f"unsupported database URL {redact(self.url)!r}: use sqlite:///path or postgresql://..."
            )
        if self.dialect == "sqlite" and self.sqlite_path in ("", ":memory:"):
            raise ConfigurationError(f"SQLite URL {self.url!r} needs a file path, e.g. sqlite:///results/db.sqlite")
        if self.dialect == "postgresql" and not parts.path.strip("/"):
            raise ConfigurationError(f"PostgreSQL URL {redact(self.url)!r} names no database")
        if not 1 <= self.pool_min <= self.pool_max:
            raise ConfigurationError(
                f"pool sizes must satisfy 1 <= pool_min <= pool_max, got {self.pool_min} and {self.pool_max}"
            )

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> DatabaseConfig:
        """Build from a dict with `url` and optional `pool_min`, `pool_max` (or `pool_size` for both)."""
        if "url" not in config:
            raise ConfigurationError("database configuration has no 'url'")
        unknown = set(config) - {"url", "pool_min", "pool_max", "pool_size"}
        if unknown:
            raise ConfigurationError(f"unknown database configuration keys: {', '.join(sorted(unknown))}")
        size = config.get("pool_size", DEFAULT_POOL_SIZE)
        try:
            return cls(str(config["url"]), int(config.get("pool_min", size)), int(config.get("pool_max", size)))
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"pool sizes must be integers: {exc}") from None

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
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
        return urlsplit(self.url).port or 5432

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
        return f"DatabaseConfig({self.redacted_url!r}, pool_min={self.pool_min}, pool_max={self.pool_max})"
