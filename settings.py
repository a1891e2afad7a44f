"""Settings, read from the environment in one place.

Every knob the service has lives here; nothing else reads ``os.environ``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///nkcinema.db"


class SettingsError(ValueError):
    """An environment variable holds a value the service cannot use."""


def async_database_url(url: str) -> str:
    """Map a standard database URL to the async driver the app uses.

    ``sqlite:///file.db`` -> ``sqlite+aiosqlite:///file.db``;
    ``postgresql://user@host/db`` (or ``postgres://``) -> ``postgresql+asyncpg://…``.
    URLs that already name a driver are kept as they are.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise SettingsError(f"DATABASE_URL is not a URL: {url!r}")
    if scheme == "sqlite":
        return f"sqlite+aiosqlite://{rest}"
    if scheme in ("postgresql", "postgres"):
        return f"postgresql+asyncpg://{rest}"
    if scheme in ("sqlite+aiosqlite", "postgresql+asyncpg"):
        return url
    raise SettingsError(
        f"DATABASE_URL scheme {scheme!r} is not supported: use sqlite:///path or postgresql://…"
    )


def _int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _float(name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if not value >= minimum or value == float("inf"):
        raise SettingsError(f"{name} must be a finite number of at least {minimum}, got {raw!r}")
    return value


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = (os.environ.get(name) or default).lower()
    if raw not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}; got {raw!r}")
    return raw


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be a boolean (true/false), got {raw!r}")


def _origins(name: str) -> tuple[str, ...]:
    """A comma-separated allow-list of origins (``scheme://host[:port]``), or ``*`` for any."""
    raw = os.environ.get(name) or ""
    origins = tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())
    for origin in origins:
        if origin != "*" and not re.fullmatch(r"https?://[^/\s]+", origin):
            raise SettingsError(
                f"{name} must list origins like https://example.org, separated by commas; "
                f"got {origin!r}"
            )
    return origins


def _replica_urls(name: str) -> tuple[str, ...]:
    """Comma-separated PostgreSQL URLs of streaming replicas (``db.replicas``)."""
    raw = os.environ.get(name) or ""
    urls = tuple(u.strip() for u in raw.split(",") if u.strip())
    for url in urls:
        scheme, separator, _ = url.partition("://")
        if not separator or scheme not in ("postgresql", "postgres", "postgresql+asyncpg"):
            shown = f"a {scheme!r} URL" if separator and scheme.isalnum() else "a malformed URL"
            raise SettingsError(  # never the URL itself: it may hold a password
                f"{name} must list postgresql:// URLs, separated by commas; got {shown}"
            )
    return urls


LOG_FORMATS = ("text", "json")


