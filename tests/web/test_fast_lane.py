"""The fast lane (web.fast_lane): a request answered before is answered again from the
response cache or by its prepared compiled plan (over GET with its entity tag, or a 304),
with the same bytes as the full path, never for a request it was not prepared for, and never
from a catalog older than the request."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from graphql import parse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.routing import Route

from db.sessions import RequestDatabase
from gql.compiled import run_plan, statement_source
from gql.compiled.driver import driver_statement
from gql.compiled.plan import plan_operation
from gql.schema import schema
from settings import Settings
from tests.support.client import app_client, make_app
from tests.support.databases import backend_name
from tests.support.factories import wipe
from tests.support.sql import StatementCounter
from web.view import CatalogGraphQL

QUERY = """query W($slug: String!) {
  work(slug: $slug) { slug title year directors { name } themes { name } }
  works(first: 3) { totalCount nodes { title } }
}"""
SEA = {"query": QUERY, "variables": {"slug": "sea-of-blood"}}


def _graphql(app: Starlette) -> CatalogGraphQL:
    [view] = [r.endpoint for r in app.routes if isinstance(r, Route) and r.path == "/graphql"]
    assert isinstance(view, CatalogGraphQL)
    return view


def _app(catalog_url: str, sessions: Any = None, **overrides: Any) -> Starlette:
    settings = Settings(database_url=catalog_url, compiled=True, **overrides)
    return make_app(settings, sessions=sessions)


@pytest.fixture
async def lane(
    catalog_url: str, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[tuple[httpx.AsyncClient, CatalogGraphQL]]:
    app = _app(catalog_url, sessions, response_cache_entries=0)  # plans only
    async with app_client(app) as client:
        yield client, _graphql(app)


async def test_a_repeated_request_runs_its_plan_and_answers_the_same_bytes(
    lane: tuple[httpx.AsyncClient, CatalogGraphQL], statements: StatementCounter
) -> None:
    client, view = lane
    first = await client.post("/graphql", json=SEA)
    assert first.headers["x-execution"] == "compiled"
    assert view.prepared.hits == 0
    statements.reset()
    second = await client.post("/graphql", json=SEA)
    assert view.prepared.hits == 1
    assert second.headers["x-execution"] == "compiled"
    assert second.content == first.content  # data and extensions.cost, byte for byte
    assert second.json()["extensions"]["cost"] > 0
    # one statement per root field; the first one reads the catalog version beside its data
    assert statements.count == 2
    assert "catalog_state" in statements.statements[0]


async def test_a_repeated_get_runs_its_plan_with_its_entity_tag_and_a_304_before_it(
    lane: tuple[httpx.AsyncClient, CatalogGraphQL], statements: StatementCounter
) -> None:
    client, view = lane
    params = {"query": QUERY, "variables": '{"slug": "sea-of-blood"}'}
    first = await client.get("/graphql", params=params)  # the full path, which prepares it
    assert first.status_code == 200 and view.prepared.hits == 0
    statements.reset()
    second = await client.get("/graphql", params=params)
    assert view.prepared.hits == 1
    assert second.headers["x-execution"] == "compiled"
    assert second.content == first.content
    for header in ("etag", "cache-control"):  # as the full path tags a GET's answer
        assert second.headers[header] == first.headers[header]
    # the catalog version first (the tag depends on it), then one statement per root field
    assert statements.count == 3 and "catalog_state" in statements.statements[0]
    statements.reset()
    again = await client.get(
        "/graphql", params=params, headers={"If-None-Match": second.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == second.headers["etag"]
    assert view.prepared.hits == 1  # decided on the version alone: the plan did not run
    assert not any("works" in sql for sql in statements.statements)


async def test_other_requests_go_the_full_way(
    lane: tuple[httpx.AsyncClient, CatalogGraphQL],
) -> None:
    client, view = lane
    await client.post("/graphql", json=SEA)
    others: list[dict[str, Any]] = [
        {"json": {**SEA, "variables": {"slug": "the-flower-girl"}}},  # other variables
        {"json": {**SEA, "operationName": "W"}},  # spelled differently: another key
        {"json": SEA, "headers": {"Authorization": "Bearer nope"}},  # credentials
    ]
    for request in others:
        response = await client.post("/graphql", **request)
        assert response.status_code == 200, response.text
    assert view.prepared.hits == 0
    refused = await client.post(
        "/graphql",
        content=httpx.Request("POST", "/", json=SEA).content,
        headers={"Content-Type": "text/plain"},
    )
    assert refused.status_code == 415  # the app's refusal, as before
    assert refused.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert view.prepared.hits == 0


async def test_a_write_is_seen_by_the_next_request(
    catalog_url: str, sessions: async_sessionmaker[AsyncSession], session: AsyncSession
) -> None:
    app = _app(catalog_url, sessions)  # plans and the response cache
    view = _graphql(app)
    async with app_client(app) as c:
        assert (await c.post("/graphql", json=SEA)).json()["data"]["work"] is not None
        assert (await c.post("/graphql", json=SEA)).headers["x-cache"] == "hit"
        await wipe(session)  # a write: bumps the catalog version
        after = await c.post("/graphql", json=SEA)
        assert "x-cache" not in after.headers
        assert view.prepared.hits == 1  # the plan ran again, on the new catalog
        assert after.json()["data"] == {"work": None, "works": {"totalCount": 0, "nodes": []}}


@pytest.mark.parametrize("cache", [True, False], ids=["cache", "plans only"])
async def test_the_app_own_engine_reads_through_its_own_connections(
    catalog_url: str, caplog: pytest.LogCaptureFixture, cache: bool
) -> None:
    """``nkcinema serve``'s set-up: the version from a dedicated connection, and the plan on
    a pooled connection's driver outside a transaction — without ever falling back."""
    app = _app(catalog_url, response_cache_entries=1000 if cache else 0)
    view = _graphql(app)
    async with app_client(app, lifespan=True) as c:
        with caplog.at_level(logging.DEBUG, logger="nkcinema.fast_lane"):
            answers = [await c.post("/graphql", json=SEA) for _ in range(3)]
            other = {**SEA, "variables": {"slug": "the-flower-girl"}}
            flower = [await c.post("/graphql", json=other) for _ in range(2)]
    assert not caplog.records, [r.getMessage() for r in caplog.records]  # nothing failed
    if not cache:
        assert view.prepared.hits == 3
        assert all(a.headers["x-execution"] == "compiled" for a in answers + flower)
        assert answers[0].content == answers[2].content
        return
    assert answers[1].headers["x-cache"] == answers[2].headers["x-cache"] == "hit"
    assert answers[0].content == answers[1].content == answers[2].content
    assert flower[0].content == flower[1].content
    assert flower[1].json()["data"]["work"]["title"] == "The Flower Girl"
    assert app.state.versions.reads >= 3  # every lane answer read the version


