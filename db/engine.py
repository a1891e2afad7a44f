"""Engines and sessions: one async engine per database URL, configured per dialect.

Surviving database faults (the rules, in one place):

* The pool is bounded (``pool_size`` + ``max_overflow`` connections) and a request waits at
  most ``pool_timeout`` seconds for one; a new connection must be accepted within
  ``connect_timeout`` seconds. Both errors map to ``SERVICE_UNAVAILABLE``.
* PostgreSQL: every checkout pings the connection first (``pool_pre_ping``); a dead one is
  discarded, together with every other connection of the pool that was opened before it (the
  server restarted: they are all dead), and a fresh one is opened. So while the server is
  down, requests fail as fast as a connection is refused, and once it is back the next
  request succeeds, with no restart of the app.
* PostgreSQL: each statement may run ``statement_timeout`` seconds on the server (the
  connection's ``statement_timeout`` setting); the driver gives up on any operation, pings
  included, a little after that (``command_timeout``), in case the server stops answering.
* SQLite: WAL, so readers and the writer do not block each other, and a busy timeout, so two
  writers (or a checkpoint) wait for each other instead of failing.

Retrying a read-only statement whose connection dropped is the request's business:
``db.sessions.RequestDatabase``.

Each pool reports its connections in use and the checkouts waiting for one to ``metrics``
(``nkcinema_db_pool_connections``), under the database's name (``primary`` by default).
"""

from __future__ import annotations

import functools
import weakref
from typing import Any

import orjson
from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import (
    AsyncAdaptedQueuePool,
    ConnectionPoolEntry,
    PoolResetState,
    QueuePool,
)

import metrics
from db.search import SQLITE_FUNCTIONS
from db.statement_timeout import limit_sqlite_statements
from settings import Settings, async_database_url

SQLITE_BUSY_TIMEOUT_MS = 5000
# SQLite reads the database file through a memory map of up to this many bytes, instead of
# copying pages into each connection's own page cache (2 MB by default, far smaller than a
# large catalog, which would then be read from the OS again and again; bench/README.md,
# "Serving"). The map's pages are the OS page cache's, shared by every connection and worker.
SQLITE_MMAP_BYTES = 256 * 1024 * 1024
# How much longer than the server's statement timeout the driver waits for any answer: the
# server's own timeout (a clean "canceling statement") should always come first.
COMMAND_TIMEOUT_MARGIN_SECONDS = 1.0
# The longest statement asyncpg keeps prepared per connection (its default: 15 KiB). A
# root search's statement is 7-15 KiB for W6's selection (db.search: four ranks and the typo
# candidates a kind, the key written in) and longer for larger selections; the fast lane
# sends its text to the driver (gql.compiled.driver), and a statement asyncpg does not keep
# is prepared, so planned, at every request: 2.5-9 ms for W6's at 100,000 works.
MAX_KEPT_STATEMENT_CHARACTERS = 256 * 1024


def _sqlite_on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    """Foreign keys on (SQLite leaves them off), WAL so readers don't block the writer, and
    the file read through a memory map (``SQLITE_MMAP_BYTES``).

    The busy timeout is set first, so that even switching to WAL waits for a lock instead of
    failing with "database is locked".

    The driver's own transaction handling is switched off (``isolation_level = None``) and
    ``_sqlite_on_begin`` emits BEGIN itself, so transactions (DDL included) and SAVEPOINTs
    behave as SQLAlchemy expects: a failed seed or migration leaves nothing behind.
    """
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute(f"PRAGMA mmap_size = {SQLITE_MMAP_BYTES}")
    cursor.close()
    for name, function in SQLITE_FUNCTIONS.items():
        dbapi_connection.create_function(name, 2, function, deterministic=True)


def _sqlite_on_reset(
    dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry, state: PoolResetState
) -> None:
    """A connection back in the pool rolled back only if it is in a transaction (the pool's
    own reset is off on SQLite: ``create_engine``). The same as rolling back every time — the
    sqlite3 module's rollback does nothing outside a transaction — without aiosqlite's thread
    being woken to find that out (the fast lane's reads, outside any transaction, returned
    each connection that way: a round trip to the thread and back to the loop a request)."""
    if not state.asyncio_safe or state.transaction_was_reset:  # as the pool's reset
        return
    driver = record.driver_connection
    try:
        open_transaction = driver is not None and driver.in_transaction
    except ValueError:  # aiosqlite's connection is closed: nothing to roll back
        return
    if open_transaction:
        dbapi_connection.rollback()


SQLITE_BEGIN = "sqlite_begin"  # execution option: "IMMEDIATE" for a transaction that writes


def _sqlite_on_begin(connection: Connection) -> None:
    """BEGIN, or BEGIN IMMEDIATE for a writer (``execution_options(sqlite_begin=…)``): a
    deferred transaction that reads, then writes, cannot wait for another writer (SQLite
    refuses the upgrade at once, "database is locked"); an immediate one waits its turn."""
    mode = connection.get_execution_options().get(SQLITE_BEGIN, "")
    connection.exec_driver_sql(f"BEGIN {mode}" if mode in ("IMMEDIATE", "EXCLUSIVE") else "BEGIN")