@dataclass(frozen=True)
class Settings:
    """The service's configuration; see the README's Configuration table."""

    database_url: str = DEFAULT_DATABASE_URL
    default_page_size: int = 20
    max_page_size: int = 100
    graphiql: bool = True
    examples: bool = True
    cors_origins: tuple[str, ...] = ()
    cache_max_age: int = 0
    response_cache_entries: int = 1000  # answers to repeated queries kept per process (0: off)
    response_cache_bytes: int = 64 * 1024 * 1024
    compiled: bool = True  # answer read queries by the compiled path (gql/compiled) if it can
    prepared_requests: int = 1000  # compiled requests kept with their plans (web/prepared.py)
    # -- persisted queries and trusted documents (web/persisted.py, SECURITY.md) --
    persisted_queries: bool = True  # clients may register documents by hash (APQ)
    trusted_documents: bool = False  # only documents marked trusted run
    persisted_query_limit: int = 10_000  # documents clients may register, in all
    persisted_query_bytes: int = 16 * 1024 * 1024  # …and their bytes, in all
    host: str = "127.0.0.1"
    port: int = 8000
    log_sql: bool = False
    log_format: str = "text"  # "text" or "json" (one JSON object per line)
    metrics: bool = True  # /metrics (Prometheus), and requests counted for it (metrics.py)
    # -- abuse resistance (SECURITY.md) --
    production: bool = False  # the defaults below that production changes are marked (P)
    introspection: bool = True  # (P) off
    suggestions: bool = True  # (P) off: "Did you mean …?" in any error message
    max_depth: int = 15
    max_aliases: int = 30
    max_tokens: int = 5000
    max_document_bytes: int = 64 * 1024
    max_body_bytes: int = 256 * 1024
    max_cost: int = 25000
    list_size_estimate: int = 10  # what a list that is not paged costs per item, in the cost
    request_timeout: float = 10.0  # seconds for a whole request
    statement_timeout: float = 5.0  # seconds for one SQL statement (PostgreSQL, SQLite)
    pool_size: int = 10
    pool_timeout: float = 2.0  # seconds to wait for a pooled connection
    connect_timeout: float = 2.0  # seconds to wait for the database to accept a connection
    # -- read replicas (db/replicas.py) --
    replica_urls: tuple[str, ...] = ()  # PostgreSQL streaming replicas anonymous reads go to
    replica_max_lag: float = 30.0  # seconds of replay lag after which a replica leaves rotation
    replica_probe_interval: float = 1.0  # seconds between two probes of each replica
    # -- admission of expensive operations (gql/admission.py) --
    expensive_cost: int = 1000  # priced work (search, facets, similar) that makes one expensive
    expensive_concurrency: int | None = None  # at once while cheap reads are about (None: below)
    expensive_queue: int = 20  # waiting per process; more are refused (503)
    expensive_rest: float = 1.0  # a place rests this many times as long as its operation took
    expensive_burst: int | None = None  # at once while no cheap read is about (None: below)
    expensive_quiet: float = 0.5  # seconds without a cheap answer before the gate widens

    @property
    def expensive_limit(self) -> int:
        """Expensive operations executing at once per process while cheap reads are about: by
        default half the pool, and no more than half the CPU cores, since each one's statement
        keeps a database core busy and the cheap reads need the rest (bench/README.md,
        "Starvation")."""
        if self.expensive_concurrency is not None:
            return self.expensive_concurrency
        return max(1, min(self.pool_size // 2, (os.cpu_count() or 2) // 2))

    @property
    def expensive_burst_limit(self) -> int:
        """Expensive operations executing at once per process while no cheap read has been
        answered for ``expensive_quiet`` seconds: by default half the pool, so the cheap read
        that comes next still finds a connection."""
        burst = self.expensive_burst if self.expensive_burst is not None else self.pool_size // 2
        return max(self.expensive_limit, burst)

    @property
    def async_url(self) -> str:
        return async_database_url(self.database_url)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        """The database file of a SQLite URL (None for other databases)."""
        if not self.is_sqlite:
            return None
        path = self.database_url.partition("://")[2].removeprefix("/")
        return Path(path) if path and path != ":memory:" else None


def load_settings() -> Settings:
    """Read the settings from the environment (validated; raises SettingsError)."""
    production = _bool("NKCINEMA_PRODUCTION", False)
    settings = Settings(
        database_url=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        default_page_size=_int("NKCINEMA_DEFAULT_PAGE_SIZE", 20, minimum=1),
        max_page_size=_int("NKCINEMA_MAX_PAGE_SIZE", 100, minimum=1),
        graphiql=_bool("NKCINEMA_GRAPHIQL", not production),
        examples=_bool("NKCINEMA_EXAMPLES", not production),
        cors_origins=_origins("NKCINEMA_CORS_ORIGINS"),
        cache_max_age=_int("NKCINEMA_CACHE_MAX_AGE", 0),
        response_cache_entries=_int("NKCINEMA_RESPONSE_CACHE_ENTRIES", 1000),
        response_cache_bytes=_int("NKCINEMA_RESPONSE_CACHE_BYTES", 64 * 1024 * 1024),
        compiled=_bool("NKCINEMA_COMPILED", True),
        prepared_requests=_int("NKCINEMA_PREPARED_REQUESTS", 1000),
        persisted_queries=_bool("NKCINEMA_PERSISTED_QUERIES", True),
        trusted_documents=_bool("NKCINEMA_TRUSTED_DOCUMENTS", False),
        persisted_query_limit=_int("NKCINEMA_PERSISTED_QUERY_LIMIT", 10_000),
        persisted_query_bytes=_int("NKCINEMA_PERSISTED_QUERY_BYTES", 16 * 1024 * 1024),
        host=os.environ.get("NKCINEMA_HOST") or "127.0.0.1",
        port=_int("NKCINEMA_PORT", 8000, minimum=1),
        log_sql=_bool("NKCINEMA_LOG_SQL", False),
        log_format=_choice("NKCINEMA_LOG_FORMAT", "json" if production else "text", LOG_FORMATS),
        metrics=_bool("NKCINEMA_METRICS", True),
        production=production,
        introspection=_bool("NKCINEMA_INTROSPECTION", not production),
        suggestions=_bool("NKCINEMA_SUGGESTIONS", not production),
        max_depth=_int("NKCINEMA_MAX_DEPTH", 15, minimum=1),
        max_aliases=_int("NKCINEMA_MAX_ALIASES", 30, minimum=0),
        max_tokens=_int("NKCINEMA_MAX_TOKENS", 5000, minimum=10),
        max_document_bytes=_int("NKCINEMA_MAX_DOCUMENT_BYTES", 64 * 1024, minimum=100),
        max_body_bytes=_int("NKCINEMA_MAX_BODY_BYTES", 256 * 1024, minimum=1024),
        max_cost=_int("NKCINEMA_MAX_COST", 25000, minimum=1),
        list_size_estimate=_int("NKCINEMA_LIST_SIZE_ESTIMATE", 10, minimum=1),
        request_timeout=_float("NKCINEMA_REQUEST_TIMEOUT", 10.0, minimum=0.1),
        statement_timeout=_float("NKCINEMA_STATEMENT_TIMEOUT", 5.0, minimum=0.1),
        pool_size=_int("NKCINEMA_POOL_SIZE", 10, minimum=1),
        pool_timeout=_float("NKCINEMA_POOL_TIMEOUT", 2.0, minimum=0.1),
        connect_timeout=_float("NKCINEMA_CONNECT_TIMEOUT", 2.0, minimum=0.1),
        replica_urls=_replica_urls("NKCINEMA_REPLICA_URLS"),
        replica_max_lag=_float("NKCINEMA_REPLICA_MAX_LAG", 30.0),
        replica_probe_interval=_float("NKCINEMA_REPLICA_PROBE_INTERVAL", 1.0, minimum=0.05),
        expensive_cost=_int("NKCINEMA_EXPENSIVE_COST", 1000, minimum=1),
        expensive_concurrency=(
            _int("NKCINEMA_EXPENSIVE_CONCURRENCY", 1, minimum=1)
            if os.environ.get("NKCINEMA_EXPENSIVE_CONCURRENCY")
            else None
        ),
        expensive_queue=_int("NKCINEMA_EXPENSIVE_QUEUE", 20, minimum=0),
        expensive_rest=_float("NKCINEMA_EXPENSIVE_REST", 1.0),
        expensive_burst=(
            _int("NKCINEMA_EXPENSIVE_BURST", 1, minimum=1)
            if os.environ.get("NKCINEMA_EXPENSIVE_BURST")
            else None
        ),
        expensive_quiet=_float("NKCINEMA_EXPENSIVE_QUIET", 0.5),
    )
    async_database_url(settings.database_url)  # validate early, with a clear message
    if settings.default_page_size > settings.max_page_size:
        raise SettingsError("NKCINEMA_DEFAULT_PAGE_SIZE must not exceed NKCINEMA_MAX_PAGE_SIZE")
    if settings.replica_urls and settings.is_sqlite:
        raise SettingsError("NKCINEMA_REPLICA_URLS needs a PostgreSQL DATABASE_URL (the primary)")
    return settings
