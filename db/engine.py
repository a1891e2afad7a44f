"""Engines and sessions: one async engine per database URL, configured per dialect."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from db.search import SQLITE_FUNCTIONS
from settings import Settings, async_database_url

SQLITE_BUSY_TIMEOUT_MS = 5000


def _sqlite_on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    """Foreign keys on (SQLite leaves them off), WAL so readers don't block the writer.

    The driver's own transaction handling is switched off (``isolation_level = None``) and
    ``_sqlite_on_begin`` emits BEGIN itself, so transactions (DDL included) and SAVEPOINTs
    behave as SQLAlchemy expects: a failed seed or migration leaves nothing behind.
    """
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()
    for name, function in SQLITE_FUNCTIONS.items():
        dbapi_connection.create_function(name, 2, function, deterministic=True)


def _sqlite_on_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")


def create_engine(database_url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine for a standard ``sqlite:///`` or ``postgresql://`` URL."""
    url = async_database_url(database_url)
    kwargs: dict[str, Any] = {"echo": echo}
    if url.startswith("postgresql"):
        kwargs.update(pool_pre_ping=True, pool_size=5, max_overflow=5, pool_timeout=5)
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_on_begin)
    return engine


def engine_from_settings(settings: Settings) -> AsyncEngine:
    return create_engine(settings.database_url, echo=settings.log_sql)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