def asyncpg_connect_args(
    *, connect_timeout: float | None, statement_timeout: float | None
) -> dict[str, Any]:
    """asyncpg's ``connect()`` arguments for the timeouts (SQLAlchemy passes them through).

    ``timeout``: seconds to establish a connection (asyncpg's default is 60).
    ``server_settings.statement_timeout``: the server cancels a statement after that many ms.
    ``command_timeout``: the driver's own limit on every operation, a margin above it.
    ``max_cacheable_statement_size``: ``MAX_KEPT_STATEMENT_CHARACTERS``.
    """
    args: dict[str, Any] = {"max_cacheable_statement_size": MAX_KEPT_STATEMENT_CHARACTERS}
    if connect_timeout is not None:
        args["timeout"] = connect_timeout
    if statement_timeout is not None:
        args["server_settings"] = {"statement_timeout": str(max(1, int(statement_timeout * 1000)))}
        args["command_timeout"] = statement_timeout + COMMAND_TIMEOUT_MARGIN_SECONDS
    return args


class ObservedPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's pool for async engines, counting the checkouts that wait because every
    connection it may open is in use (the pool has no event for that)."""

    database = "primary"  # the name its metrics carry: a subclass per name (``_pool_class``)

    def _do_get(self) -> ConnectionPoolEntry:
        # Below its overflow the pool opens a connection rather than wait: no need to count
        # (checkedout() reads the queue's size, on every checkout of the hot path).
        if self._overflow < self._max_overflow or (
            self.checkedout() < self.size() + max(self._max_overflow, 0)
        ):
            return super()._do_get()
        metrics.pool_waiting(self.database, 1)
        try:
            return super()._do_get()
        finally:
            metrics.pool_waiting(self.database, -1)


@functools.cache
def _pool_class(database: str) -> type[ObservedPool]:
    # A class per name: a pool is recreated (engine.dispose) from its class alone.
    return type(f"ObservedPool[{database}]", (ObservedPool,), {"database": database})


def _observe_pool(engine: AsyncEngine, database: str) -> None:
    """Connections in use, read from the pool when the metrics are written (not counted per
    checkout: two updates a request). The pool is replaced when the engine is disposed: read
    through the engine, which the metrics do not keep alive."""
    sync_engine = weakref.ref(engine.sync_engine)

    def in_use() -> int | None:
        engine = sync_engine()
        if engine is None:
            return None
        pool = engine.pool
        return pool.checkedout() if isinstance(pool, QueuePool) else 0

    metrics.watch_pool(database, in_use)


def create_engine(
    database_url: str,
    *,
    name: str | None = "primary",
    echo: bool = False,
    pool_size: int = 5,
    max_overflow: int = 5,
    pool_timeout: float = 5.0,
    connect_timeout: float | None = None,
    statement_timeout: float | None = None,
    pre_ping: bool = True,
) -> AsyncEngine:
    """An async engine for a standard ``sqlite:///`` or ``postgresql://`` URL.

    The defaults suit the command line (migrations, seeding): no statement timeout and the
    driver's connect timeout. The service passes its settings (``engine_from_settings``).
    ``name``: the database's name in the pool metrics (``primary``, ``replica-1`` …; None:
    a pool that serves no requests, left out of them).
    ``statement_timeout`` is PostgreSQL's ``statement_timeout`` there, and a progress handler
    that interrupts long statements on SQLite (``db.statement_timeout``).
    """
    url = async_database_url(database_url)
    kwargs: dict[str, Any] = {"echo": echo}
    backend = make_url(url).get_backend_name()
    pooled: dict[str, Any] = {
        "pool_size": pool_size,
        "max_overflow": max_overflow,
        "pool_timeout": pool_timeout,
    }
    if name is not None:
        pooled["poolclass"] = _pool_class(name)
    if backend == "postgresql":
        kwargs.update(pooled, pool_pre_ping=pre_ping)
        # JSON values (the compiled path's answers: tens of kB) decoded by orjson, not by
        # the standard library's json, which took a quarter of a nested page's CPU time.
        kwargs["json_deserializer"] = orjson.loads
        kwargs["connect_args"] = asyncpg_connect_args(
            connect_timeout=connect_timeout, statement_timeout=statement_timeout
        )
    elif backend == "sqlite":
        if is_sqlite_file(url):
            kwargs.update(pooled)  # an in-memory database has one connection (StaticPool)
        kwargs["pool_reset_on_return"] = None  # _sqlite_on_reset instead
    engine = create_async_engine(url, **kwargs)
    if "poolclass" in kwargs and name is not None:
        _observe_pool(engine, name)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_on_begin)
        event.listen(engine.sync_engine, "reset", _sqlite_on_reset)
        if statement_timeout is not None:
            limit_sqlite_statements(engine, statement_timeout)
    return engine


def is_sqlite_file(url: str) -> bool:
    database = make_url(url).database
    return bool(database) and database != ":memory:" and "mode=memory" not in url


def engine_from_settings(settings: Settings, name: str = "primary") -> AsyncEngine:
    """The requests' pool; ``name``: the database it counts under in the metrics."""
    return create_engine(
        settings.database_url,
        name=name,
        echo=settings.log_sql,
        pool_size=settings.pool_size,
        pool_timeout=settings.pool_timeout,
        connect_timeout=settings.connect_timeout,
        statement_timeout=settings.statement_timeout,
    )


def direct_engine_from_settings(settings: Settings, name: str = "primary") -> AsyncEngine:
    """A second pool, for reads made on the driver's connection directly (``web.fast_lane``):
    no overflow (a connection opened and closed per request would cost more than waiting) and,
    on PostgreSQL, no ping per checkout (a read on a dead connection fails, the connection is
    discarded and the request goes the normal way, which pings)."""
    return create_engine(
        settings.database_url,
        name=name,
        pool_size=settings.pool_size,
        max_overflow=0,
        pool_timeout=settings.pool_timeout,
        connect_timeout=settings.connect_timeout,
        statement_timeout=settings.statement_timeout,
        pre_ping=False,
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
