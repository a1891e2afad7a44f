"""Persisted queries (the Automatic Persisted Queries protocol: a document named by its
SHA-256) and trusted documents, against the real app over HTTP on a database of their own
(registrations are committed, as in production, so that a second app instance — a second
process's caches — sees them).

A hash alone runs the stored document, over GET with an ETag and a 304 on revalidation, and
reaches the fast lane like any other request; an unknown hash answers
PERSISTED_QUERY_NOT_FOUND; a hash with its document registers it once the operation passed
every limit; with trusted documents on, anything else is refused before it is parsed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine, session_factory
from db.persisted_documents import document_hash, find_document, trust_documents
from settings import Settings
from tests.support.client import app_client
from tests.support.databases import Databases
from tests.support.documents import README

QUERY = '{ work(slug: "sea-of-blood") { title year } }'
ANSWER = {"work": {"title": "Sea of Blood", "year": 1971}}
VARIABLES_QUERY = "query W($slug: String!) { work(slug: $slug) { title } }"
MUTATION = 'mutation Gone { deleteWork(input: {slug: "nope", version: 1}) { deletedSlug } }'
GRAPHQL_RESPONSE = "application/graphql-response+json"


def document(tag: str, query: str = QUERY) -> str:
    """A document of its own for each test (a comment changes the hash, not the operation):
    the tests share one database, where registrations stay."""
    return f"# {tag}\n{query}"


def persisted(text: str | None = None, *, sha256: str | None = None) -> dict[str, Any]:
    """The ``extensions`` of a request naming ``text`` (or ``sha256``) by hash."""
    assert text is not None or sha256 is not None
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256 or document_hash(text or "")}}


def get_params(
    extensions: dict[str, Any], query: str | None = None, variables: Any = None
) -> dict[str, str]:
    params = {"extensions": json.dumps(extensions)}
    if query is not None:
        params["query"] = query
    if variables is not None:
        params["variables"] = json.dumps(variables)
    return params


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json()["errors"]]


@pytest.fixture(scope="module")
def catalog(databases: Databases) -> str:
    """A seeded catalog of this module's own: its registrations are committed."""
    return databases.create_seeded()