# Lists answered by their plans on the app's own connections (gql.compiled.driver), a kind
# filter among them (SQL's IN: a parameter per element once the statement is expanded). On
# PostgreSQL, statements whose values are all integers and words have them written into their
# text; the others keep them bound (here a filter's text that is not a word).
LISTS = {
    "W2": "{ works(first: 50) { nodes { slug title year directors { name } themes { name } } } }",
    "W3": """{ directors(first: 100) { nodes { name
      works(role: DIRECTOR, first: 10) { nodes { title year themes { name } } } } } }""",
    "ordered": """{ works(first: 4, orderBy: [{field: YEAR, direction: DESC}], filter: {kind: FILM,
      yearFrom: 1950}) { totalCount pageInfo { hasNextPage } nodes { title year } } }""",
    "last": "{ people(last: 3) { pageInfo { hasPreviousPage } nodes { name } } }",
    "theme": """{ works(filter: {theme: "loyalty"}, first: 3) { nodes { title }
      facets { kinds { kind count } decades { decade count } } } }""",
    "not a word": """{ works(filter: {theme: "historical-drama"}, first: 3) { nodes { title } }
      people(filter: {search: "o'brien"}, first: 2) { totalCount nodes { name } } }""",
}
WRITTEN_IN = {"W2", "W3", "ordered", "last", "theme"}  # on PostgreSQL


