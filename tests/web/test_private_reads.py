"""An editor's read (the audit trail, ``Query.changes``) is compiled for the editor and never
served to anyone else: not from the response cache, not by a prepared plan on the fast lane,
not by an entity tag, not by a persisted document named by its hash. Whoever lacks the
permission gets the refusal the resolvers have always given, byte for byte, whatever an
editor asked before them (over the real app, with every cache on)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from graphql import parse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.routing import Route

from db.persisted_documents import document_hash
from db.tokens import create_token, revoke_token
from gql.compiled.plan import plan_operation
from gql.schema import schema
from settings import Settings
from tests.support.client import app_client, make_app
from tests.support.curation import CREATE
from tests.support.sql import StatementCounter
from web.prepared import Prepared
from web.response_cache import request_key
from web.view import CatalogGraphQL

TRAIL = """query Trail($subject: String) { changes(first: 10, subject: $subject) { totalCount
  pageInfo { hasNextPage endCursor } edges { cursor node { at actor operation subjectType
  subjectSlug source before after } } } }"""
MIXED = "{ works(first: 2) { nodes { slug } } changes(first: 5) { nodes { operation } } }"
REQUESTS: list[dict[str, Any]] = [
    {"query": TRAIL},
    {"query": TRAIL, "variables": {"subject": "probe"}},
    {"query": MIXED},
]


def _view(app: Starlette) -> CatalogGraphQL:
    [view] = [r.endpoint for r in app.routes if isinstance(r, Route) and r.path == "/graphql"]
    assert isinstance(view, CatalogGraphQL)
    return view


def _get_params(payload: dict[str, Any]) -> dict[str, str]:
    params = {"query": payload["query"]}
    if "variables" in payload:
        params["variables"] = json.dumps(payload["variables"])
    return params


class Apps:
    """The app with every cache on, and the resolver path alone (what "as before" is)."""

    def __init__(
        self, cached: httpx.AsyncClient, view: CatalogGraphQL, resolver: httpx.AsyncClient
    ):
        self.cached, self.view, self.resolver = cached, view, resolver


@pytest.fixture
async def apps(catalog_url: str, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Apps]:
    app = make_app(Settings(database_url=catalog_url, compiled=True), sessions=sessions)
    reference = Settings(database_url=catalog_url, compiled=False, response_cache_entries=0)
    async with app_client(app) as cached, app_client(reference, sessions=sessions) as resolver:
        assert _view(app).responses.enabled and _view(app).prepared.enabled
        yield Apps(cached, _view(app), resolver)


@pytest.fixture
async def editor(apps: Apps, session: AsyncSession) -> dict[str, str]:
    """An editor's headers, after one change is recorded (a work created)."""
    headers = {"Authorization": f"Bearer {await create_token(session, 'ed', 'editor')}"}
    variables = {"input": {"title": "Probe", "kind": "FILM"}}
    created = await apps.cached.post(
        "/graphql", json={"query": CREATE, "variables": variables}, headers=headers
    )
    assert created.json()["data"]["createWork"]["work"]["slug"] == "probe"
    return headers


async def _refused_as_before(
    apps: Apps, payload: dict[str, Any], headers: dict[str, str], *, get: bool = False
) -> None:
    """The cached app answers ``payload`` as the resolver path does: the refusal, not
    compiled, not from a cache, not tagged."""
    if get:
        params = _get_params(payload)
        answer = await apps.cached.get("/graphql", params=params, headers=headers)
        before = await apps.resolver.get("/graphql", params=params, headers=headers)
    else:
        answer = await apps.cached.post("/graphql", json=payload, headers=headers)
        before = await apps.resolver.post("/graphql", json=payload, headers=headers)
    assert answer.status_code == before.status_code == 200
    assert answer.content == before.content
    body = answer.json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "changes" not in (body["data"] or {})  # the audit trail's field: never there
    for header in ("x-execution", "x-cache", "etag"):
        assert header not in answer.headers


