"""Every SQL statement has a time limit on the database: PostgreSQL's statement_timeout, and a
progress handler on SQLite. A statement over it is stopped (its work undone) and the API
answers TIMEOUT."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import text

from db.engine import create_engine, session_factory
from db.statement_timeout import is_statement_timeout
from settings import Settings
from tests.support.client import app_client
from tests.support.factories import build_catalog

SLOW = {
    "sqlite": (
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 100000000) "
        "SELECT count(*) FROM n"
    ),
    "postgresql": "SELECT pg_sleep(5)",
}


async def test_a_statement_over_the_limit_is_stopped(migrated_database: str) -> None:
    engine = create_engine(migrated_database, statement_timeout=0.3)
    try:
        async with engine.connect() as connection:
            started = time.perf_counter()
            with pytest.raises(Exception) as raised:
                await connection.execute(text(SLOW[engine.dialect.name]))
            elapsed = time.perf_counter() - started
            driver_error = getattr(raised.value, "orig", raised.value)
            assert is_statement_timeout(driver_error), repr(raised.value)
            assert 0.25 < elapsed < 2.0, elapsed
            await connection.rollback()
            assert (await connection.execute(text("SELECT 42"))).scalar() == 42  # still usable
    finally:
        await engine.dispose()


async def test_statements_under_the_limit_are_not_disturbed(migrated_database: str) -> None:
    engine = create_engine(migrated_database, statement_timeout=0.3)
    try:
        async with engine.connect() as connection:
            for _ in range(20):  # the deadline of one statement must not leak into the next
                assert (await connection.execute(text("SELECT 1"))).scalar() == 1
                await asyncio.sleep(0.02)
    finally:
        await engine.dispose()


async def test_the_api_answers_timeout_for_a_statement_over_the_limit(
    migrated_database: str,
) -> None:
    setup = create_engine(migrated_database)
    try:
        async with session_factory(setup)() as session, session.begin():
            await build_catalog(session, 300)  # 3,600 works: counting them is no longer instant
    finally:
        await setup.dispose()
    # SQLite checks its deadline every few thousand steps; PostgreSQL's shortest timeout is
    # 1 ms: a search too short for the trigram index (two letters) reads every search
    # document, which takes longer than either
    settings = Settings(database_url=migrated_database, statement_timeout=1e-9)
    query = '{ works(filter: {search: "zq"}, orderBy: [{field: YEAR}]) { totalCount } }'
    async with app_client(settings, lifespan=True) as client:
        response = await client.post("/graphql", json={"query": query})
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "TIMEOUT", error
    assert "Traceback" not in response.text and "interrupted" not in response.text


def test_a_cancel_the_driver_sent_at_its_deadline_counts_as_a_timeout() -> None:
    """asyncpg cancels a statement past ``command_timeout``; the server reports "user request"
    and SQLAlchemy's adapter passes it on as a generic ``Error`` (seen on a loaded CI run,
    where it answered INTERNAL_SERVER_ERROR)."""

    class Error(Exception):  # the adapter's class name, as is_statement_timeout sees it
        pass

    assert is_statement_timeout(Error("canceling statement due to user request"))
    assert is_statement_timeout(Error("canceling statement due to statement timeout"))
    assert not is_statement_timeout(Error("duplicate key value violates unique constraint"))
