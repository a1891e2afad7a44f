"""Reading the catalog version (``db.catalog_version``) cheaply, for the requests that need
nothing else from the database: answers from the response cache.

``VersionReads.current()`` returns a version read by a statement that *started after the call
began*, so it reflects every write committed before the request arrived; concurrent callers
share such a read (one statement answers everyone who was waiting when it started, and those
who arrive while it runs wait for the next one). Under load, a worker makes one version read
per round trip rather than one per request.

Where reads come from (``VersionSource``):

- ``DedicatedSource``: one connection of its own, outside the request pool. On PostgreSQL
  the raw asyncpg connection (a prepared statement, no pool checkout or ping per read); on
  SQLite a read-only ``sqlite3`` connection, read synchronously (WAL: a reader never waits
  for the writer, and the read takes microseconds). A failed read drops the connection; the
  next read opens a new one.
- ``SessionSource``: a session of the app's own factory per read; for apps given their own
  sessions (tests run each in a transaction that is rolled back: only their sessions see
  what they wrote).
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.util import greenlet_spawn

from db.catalog_version import CATALOG_STATE_ID, catalog_version
from db.engine import create_engine, is_sqlite_file

VERSION_SQL = f"SELECT version FROM catalog_state WHERE id = {CATALOG_STATE_ID}"
SQLITE_READ_TIMEOUT = 0.05  # seconds a read may wait for a lock (WAL recovery) on the loop


class VersionSource(Protocol):
    async def read(self) -> int: ...

    async def close(self) -> None: ...


def version_value(value: Any) -> int:
    """The version a read of ``VERSION_SQL`` found (no row yet: 1, as db.catalog_version)."""
    return 1 if value is None else int(value)


class SessionSource:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def read(self) -> int:
        async with self.sessions() as session:
            return await catalog_version(session)

    async def close(self) -> None:
        return None


class _SQLiteSource:
    def __init__(self, path: str) -> None:
        self.path = path
        self.connection: sqlite3.Connection | None = None

    async def read(self) -> int:
        try:
            if self.connection is None:
                self.connection = sqlite3.connect(
                    f"file:{self.path}?mode=ro",
                    uri=True,
                    timeout=SQLITE_READ_TIMEOUT,
                    isolation_level=None,
                    check_same_thread=False,
                )
            rows = self.connection.execute(VERSION_SQL).fetchall()  # to the end: no open read
        except sqlite3.Error:
            await self.close()
            raise
        return version_value(rows[0][0] if rows else None)

    async def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            connection.close()


class _PostgresSource:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.raw: Any = None  # the pool's proxy of the connection we hold

    async def read(self) -> int:
        try:
            if self.raw is None:
                self.raw = await self.engine.raw_connection()
            value = await self.raw.driver_connection.fetchval(VERSION_SQL)
        except BaseException:
            raw, self.raw = self.raw, None
            if raw is not None:  # never reused: it may be broken or mid-statement
                await greenlet_spawn(raw.invalidate)  # the pool's IO needs SQLAlchemy's greenlet
            raise
        return version_value(value)

    async def close(self) -> None:
        raw, self.raw = self.raw, None
        if raw is not None:
            await greenlet_spawn(raw.close)
        await self.engine.dispose()


def dedicated_source(engine: AsyncEngine, *, connect_timeout: float) -> VersionSource:
    """A source with its own connection to the database ``engine`` reads."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return _SQLiteSource(str(url.database))
    own = create_engine(
        url.render_as_string(hide_password=False),
        name=None,  # one connection, held: not the requests' pool (its metrics)
        pool_size=1,
        max_overflow=0,
        connect_timeout=connect_timeout,
        statement_timeout=connect_timeout,
    )
    return _PostgresSource(own)


def is_file_database(engine: AsyncEngine) -> bool:
    """Whether ``dedicated_source`` can read what the engine's connections read (not an
    in-memory SQLite database, which only the engine's own connection holds)."""
    return engine.url.get_backend_name() != "sqlite" or is_sqlite_file(str(engine.url))


class ReadInterrupted(RuntimeError):
    """The shared read was cancelled (the loop is closing): its waiters get this."""


class VersionReads:
    """Coalesced reads of the catalog version from a source (see the module docstring)."""

    def __init__(self, source: VersionSource) -> None:
        self.source = source
        self.reads = 0  # statements made (tests and benchmarks compare it with requests)
        self._waiting: asyncio.Future[int] | None = None  # for the next read to start
        self._reading = False
        self._task: asyncio.Task[None] | None = None  # referenced while it runs

    async def current(self) -> int:
        if self._waiting is None:
            self._waiting = asyncio.get_running_loop().create_future()
            if not self._reading:
                self._reading = True
                self._task = asyncio.get_running_loop().create_task(self._read_for_waiters())
        # shielded: a caller that gives up does not cancel the read the others wait for
        return await asyncio.shield(self._waiting)

    async def _read_for_waiters(self) -> None:
        try:
            while self._waiting is not None:
                waiting, self._waiting = self._waiting, None
                self.reads += 1
                try:
                    version = await self.source.read()
                except BaseException as error:  # every waiter gets it; nobody may be left
                    failure = error if isinstance(error, Exception) else ReadInterrupted()
                    waiting.set_exception(failure)
                    waiting.add_done_callback(_retrieve)
                    if not isinstance(error, Exception):
                        raise
                else:
                    waiting.set_result(version)
        finally:
            self._reading = False

    async def close(self) -> None:
        await self.source.close()


def _retrieve(future: asyncio.Future[int]) -> None:
    """Mark a shared failure as seen (all its callers may have gone)."""
    if not future.cancelled():
        future.exception()
