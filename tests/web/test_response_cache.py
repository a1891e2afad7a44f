"""Repeated read operations are answered from a per-process cache keyed by the catalog
version, which lives in the database: every write, through any process, makes older answers
unreachable."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import create_engine
from seeds import BUNDLED_CATALOG
from settings import Settings
from tests.support.cli import ok
from tests.support.client import app_client
from tests.support.factories import wipe
from tests.support.sql import StatementCounter
from web.response_cache import ResponseCache, request_key

QUERY = "query W($slug: String!) { work(slug: $slug) { title synopsis directors { name } } }"


async def _post(client: httpx.AsyncClient, slug: str = "sea-of-blood") -> httpx.Response:
    return await client.post("/graphql", json={"query": QUERY, "variables": {"slug": slug}})


async def test_a_repeated_query_is_answered_from_the_cache(
    client: httpx.AsyncClient, statements: StatementCounter
) -> None:
    first = await _post(client)
    assert "x-cache" not in first.headers
    statements.reset()
    second = await _post(client)
    assert second.headers["x-cache"] == "hit"
    assert second.json() == first.json()
    assert statements.count == 1  # the catalog version, nothing else


async def test_other_variables_are_another_answer(client: httpx.AsyncClient) -> None:
    await _post(client, "sea-of-blood")
    other = await _post(client, "the-flower-girl")
    assert "x-cache" not in other.headers
    assert other.json()["data"]["work"]["title"] == "The Flower Girl"


async def test_errors_and_credentials_are_never_cached(client: httpx.AsyncClient) -> None:
    for _ in range(2):
        failed = await client.post(
            "/graphql", json={"query": "{ works(first: -1) { totalCount } }"}
        )
        assert failed.json()["errors"] and "x-cache" not in failed.headers
    for _ in range(2):
        private = await client.post(
            "/graphql",
            json={"query": QUERY, "variables": {"slug": "sea-of-blood"}},
            headers={"Authorization": "Bearer x"},
        )
        assert "x-cache" not in private.headers


async def test_a_write_makes_cached_answers_stale(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    assert (await _post(client)).json()["data"]["work"] is not None
    assert (await _post(client)).headers["x-cache"] == "hit"
    await wipe(session)  # a write (bumps the catalog version, as every write does)
    after = await _post(client)
    assert "x-cache" not in after.headers
    assert after.json()["data"]["work"] is None


async def test_the_cache_can_be_switched_off(
    catalog_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    settings = Settings(database_url=catalog_url, response_cache_entries=0)
    async with app_client(settings, sessions=sessions) as client:
        for _ in range(3):
            assert "x-cache" not in (await _post(client)).headers


@pytest.fixture
async def two_workers(
    migrated_database: str, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, str]]:
    """Two app instances (as two workers or two hosts would be) over one seeded database."""
    ok("seed", database_url=migrated_database, cwd=tmp_path)
    engines = [create_engine(migrated_database) for _ in range(2)]
    try:
        settings = Settings(database_url=migrated_database)
        async with (
            app_client(settings, engine=engines[0]) as one,
            app_client(settings, engine=engines[1]) as two,
        ):
            yield one, two, migrated_database
    finally:
        for engine in engines:
            await engine.dispose()


async def test_every_worker_sees_a_seed_that_another_process_ran(
    two_workers: tuple[httpx.AsyncClient, httpx.AsyncClient, str], tmp_path: Path
) -> None:
    one, two, database_url = two_workers
    for client in (one, two):
        await _post(client)
        assert (await _post(client)).headers["x-cache"] == "hit"
    catalog = json.loads(BUNDLED_CATALOG.read_text("utf-8"))
    [work] = [w for w in catalog["works"] if w["slug"] == "sea-of-blood"]
    work["synopsis"] = "Changed by a seed in another process."
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(catalog), "utf-8")
    ok("seed", str(changed), database_url=database_url, cwd=tmp_path)
    for client in (one, two):
        fresh = await _post(client)
        assert "x-cache" not in fresh.headers
        assert fresh.json()["data"]["work"]["synopsis"] == "Changed by a seed in another process."


def test_the_cache_is_bounded_by_entries_and_bytes() -> None:
    cache = ResponseCache(max_entries=3, max_bytes=1000)
    for i in range(5):
        cache.put(f"k{i}", 1, b"x" * 10)
    assert len(cache) == 3 and cache.get("k0", 1) is None and cache.get("k4", 1) == b"x" * 10
    cache.put("big", 1, b"x" * 300)  # over a quarter of the budget: not kept
    assert cache.get("big", 1) is None
    for i in range(4):
        cache.put(f"m{i}", 1, b"x" * 240)
    assert sum(len(cache.get(f"m{i}", 1) or b"") for i in range(4)) <= 1000


def test_an_entry_is_served_only_at_its_version() -> None:
    cache = ResponseCache(max_entries=3, max_bytes=1000)
    cache.put("k", 7, b"answer")
    assert cache.get("k", 7) == b"answer"
    assert cache.get("k", 8) is None  # the catalog changed since


def test_keys_ignore_variable_order_and_spelling() -> None:
    a = {"query": "q", "variables": {"a": 1, "b": 2}}
    b = {"query": "q", "variables": '{"b": 2, "a": 1}'}
    assert request_key(a) == request_key(b)
    assert request_key({"query": "q"}) == request_key({"query": "q", "variables": {}})
    assert request_key(a) != request_key({**a, "operationName": "Q"})
