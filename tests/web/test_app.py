"""The ASGI app over HTTP: health and readiness, GraphQL over GET and POST, GraphiQL,
request ids, and how bad requests and an unreachable database are answered."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from settings import Settings
from tests.support.client import app_client, make_app

REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
UNREACHABLE_DATABASE = "postgresql://postgres@127.0.0.1:1/none"  # nothing listens on port 1
_JSON = {"Content-Type": "application/json"}


def _is_graphiql(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").startswith("text/html") and (
        "graphiql" in response.text.lower()
    )


# -- health -------------------------------------------------------------------------------------


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


async def test_readyz_is_503_quickly_when_the_database_is_unreachable() -> None:
    settings = Settings(database_url=UNREACHABLE_DATABASE)
    async with app_client(settings, lifespan=True) as c:  # disposes the app's own engine after
        started = time.monotonic()
        response = await c.get("/readyz")
        elapsed = time.monotonic() - started
        health = await c.get("/healthz")
    assert response.status_code == 503, response.text
    assert response.json() == {"status": "unavailable"}
    assert UNREACHABLE_DATABASE not in response.text
    assert elapsed < 3.0, f"readiness took {elapsed:.1f} s"
    # Liveness does not depend on the database.
    assert health.status_code == 200


# -- GraphQL over GET and POST ------------------------------------------------------------------


async def test_a_query_over_get(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql?query={works(first:2){totalCount}}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    assert body["data"]["works"]["totalCount"] > 0


async def test_a_query_over_post_with_variables(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json={
            "query": "query Two($first: Int, $slug: String!) { "
            "works(first: $first) { totalCount nodes { slug } } "
            "person(slug: $slug) { originalName } }",
            "variables": {"first": 2, "slug": "choe-ik-kyu"},
            "operationName": "Two",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    assert len(body["data"]["works"]["nodes"]) == 2
    assert body["data"]["works"]["totalCount"] >= 2
    assert body["data"]["person"] == {"originalName": "최익규"}


async def test_get_and_post_give_the_same_answer(client: httpx.AsyncClient) -> None:
    query = "{ works(first: 3) { totalCount nodes { slug title year kind } } }"
    over_get = await client.get("/graphql", params={"query": query})
    over_post = await client.post("/graphql", json={"query": query})
    assert over_get.status_code == over_post.status_code == 200
    assert over_get.json() == over_post.json()
    assert "errors" not in over_get.json()


async def test_a_mutation_over_get_is_rejected(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "mutation { x }"})
    assert 400 <= response.status_code < 500, response.text
    if response.headers.get("content-type", "").startswith("application/json"):
        assert not response.json().get("data"), response.text


async def test_malformed_json_is_a_client_error(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=b'{"query": "{ works { totalCount } ', headers=_JSON
    )
    assert 400 <= response.status_code < 500, response.text
    assert "Traceback" not in response.text


async def test_a_json_list_body_is_a_client_error(client: httpx.AsyncClient) -> None:
    """Batching is off: a list of operations is refused, not half-run."""
    response = await client.post(
        "/graphql", content=b'[{"query": "{ __typename }"}]', headers=_JSON
    )
    assert 400 <= response.status_code < 500, response.text


async def test_variables_that_are_not_an_object_are_a_client_error(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ __typename }", "variables": "first=2"}
    )
    assert 400 <= response.status_code < 500, response.text


# -- GraphiQL -----------------------------------------------------------------------------------


async def test_graphiql_is_served_to_browsers(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert _is_graphiql(response), response.text[:500]


async def test_graphiql_can_be_switched_off(
    catalog_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    settings = Settings(database_url=catalog_url, graphiql=False)
    async with app_client(settings, sessions=sessions) as c:
        page = await c.get("/graphql", headers={"Accept": "text/html"})
        query = await c.get("/graphql", params={"query": "{ __typename }"})
    assert not _is_graphiql(page)
    assert page.status_code != 200 or "graphiql" not in page.text.lower()
    assert query.status_code == 200
    assert query.json()["data"] == {"__typename": "Query"}


# -- request ids --------------------------------------------------------------------------------


async def test_responses_carry_a_generated_request_id(client: httpx.AsyncClient) -> None:
    first = await client.post("/graphql", json={"query": "{ __typename }"})
    second = await client.get("/graphql", params={"query": "{ __typename }"})
    ids = [r.headers.get("X-Request-ID") for r in (first, second)]
    for request_id in ids:
        assert request_id is not None and REQUEST_ID.match(request_id), ids
    assert ids[0] != ids[1]


async def test_a_client_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"X-Request-ID": "trace-42_a"}
    )
    assert response.headers["X-Request-ID"] == "trace-42_a"


async def test_a_client_request_id_is_sanitized(client: httpx.AsyncClient) -> None:
    hostile = await client.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"X-Request-ID": "abc<script>;def 1\t2"},
    )
    assert hostile.headers["X-Request-ID"] == "abcscriptdef12"

    long = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"X-Request-ID": "x" * 500}
    )
    assert long.headers["X-Request-ID"] == "x" * 64

    nothing_left = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"X-Request-ID": "<>;%%"}
    )
    assert REQUEST_ID.match(nothing_left.headers["X-Request-ID"]), nothing_left.headers


async def test_an_error_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ noSuchField }"})
    assert response.json().get("errors"), response.text
    assert REQUEST_ID.match(response.headers.get("X-Request-ID", "")), response.headers


@pytest.mark.parametrize(
    "body",
    [b'"x"', b"1", b"null", b"true", b'{"query": "\xc3("}', b"\xff\xfe\x00"],
    ids=["string", "number", "null", "boolean", "bad-utf8", "binary"],
)
async def test_a_body_that_is_not_a_json_object_is_a_400(
    client: httpx.AsyncClient, body: bytes
) -> None:
    response = await client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert "Traceback" not in response.text


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/graphql?query={__typename}"])
async def test_every_response_carries_a_request_id(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert len(response.headers["x-request-id"]) >= 16


async def test_an_unusable_client_request_id_is_replaced(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"x-request-id": "<>!!"})
    assert len(response.headers["x-request-id"]) >= 16
    assert response.headers["x-request-id"] != "<>!!"


# -- serving ------------------------------------------------------------------------------------


async def test_the_served_app_tunes_the_garbage_collector(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    """``nkcinema serve``'s factory freezes what start-up built and collects the young
    generation less often; ``create_app`` (what tests call) leaves the collector alone."""
    import gc

    from web.app import GC_YOUNG_THRESHOLD, create_served_app

    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    threshold = gc.get_threshold()
    plain = make_app(settings)
    async with plain.router.lifespan_context(plain):  # disposes the app's own engines
        assert gc.get_threshold() == threshold
        assert gc.get_freeze_count() == 0
    try:
        served = create_served_app()
        async with served.router.lifespan_context(served):
            assert gc.get_freeze_count() > 0
            assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, *threshold[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