@pytest.fixture(scope="module")
async def catalog_engine(catalog: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(catalog)
    yield engine
    await engine.dispose()


def settings_for(catalog: str, **changes: Any) -> Settings:
    return Settings(database_url=catalog, graphiql=False, **changes)


@pytest.fixture
async def client(catalog: str, catalog_engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(settings_for(catalog), engine=catalog_engine) as c:
        yield c


async def trust(engine: AsyncEngine, *documents: str) -> None:
    async with session_factory(engine)() as session, session.begin():
        await trust_documents(session, documents)


async def stored(engine: AsyncEngine, text: str) -> bool:
    async with session_factory(engine)() as session:
        return await find_document(session, document_hash(text)) is not None


# -- Automatic Persisted Queries ------------------------------------------------------------


async def test_an_unknown_hash_is_not_found_as_apollo_clients_expect(
    client: httpx.AsyncClient,
) -> None:
    text = document("unknown")
    for response in (
        await client.post("/graphql", json={"extensions": persisted(text)}),
        await client.get("/graphql", params=get_params(persisted(text))),
        await client.get(
            "/graphql", params=get_params(persisted(text)), headers={"Accept": GRAPHQL_RESPONSE}
        ),
    ):
        assert response.status_code == 200
        [error] = response.json()["errors"]
        assert error["message"] == "PersistedQueryNotFound"
        assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        assert "data" not in response.json()
        # A CDN must not keep it: the same URL answers once the document is registered.
        assert response.headers["cache-control"] == "no-store"
        assert "etag" not in response.headers


async def test_a_registered_hash_get_answers_with_an_etag_and_304_from_any_instance(
    catalog: str, catalog_engine: AsyncEngine
) -> None:
    text = document("register")
    async with app_client(settings_for(catalog), engine=catalog_engine) as first:
        registered = await first.post(
            "/graphql", json={"query": text, "extensions": persisted(text)}
        )
        assert registered.status_code == 200
        assert registered.json()["data"] == ANSWER
    assert await stored(catalog_engine, text)

    # Another instance: nothing in its caches, the database has the document.
    async with app_client(settings_for(catalog), engine=catalog_engine) as second:
        params = get_params(persisted(text))
        answer = await second.get("/graphql", params=params)
        assert answer.status_code == 200
        assert answer.json()["data"] == ANSWER
        tag = answer.headers["etag"]
        assert answer.headers["cache-control"] == "public, max-age=0, must-revalidate"

        again = await second.get("/graphql", params=params)  # from the response cache
        assert again.headers["x-cache"] == "hit"
        assert again.headers["etag"] == tag
        assert again.content == answer.content

        revalidated = await second.get("/graphql", params=params, headers={"If-None-Match": tag})
        assert revalidated.status_code == 304
        assert revalidated.content == b""
        assert revalidated.headers["etag"] == tag

        # The tag names the request: a full GET of the same document is another URL.
        full = await second.get("/graphql", params={"query": text})
        assert full.json()["data"] == ANSWER
        assert full.headers["etag"] != tag


async def test_a_hash_only_post_and_variables_run_the_stored_document(
    client: httpx.AsyncClient,
) -> None:
    text = document("variables", VARIABLES_QUERY)
    body = {"query": text, "variables": {"slug": "sea-of-blood"}, "extensions": persisted(text)}
    assert (await client.post("/graphql", json=body)).json()["data"]["work"]["title"]
    for slug, title in (("sea-of-blood", "Sea of Blood"), ("the-flower-girl", "The Flower Girl")):
        body = {"variables": {"slug": slug}, "extensions": persisted(text)}
        response = await client.post("/graphql", json=body)
        assert response.json() == {"data": {"work": {"title": title}}, "extensions": {"cost": 1}}
        repeated = await client.post("/graphql", json=body)  # the fast lane answers it
        assert repeated.content == response.content
        assert repeated.headers.get("x-cache") == "hit" or repeated.headers.get("x-execution")
        answer = await client.get(
            "/graphql", params=get_params(persisted(text), variables={"slug": slug})
        )
        assert answer.json()["data"] == {"work": {"title": title}}
        assert "etag" in answer.headers


async def test_a_hash_that_is_not_the_documents_is_refused_and_nothing_stored(
    client: httpx.AsyncClient, catalog_engine: AsyncEngine
) -> None:
    text = document("mismatch")
    wrong = persisted(sha256=document_hash(text + " "))
    response = await client.post("/graphql", json={"query": text, "extensions": wrong})
    assert response.status_code == 400
    assert codes(response) == ["PERSISTED_QUERY_HASH_MISMATCH"]
    assert not await stored(catalog_engine, text)
    assert not await stored(catalog_engine, text + " ")


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ " + "works { nodes { " * 20 + "slug" + " } }" * 20 + " }", "QUERY_TOO_DEEP"),
        (
            "{ works(first: 100) { nodes { credits { person { works(first: 100) { nodes { "
            "credits { person { slug } } } } } } } } }",
            "QUERY_TOO_COSTLY",
        ),
        ("{ works { nope } }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ works { ", "GRAPHQL_PARSE_FAILED"),
    ],
)
async def test_only_documents_within_every_limit_are_registered(
    client: httpx.AsyncClient, catalog_engine: AsyncEngine, query: str, code: str
) -> None:
    text = document(f"limit {code}", query)
    response = await client.post("/graphql", json={"query": text, "extensions": persisted(text)})
    assert codes(response) == [code]
    assert not await stored(catalog_engine, text)
    again = await client.post("/graphql", json={"extensions": persisted(text)})
    assert codes(again) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_registrations_are_bounded_in_number_and_bytes(migrated_database: str) -> None:
    engine = create_engine(migrated_database)
    first, second = "{ __typename }", "query Second { __typename }"
    try:
        for limits in ({"persisted_query_limit": 1}, {"persisted_query_bytes": len(first) + 5}):
            async with app_client(settings_for(migrated_database, **limits), engine=engine) as c:
                for text in (first, second):
                    body = {"query": text, "extensions": persisted(text)}
                    answer = await c.post("/graphql", json=body)
                    assert answer.json()["data"] == {"__typename": "Query"}  # it runs…
                assert await stored(engine, first)
                assert not await stored(engine, second)  # …but is not stored
                only = await c.post("/graphql", json={"extensions": persisted(second)})
                assert codes(only) == ["PERSISTED_QUERY_NOT_FOUND"]
    finally:
        await engine.dispose()


