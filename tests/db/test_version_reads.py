"""Catalog version reads for cache hits (db.version_reads): coalesced, yet never older than
the request that asked, from a connection of their own on both databases."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.catalog_version import bump_catalog_version
from db.engine import create_engine, session_factory
from db.version_reads import SessionSource, VersionReads, dedicated_source


async def _bump(engine: AsyncEngine) -> int:
    async with session_factory(engine)() as session, session.begin():
        return await bump_catalog_version(session)


@pytest.fixture
async def own_engine(migrated_database: str) -> AsyncEngine:
    engine = create_engine(migrated_database)
    yield engine  # type: ignore[misc]
    await engine.dispose()


class GatedSource(SessionSource):
    """Reads the real version, then waits for ``gate`` before answering: the read is
    already made while callers keep arriving."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(session_factory(engine))
        self.gate = asyncio.Event()
        self.read_made = asyncio.Event()

    async def read(self) -> int:
        version = await super().read()
        self.read_made.set()
        await self.gate.wait()
        return version


async def test_concurrent_callers_share_one_read(own_engine: AsyncEngine) -> None:
    reads = VersionReads(SessionSource(session_factory(own_engine)))
    versions = await asyncio.gather(*(reads.current() for _ in range(20)))
    assert len(set(versions)) == 1
    assert reads.reads == 1  # all twenty arrived before the read started


async def test_a_caller_never_gets_a_read_that_started_before_it(own_engine: AsyncEngine) -> None:
    source = GatedSource(own_engine)
    reads = VersionReads(source)
    early = asyncio.create_task(reads.current())
    await source.read_made.wait()  # the first read has been made…
    bumped = await _bump(own_engine)  # …then a write commits…
    late = asyncio.create_task(reads.current())  # …then another request asks
    await asyncio.sleep(0)
    source.gate.set()
    assert await early == bumped - 1
    assert await late == bumped  # a second read, started after it asked
    assert reads.reads == 2


async def test_a_failed_read_reaches_every_waiter_and_the_next_read_is_fresh(
    empty_database: str,
) -> None:
    broken = create_engine(empty_database)  # no catalog_state table: every read fails
    try:
        reads = VersionReads(SessionSource(session_factory(broken)))
        results = await asyncio.gather(*(reads.current() for _ in range(3)), return_exceptions=True)
        assert all(isinstance(r, Exception) for r in results), results
        assert reads.reads == 1
        with pytest.raises(Exception):  # noqa: B017 - the driver's own error class
            await reads.current()
        assert reads.reads == 2
    finally:
        await broken.dispose()


async def test_a_dedicated_connection_sees_every_committed_write(own_engine: AsyncEngine) -> None:
    source = dedicated_source(own_engine, connect_timeout=2.0)
    reads = VersionReads(source)
    try:
        before = await reads.current()
        for _ in range(3):
            bumped = await _bump(own_engine)
            assert await reads.current() == bumped
        assert bumped == before + 3
        await source.close()  # a dropped connection: the next read opens another
        assert await reads.current() == bumped
    finally:
        await reads.close()


async def test_a_dedicated_connection_that_cannot_read_raises(empty_database: str) -> None:
    engine = create_engine(empty_database)
    reads = VersionReads(dedicated_source(engine, connect_timeout=2.0))
    try:
        with pytest.raises(Exception):  # noqa: B017 - sqlite3's or asyncpg's error
            await reads.current()
    finally:
        await reads.close()
        await engine.dispose()