async def test_an_editors_read_is_compiled_and_never_served_to_anyone_else(
    apps: Apps, editor: dict[str, str]
) -> None:
    for payload in REQUESTS:
        for _ in range(2):  # the second time is where a cache would answer
            answer = await apps.cached.post("/graphql", json=payload, headers=editor)
            assert answer.headers["x-execution"] == "compiled"
            assert "errors" not in answer.json()
            got = await apps.cached.get("/graphql", params=_get_params(payload), headers=editor)
            assert got.headers["x-execution"] == "compiled"
            assert "etag" not in got.headers and got.headers["cache-control"] == "no-store"
            assert got.json() == answer.json()
    trail = (await apps.cached.post("/graphql", json=REQUESTS[0], headers=editor)).json()
    assert [e["node"]["operation"] for e in trail["data"]["changes"]["edges"]] == ["createWork"]
    assert len(apps.view.prepared) == 0 and len(apps.view.responses) == 0

    unknown = {"Authorization": "Bearer not-a-token"}
    for payload in REQUESTS:
        for headers in ({}, unknown):
            await _refused_as_before(apps, payload, headers)
            await _refused_as_before(apps, payload, headers, get=True)
        # If-None-Match: * is answered 304 before anything executes (web.caching.CatalogVersion,
        # for any anonymous GET): an empty answer, nothing of the trail in it
        blind = await apps.cached.get(
            "/graphql", params=_get_params(payload), headers={"If-None-Match": "*"}
        )
        assert blind.status_code == 304 and blind.content == b""
    assert len(apps.view.prepared) == 0 and apps.view.prepared.hits == 0

    # a document registered by an editor, then named by its hash alone, without a token
    text = REQUESTS[0]["query"]
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": document_hash(text)}}
    registered = await apps.cached.post(
        "/graphql", json={"query": text, "extensions": extensions}, headers=editor
    )
    assert registered.headers["x-execution"] == "compiled"
    for _ in range(2):
        by_hash = await apps.cached.post("/graphql", json={"extensions": extensions})
        body = by_hash.json()
        assert body["data"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
        assert "x-execution" not in by_hash.headers and "x-cache" not in by_hash.headers
    assert len(apps.view.prepared) == 0 and len(apps.view.responses) == 0


async def test_a_revoked_token_is_refused_where_it_was_compiled_before(
    apps: Apps, editor: dict[str, str], session: AsyncSession
) -> None:
    answer = await apps.cached.post("/graphql", json=REQUESTS[0], headers=editor)
    assert answer.headers["x-execution"] == "compiled"
    await revoke_token(session, "ed")
    await _refused_as_before(apps, REQUESTS[0], editor)


async def test_a_page_of_the_audit_trail_is_one_statement(
    apps: Apps, editor: dict[str, str], statements: StatementCounter
) -> None:
    """The token's check (one statement, as the permission's), the catalog version, then the
    page with its cursors, pageInfo and count: one statement, however long the trail."""
    counts = []
    for _ in range(2):
        statements.reset()
        answer = await apps.cached.post("/graphql", json=REQUESTS[0], headers=editor)
        assert answer.headers["x-execution"] == "compiled"
        reads = [s for s in statements.statements if "changes" in s]
        assert len(reads) == 1, reads
        counts.append(statements.count)
        await apps.cached.post(  # one more change for the second round
            "/graphql",
            json={"query": CREATE, "variables": {"input": {"title": "Probe 2", "kind": "FILM"}}},
            headers=editor,
        )
    assert counts[0] == counts[1] == 3, statements.statements


async def test_the_fast_lane_never_runs_a_private_plan(
    apps: Apps, editor: dict[str, str], catalog_url: str
) -> None:
    """The second fence: even were an editor's plan filed under an anonymous request's key
    (nothing files it: requests with credentials are never prepared), the lane would not run
    it; the request goes the full path and is refused."""
    settings = Settings(database_url=catalog_url)
    plan = plan_operation(
        schema._schema,
        parse(TRAIL),
        None,
        None,
        default_page_size=settings.default_page_size,
        max_page_size=settings.max_page_size,
        sqlite=settings.is_sqlite,
        editor=True,
    )
    assert plan is not None and plan.private
    assert (
        plan_operation(
            schema._schema,
            parse(TRAIL),
            None,
            None,
            default_page_size=settings.default_page_size,
            max_page_size=settings.max_page_size,
        )
        is None
    )  # without the permission: not planned
    apps.view.prepared.put(request_key({"query": TRAIL}), Prepared(plan, 1))
    await _refused_as_before(apps, {"query": TRAIL}, {})
    await _refused_as_before(apps, {"query": TRAIL}, {}, get=True)
    assert apps.view.prepared.hits == 2  # found, and not run
