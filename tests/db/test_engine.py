"""How the engines configure their connections (db.engine)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

from db.engine import SQLITE_MMAP_BYTES
from tests.support.databases import backend_name


@pytest.mark.skipif(backend_name() != "sqlite", reason="SQLite's connection settings")
async def test_sqlite_connections_are_configured(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        settings = {
            name: (await connection.execute(text(f"PRAGMA {name}"))).scalar_one()
            for name in ("journal_mode", "foreign_keys", "synchronous", "mmap_size")
        }
    assert settings == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "synchronous": 1,  # NORMAL
        "mmap_size": SQLITE_MMAP_BYTES,
    }


@pytest.mark.skipif(backend_name() != "postgresql", reason="PostgreSQL's JSON decoding")
async def test_postgresql_json_values_are_decoded(engine: AsyncEngine) -> None:
    """Through the driver's JSON codec (orjson: db.engine), into Python values."""
    async with engine.connect() as connection:
        value = (
            await connection.execute(text("SELECT json_build_array(1, 'Ŏ', json_build_array())"))
        ).scalar_one()
    assert value == [1, "Ŏ", []]


@pytest.mark.skipif(backend_name() != "postgresql", reason="asyncpg's kept statements")
async def test_postgresql_keeps_long_statements_prepared(engine: AsyncEngine) -> None:
    """A statement longer than asyncpg's default limit (15 KiB), as a root search's can be,
    is kept prepared on its connection, not prepared and planned again at each run."""
    long = "SELECT length('" + "x" * 20_000 + "')"
    connection = await engine.raw_connection()
    try:
        driver: Any = connection.driver_connection
        for _ in range(2):
            assert await driver.fetchval(long) == 20_000
        kept = await driver.fetchval(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1", long
        )
    finally:
        await greenlet_spawn(connection.close)
    assert kept == 1


@pytest.mark.skipif(backend_name() != "sqlite", reason="SQLite's reset on return")
async def test_sqlite_connections_are_rolled_back_on_return_only_in_a_transaction(
    engine: AsyncEngine,
) -> None:
    """A connection back in the pool holds no transaction (one left open is rolled back, its
    writes undone), and one outside a transaction is returned without a rollback: no call to
    aiosqlite's thread (db.engine._sqlite_on_reset)."""
    rollbacks = 0

    async def returned(write: bool) -> Any:
        nonlocal rollbacks
        raw = await engine.raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        rollback = driver.rollback

        async def counted() -> None:
            nonlocal rollbacks
            rollbacks += 1
            await rollback()

        driver.rollback = counted  # type: ignore[method-assign]
        if write:
            await driver.execute("BEGIN")
            await driver.execute("CREATE TABLE reset_probe (x INTEGER)")
        else:
            await driver.execute_fetchall("SELECT 1")
        await greenlet_spawn(raw.close)
        del driver.rollback
        return driver

    outside = await returned(write=False)
    assert rollbacks == 0 and not outside.in_transaction
    inside = await returned(write=True)
    assert rollbacks == 1 and not inside.in_transaction
    async with engine.connect() as connection:
        tables = await connection.execute(
            text("SELECT count(*) FROM sqlite_master WHERE name = 'reset_probe'")
        )
        assert tables.scalar_one() == 0
