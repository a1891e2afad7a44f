"""Throwaway databases for a run: a SQLite file in a temporary directory, or a PostgreSQL
database ``nkcinema_bench_<random>`` created on the server and dropped at the end; each
migrated with the real migrations, loaded in bulk and analyzed."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.catalog import Catalog
from cli import migrate
from db.engine import session_factory
from seeds import seed

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


class DatabaseUnavailable(RuntimeError):
    """The database server for a run cannot be reached or used."""


@contextlib.asynccontextmanager
async def sqlite_database() -> AsyncIterator[str]:
    directory = tempfile.mkdtemp(prefix="nkcinema-bench-")
    try:
        yield f"sqlite:///{directory}/bench.db"
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _plain_url(url: str) -> str:
    """asyncpg wants ``postgresql://``, whatever driver suffix the URL names."""
    return "postgresql://" + url.partition("://")[2]


def _shown(url: str) -> str:
    """The URL without its password, fit for a report."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


async def _admin(server_url: str, statement: str) -> None:
    connection = await asyncpg.connect(_plain_url(server_url), timeout=10)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


# Planner settings of every benchmark database, so for every server measured on it (the
# app, the floor, PostGraphile). The catalog fits in memory many times over; PostgreSQL's
# default random_page_cost (4, for spinning disks) prices an index probe above reading a
# small table whole, so each work's themes were found by scanning all 300 themes (a third of
# W3's time). 1.1 is the usual value for SSDs and cached data; docker-compose.yml sets it.
PLANNER_SETTINGS = {"random_page_cost": "1.1"}


@contextlib.asynccontextmanager
async def postgresql_database(server_url: str) -> AsyncIterator[str]:
    name = f"nkcinema_bench_{secrets.token_hex(6)}"
    try:
        await _admin(server_url, f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError) as error:
        raise DatabaseUnavailable(f"PostgreSQL at {_shown(server_url)}: {error!r}") from error
    for setting, value in PLANNER_SETTINGS.items():
        await _admin(server_url, f'ALTER DATABASE "{name}" SET {setting} = {value}')
    try:
        yield urlunsplit(urlsplit(_plain_url(server_url))._replace(path=f"/{name}"))
    finally:
        await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def migrate_database(url: str) -> None:
    """The real migrations (synchronous Alembic, which runs its own event loop): in a thread."""
    await asyncio.to_thread(migrate, url)


async def load(engine: AsyncEngine, catalog: Catalog) -> float:
    """Load the catalog in one transaction, as ``nkcinema seed`` does; seconds taken."""
    started = time.perf_counter()
    await seed(session_factory(engine), documents=[("synthetic", catalog.document)])
    return time.perf_counter() - started


async def analyze(engine: AsyncEngine) -> float:
    """Fresh planner statistics. PostgreSQL also gets VACUUM, so that autovacuum does not
    start on the freshly loaded tables in the middle of the measurements."""
    started = time.perf_counter()
    if engine.dialect.name == "postgresql":
        autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        async with autocommit.connect() as connection:
            await connection.execute(text("VACUUM (ANALYZE)"))
    else:
        async with engine.connect() as connection:
            await connection.execute(text("ANALYZE"))
            await connection.commit()
            await connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    return time.perf_counter() - started


async def server_version(engine: AsyncEngine) -> str:
    query = "SELECT sqlite_version()" if engine.dialect.name == "sqlite" else "SHOW server_version"
    async with engine.connect() as connection:
        return str((await connection.execute(text(query))).scalar_one())


async def schema_revision(engine: AsyncEngine) -> str:
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
        return ", ".join(sorted(str(r[0]) for r in rows))
