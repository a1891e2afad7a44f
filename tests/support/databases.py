"""Throwaway databases on the backend under test: a SQLite file, or a PostgreSQL database
created on the server named by TEST_DATABASE_URL (and dropped afterwards)."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncEngine

from cli import _run, migrate
from db.engine import session_factory
from db.tokens import create_token
from seeds import seed

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def backend_name() -> str:
    return "postgresql" if TEST_DATABASE_URL.startswith(("postgresql", "postgres")) else "sqlite"


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def _asyncpg_url(url: str) -> str:
    _scheme, _, rest = url.partition("://")
    return f"postgresql://{rest}"


def migrate_and_seed(url: str) -> None:
    """Migrate the (empty) database at ``url`` to head and seed the bundled catalog."""
    migrate(url)
    _run(lambda engine: seed(session_factory(engine)), url)


def curator_token(url: str, name: str, scope: str = "editor") -> str:
    """A new curator's token on the database at ``url`` (as ``nkcinema token create``)."""

    async def create(engine: AsyncEngine) -> str:
        async with session_factory(engine)() as session, session.begin():
            return await create_token(session, name, scope)

    return _run(create, url)


class Databases:
    """Creates fresh, empty databases for tests and removes them at the end of the run."""

    def __init__(self, tmp_dir: Path) -> None:
        self.tmp_dir = tmp_dir
        self.created: list[str] = []

    def unavailable_reason(self) -> str | None:
        """Why the backend under test cannot be used (None when it can)."""
        if backend_name() == "sqlite":
            return None
        try:
            asyncio.run(self._admin("SELECT 1"))
        except (OSError, asyncpg.PostgresError) as error:
            return f"PostgreSQL at TEST_DATABASE_URL is unreachable: {error!r}"
        return None

    def create(self) -> str:
        if backend_name() == "sqlite":
            return f"sqlite:///{self.tmp_dir / f'{uuid.uuid4().hex}.db'}"
        name = f"nkcinema_test_{uuid.uuid4().hex[:12]}"
        asyncio.run(self._admin(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return _with_database(TEST_DATABASE_URL, name)

    def create_seeded(self) -> str:
        """The URL of a new database migrated to head and holding the bundled catalog."""
        url = self.create()
        migrate_and_seed(url)
        return url

    def drop_all(self) -> None:
        for name in self.created:
            asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.created.clear()

    async def _admin(self, sql: str) -> None:
        connection = await asyncpg.connect(_asyncpg_url(TEST_DATABASE_URL), timeout=5)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()
