"""HTTP caching for frontends: GET queries carry an ETag (from the catalog version and the
request) and Cache-Control; a matching If-None-Match answers 304 without running the query;
a seed that changes the catalog changes the tag. And CORS from an allow-list of origins."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import create_engine
from seeds import BUNDLED_CATALOG
from settings import Settings
from tests.support.cli import ok
from tests.support.client import app_client
from tests.support.sql import StatementCounter
from web import http_cache
from web.response_cache import request_key

QUERY = '{ work(slug: "sea-of-blood") { title synopsis } }'
VARIABLES_QUERY = "query W($slug: String!) { work(slug: $slug) { title } }"


def _get(query: str, variables: dict[str, object] | None = None) -> dict[str, str]:
    params = {"query": query}
    if variables is not None:
        params["variables"] = json.dumps(variables)
    return params


async def test_a_get_query_carries_an_etag_and_cache_control(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params=_get(QUERY))
    assert response.status_code == 200
    assert response.json()["data"]["work"]["title"] == "Sea of Blood"
    assert response.headers["etag"].startswith('"') and response.headers["etag"].endswith('"')
    assert response.headers["cache-control"] == "public, max-age=0, must-revalidate"


async def test_a_tagged_answer_varies_by_accept_and_catalog_version_in_one_header(
    client: httpx.AsyncClient,
) -> None:
    # Both every time: the full path, then the fast lane (prepared, then cached).
    for _ in range(3):
        response = await client.get("/graphql", params=_get(QUERY))
        assert response.status_code == 200 and "etag" in response.headers
        [vary] = response.headers.get_list("vary")
        assert sorted(name.strip().lower() for name in vary.split(",")) == [
            "accept",
            "x-catalog-version",
        ], vary


def test_vary_adds_a_name_once_to_one_header() -> None:
    headers = [(b"content-type", b"application/json")]
    http_cache.vary(headers, b"Accept")
    assert headers[-1] == (b"vary", b"Accept")
    http_cache.vary(headers, b"accept")  # named already (names are case-insensitive)
    assert headers == [(b"content-type", b"application/json"), (b"vary", b"Accept")]
    headers.append((b"vary", b"Origin"))  # another layer's, as a header of its own
    http_cache.vary(headers, b"X-Catalog-Version")
    assert headers == [
        (b"content-type", b"application/json"),
        (b"vary", b"Accept, Origin, X-Catalog-Version"),
    ]


async def test_if_none_match_answers_304_without_running_the_query(
    client: httpx.AsyncClient, statements: StatementCounter
) -> None:
    tag = (await client.get("/graphql", params=_get(QUERY))).headers["etag"]
    statements.reset()
    again = await client.get("/graphql", params=_get(QUERY), headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == tag
    assert statements.count == 1  # the catalog version, nothing else
    for header in (f"W/{tag}", f'"nope", {tag}', "*"):
        weak = await client.get("/graphql", params=_get(QUERY), headers={"If-None-Match": header})
        assert weak.status_code == 304, header


async def test_a_different_request_has_a_different_tag(client: httpx.AsyncClient) -> None:
    tags = set()
    for slug in ("sea-of-blood", "the-flower-girl"):
        response = await client.get("/graphql", params=_get(VARIABLES_QUERY, {"slug": slug}))
        tags.add(response.headers["etag"])
    tags.add((await client.get("/graphql", params=_get(QUERY))).headers["etag"])
    assert len(tags) == 3
    stale = await client.get(
        "/graphql",
        params=_get(VARIABLES_QUERY, {"slug": "sea-of-blood"}),
        headers={
            "If-None-Match": (await client.get("/graphql", params=_get(QUERY))).headers["etag"]
        },
    )
    assert stale.status_code == 200


async def test_errors_are_never_cached(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params=_get("{ works { nope } }"))
    assert response.json()["errors"]
    assert "etag" not in response.headers
    assert response.headers["cache-control"] == "no-store"


async def test_posts_and_requests_with_credentials_carry_no_tag(client: httpx.AsyncClient) -> None:
    posted = await client.post("/graphql", json={"query": QUERY})
    assert "etag" not in posted.headers
    private = await client.get(
        "/graphql", params=_get(QUERY), headers={"Authorization": "Bearer something"}
    )
    assert private.status_code == 200
    assert "etag" not in private.headers
    assert private.headers["cache-control"] == "no-store"


def test_if_none_match_parsing() -> None:
    tag = http_cache.entity_tag(3, request_key({"query": "{ a }"}))
    assert http_cache.matches(tag, tag)
    assert http_cache.matches(f'"x", W/{tag}', tag)
    assert http_cache.matches("*", tag)
    assert not http_cache.matches(None, tag)
    assert not http_cache.matches('"3-abc"', tag)
    assert http_cache.entity_tag(4, request_key({"query": "{ a }"})) != tag


# -- the tag follows the catalog ----------------------------------------------------------------


@dataclass
class OwnCatalog:
    client: httpx.AsyncClient
    database_url: str


@pytest.fixture
async def own_catalog(migrated_database: str, tmp_path: Path) -> AsyncIterator[OwnCatalog]:
    """The app over a database of its own, seeded by the CLI (the test seeds it again)."""
    ok("seed", database_url=migrated_database, cwd=tmp_path)
    engine = create_engine(migrated_database)
    try:
        async with app_client(Settings(database_url=migrated_database), engine=engine) as c:
            yield OwnCatalog(c, migrated_database)
    finally:
        await engine.dispose()


async def test_seeding_a_changed_catalog_changes_the_tag(
    own_catalog: OwnCatalog, tmp_path: Path
) -> None:
    client, database_url = own_catalog.client, own_catalog.database_url
    first = await client.get("/graphql", params=_get(QUERY))
    tag = first.headers["etag"]

    # seeding the same catalog again changes nothing: the tag stays, 304 still
    ok("seed", str(BUNDLED_CATALOG), database_url=database_url, cwd=tmp_path)
    same = await client.get("/graphql", params=_get(QUERY), headers={"If-None-Match": tag})
    assert same.status_code == 304

    catalog = json.loads(BUNDLED_CATALOG.read_text("utf-8"))
    [work] = [w for w in catalog["works"] if w["slug"] == "sea-of-blood"]
    work["synopsis"] = "A revised synopsis."
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(catalog), "utf-8")
    ok("seed", str(changed), database_url=database_url, cwd=tmp_path)

    after = await client.get("/graphql", params=_get(QUERY), headers={"If-None-Match": tag})
    assert after.status_code == 200
    assert after.headers["etag"] != tag
    assert after.json()["data"]["work"]["synopsis"] == "A revised synopsis."
    again = await client.get(
        "/graphql", params=_get(QUERY), headers={"If-None-Match": after.headers["etag"]}
    )
    assert again.status_code == 304


# -- CORS ---------------------------------------------------------------------------------------

ALLOWED = "https://frontend.example"


@pytest.fixture
async def cors_client(
    catalog_url: str, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url=catalog_url, cors_origins=(ALLOWED,))
    async with app_client(settings, sessions=sessions) as c:
        yield c


async def test_cors_allows_listed_origins_only(cors_client: httpx.AsyncClient) -> None:
    allowed = await cors_client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": ALLOWED}
    )
    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    assert "etag" in allowed.headers["access-control-expose-headers"].lower()
    other = await cors_client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in other.headers
    preflight = await cors_client.options(
        "/graphql",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, authorization",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ALLOWED


async def test_no_cors_by_default(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": ALLOWED}
    )
    assert "access-control-allow-origin" not in response.headers