async def test_a_mutation_by_hash_over_get_stays_405(client: httpx.AsyncClient) -> None:
    text = document("mutation", MUTATION)
    registered = await client.post("/graphql", json={"query": text, "extensions": persisted(text)})
    assert codes(registered) == ["UNAUTHENTICATED"]  # admitted, then refused: registered
    response = await client.get("/graphql", params=get_params(persisted(text)))
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert codes(response) == ["METHOD_NOT_ALLOWED"]
    by_post = await client.post("/graphql", json={"extensions": persisted(text)})
    assert codes(by_post) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize(
    "extensions",
    [
        {"persistedQuery": {"version": 2, "sha256Hash": "0" * 64}},
        {"persistedQuery": {"version": 1, "sha256Hash": "not a hash"}},
        {"persistedQuery": {"version": 1}},
        {"persistedQuery": "yes"},
    ],
)
async def test_a_malformed_persisted_query_is_a_bad_request(
    client: httpx.AsyncClient, extensions: dict[str, Any]
) -> None:
    for response in (
        await client.post("/graphql", json={"extensions": extensions}),
        await client.get("/graphql", params=get_params(extensions)),
    ):
        assert response.status_code == 400
        assert codes(response) == ["BAD_REQUEST"]


async def test_a_get_whose_extensions_are_not_json_is_a_bad_request(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/graphql", params={"extensions": '{"persistedQuery": '})
    assert response.status_code == 400
    assert codes(response) == ["BAD_REQUEST"]


async def test_with_persisted_queries_off_a_hash_alone_is_not_supported(
    catalog: str, catalog_engine: AsyncEngine
) -> None:
    text = document("off")
    async with app_client(
        settings_for(catalog, persisted_queries=False), engine=catalog_engine
    ) as c:
        response = await c.post("/graphql", json={"extensions": persisted(text)})
        assert response.status_code == 200
        [error] = response.json()["errors"]
        assert error["message"] == "PersistedQueryNotSupported"
        assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_SUPPORTED"
        full = await c.post("/graphql", json={"query": text, "extensions": persisted(text)})
        assert full.json()["data"] == ANSWER  # the document runs as sent…
    assert not await stored(catalog_engine, text)  # …and is not registered


# -- trusted documents ----------------------------------------------------------------------


@pytest.fixture
async def trusted_client(
    catalog: str, catalog_engine: AsyncEngine
) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(
        settings_for(catalog, trusted_documents=True), engine=catalog_engine
    ) as c:
        yield c


async def test_trusted_documents_run_in_full_or_by_hash(
    trusted_client: httpx.AsyncClient, catalog_engine: AsyncEngine
) -> None:
    text = document("trusted")
    await trust(catalog_engine, text)
    full = await trusted_client.post("/graphql", json={"query": text})
    assert full.json()["data"] == ANSWER
    with_hash = await trusted_client.post(
        "/graphql", json={"query": text, "extensions": persisted(text)}
    )
    assert with_hash.json()["data"] == ANSWER
    params = get_params(persisted(text))
    answer = await trusted_client.get("/graphql", params=params)
    assert answer.json()["data"] == ANSWER
    tag = answer.headers["etag"]
    revalidated = await trusted_client.get(
        "/graphql", params=params, headers={"If-None-Match": tag}
    )
    assert revalidated.status_code == 304
    assert (await trusted_client.get("/graphql", params={"query": text})).json()["data"] == ANSWER


async def test_with_trusted_documents_anything_else_is_refused_before_parsing(
    trusted_client: httpx.AsyncClient,
) -> None:
    # Were they parsed (or measured), the answers would be GRAPHQL_PARSE_FAILED, data,
    # TOO_MANY_TOKENS and DOCUMENT_TOO_LARGE.
    for query in ("{ works { ", document("untrusted"), "query { " * 3000, "{ a }" * 20_000):
        for response in (
            await trusted_client.post("/graphql", json={"query": query}),
            await trusted_client.get("/graphql", params={"query": query[:2000]}),
        ):
            assert response.status_code == 200
            assert codes(response) == ["PERSISTED_QUERY_REQUIRED"]
            assert "data" not in response.json()
    # Over GET, not even the check for mutations (405) reads an untrusted document.
    mutation = await trusted_client.get("/graphql", params={"query": document("m", MUTATION)})
    assert codes(mutation) == ["PERSISTED_QUERY_REQUIRED"]
    strict = await trusted_client.post(
        "/graphql", json={"query": "{ works { "}, headers={"Accept": GRAPHQL_RESPONSE}
    )
    assert strict.status_code == 400  # a request error, in GraphQL over HTTP's media type
    assert codes(strict) == ["PERSISTED_QUERY_REQUIRED"]


async def test_with_trusted_documents_registration_is_refused(
    trusted_client: httpx.AsyncClient, client: httpx.AsyncClient, catalog_engine: AsyncEngine
) -> None:
    text = document("not trusted")
    refused = await trusted_client.post(
        "/graphql", json={"query": text, "extensions": persisted(text)}
    )
    assert codes(refused) == ["PERSISTED_QUERY_REQUIRED"]
    assert not await stored(catalog_engine, text)
    # Registered by an instance that allows it, it is still not trusted.
    await client.post("/graphql", json={"query": text, "extensions": persisted(text)})
    assert await stored(catalog_engine, text)
    by_hash = await trusted_client.post("/graphql", json={"extensions": persisted(text)})
    assert codes(by_hash) == ["PERSISTED_QUERY_NOT_FOUND"]
    in_full = await trusted_client.post("/graphql", json={"query": text})
    assert codes(in_full) == ["PERSISTED_QUERY_REQUIRED"]
    # Trusted by the operator later, it runs at once (nothing kept it as refused).
    await trust(catalog_engine, text)
    assert (await trusted_client.post("/graphql", json={"query": text})).json()["data"] == ANSWER


async def test_a_trusted_mutation_over_get_stays_405(
    trusted_client: httpx.AsyncClient, catalog_engine: AsyncEngine
) -> None:
    text = document("trusted mutation", MUTATION)
    await trust(catalog_engine, text)
    for params in ({"query": text}, get_params(persisted(text))):
        response = await trusted_client.get("/graphql", params=params)
        assert response.status_code == 405
        assert codes(response) == ["METHOD_NOT_ALLOWED"]


def test_the_readme_tables_the_new_codes_and_settings() -> None:
    readme = README.read_text("utf-8")
    for code in (
        "PERSISTED_QUERY_NOT_FOUND",
        "PERSISTED_QUERY_NOT_SUPPORTED",
        "PERSISTED_QUERY_HASH_MISMATCH",
        "PERSISTED_QUERY_REQUIRED",
    ):
        assert f"| `{code}` |" in readme, code
    for setting in (
        "NKCINEMA_PERSISTED_QUERIES",
        "NKCINEMA_TRUSTED_DOCUMENTS",
        "NKCINEMA_PERSISTED_QUERY_LIMIT",
        "NKCINEMA_PERSISTED_QUERY_BYTES",
    ):
        assert f"`{setting}`" in readme, setting