@pytest.mark.parametrize("name", list(LISTS))
async def test_lists_run_on_the_driver_answer_the_full_path_bytes(
    catalog_url: str, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    app = _app(catalog_url, response_cache_entries=0, max_cost=1_000_000)  # W3: 100 x 10
    view = _graphql(app)
    body = {"query": LISTS[name]}
    async with app_client(app, lifespan=True) as c:
        with caplog.at_level(logging.DEBUG, logger="nkcinema.fast_lane"):
            full, lane = [await c.post("/graphql", json=body) for _ in range(2)]
            engine = app.state.replicas.primary.direct
    assert not caplog.records, [r.getMessage() for r in caplog.records]  # nothing fell back
    assert full.status_code == 200 and "errors" not in full.json(), full.text
    assert view.prepared.hits == 1 and lane.headers["x-execution"] == "compiled"
    assert lane.content == full.content
    plan = plan_operation(
        schema._schema, parse(LISTS[name]), None, {}, default_page_size=20, max_page_size=100
    )
    assert plan is not None
    written = [
        driver_statement(engine.dialect, statement_source(root)[0], False) for _, root in plan.roots
    ]
    bound = [s.names for s in written if s is not None and s.names]
    assert bound if backend_name() == "sqlite" or name not in WRITTEN_IN else not bound


async def test_without_the_compiled_path_only_cached_answers_take_the_lane(
    catalog_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    app = make_app(Settings(database_url=catalog_url, compiled=False), sessions=sessions)
    view = _graphql(app)
    assert not view.prepared.enabled
    async with app_client(app) as c:
        first = await c.post("/graphql", json=SEA)
        second = await c.post("/graphql", json=SEA)
    assert "x-execution" not in first.headers
    assert second.headers["x-cache"] == "hit" and second.content == first.content


async def test_a_stale_answer_is_recomputed_at_the_version_read_before_it(
    catalog_url: str, sessions: async_sessionmaker[AsyncSession], session: AsyncSession
) -> None:
    app = _app(catalog_url, sessions)
    view = _graphql(app)
    missing = {"query": QUERY, "variables": {"slug": "no-such-work"}}
    async with app_client(app) as c:
        first = await c.post("/graphql", json=missing)  # the full path: version read first
        assert (await c.post("/graphql", json=missing)).headers["x-cache"] == "hit"
        await wipe(session)  # a write: the cached answer is stale
        again = await c.post("/graphql", json=missing)
        last = await c.post("/graphql", json=missing)
    assert first.json()["data"]["work"] is None
    assert "x-cache" not in again.headers and view.prepared.hits == 1  # the plan ran again
    assert again.json()["data"]["works"]["totalCount"] == 0
    assert last.headers["x-cache"] == "hit" and last.content == again.content


async def test_the_version_comes_from_the_first_statement_or_not_at_all(
    catalog_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """A plan's first statement reads the version beside its row; when it finds no row (an
    object that does not exist) there is no version: a version read by a later statement
    could count a write the first one did not see (``gql.compiled.FirstRead``)."""

    async def versions(slug: str) -> tuple[Any, int | None]:
        plan = plan_operation(
            schema._schema,
            parse(QUERY),
            None,
            {"slug": slug},
            default_page_size=20,
            max_page_size=100,
        )
        assert plan is not None
        database = RequestDatabase(sessions())
        try:
            return await run_plan(plan, database, read_version=True)
        finally:
            await database.close()

    found, version = await versions("sea-of-blood")
    assert found is not None and found["work"]["title"] and isinstance(version, int)
    missing, none = await versions("no-such-work")
    assert missing is not None and missing["work"] is None and none is None
