"""How the engines configure their connections (db.engine)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

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
