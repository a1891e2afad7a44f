"""Production answers never suggest ("Did you mean 'kind' or 'kinds'?"): not in validation,
not in variable coercion, not in enum parsing, over POST or GET, the first time a document is
seen or when it is already parsed and validated (gql/document_cache.py), nor when a request
repeats (web/fast_lane.py). Development keeps the suggestions: the same requests show them."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from settings import Settings, load_settings
from tests.support.client import app_client

# (query, variables, a name a suggestion would offer) — each answers an error that
# graphql-core words with a suggestion unless told not to.
CASES: dict[str, tuple[str, dict[str, Any] | None, str]] = {
    "field": ('{ work(slug: "sea-of-blood") { titel } }', None, "title"),
    "argument": ("{ works(frist: 1) { totalCount } }", None, "first"),
    "enum literal": ("{ works(filter: {kind: FILMS}) { totalCount } }", None, "FILM"),
    "input field literal": ("{ works(filter: {kid: FILM}) { totalCount } }", None, "kind"),
    "type": ("query($f: WorkFiltr) { works(filter: $f) { totalCount } }", None, "WorkFilter"),
    "input field variable": (
        "query($f: WorkFilter) { works(filter: $f) { totalCount } }",
        {"f": {"kid": "FILM"}},
        "kind",
    ),
    "enum variable": (
        "query($k: WorkKind) { works(filter: {kind: $k}) { totalCount } }",
        {"k": "FILMS"},
        "FILM",
    ),
    "enum list variable": (
        "query($k: [WorkKind!]) { works(filter: {kinds: $k}) { totalCount } }",
        {"k": ["FILM", "SERIEZ"]},
        "SERIES",
    ),
    "mutation input": (
        'mutation { createWork(input: {titel: "x", kind: FILM}) { userErrors { code } } }',
        None,
        "title",
    ),
    "mutation input variable": (
        "mutation($i: CreateWorkInput!) { createWork(input: $i) { userErrors { code } } }",
        {"i": {"title": "x", "kind": "FILMS"}},
        "FILM",
    ),
}
# The document of a case that also runs without errors (so it gets parsed, validated, cached,
# prepared and fast-laned first) — the bad variables then meet the cached document.
PRIMED = {
    "input field variable": {"f": {"kind": "FILM"}},
    "enum variable": {"k": "FILM"},
    "enum list variable": {"k": ["FILM"]},
}


def _production(catalog_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The settings `NKCINEMA_PRODUCTION=true` gives, on the test catalog."""
    for name in ("NKCINEMA_SUGGESTIONS", "NKCINEMA_INTROSPECTION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NKCINEMA_PRODUCTION", "true")
    return dataclasses.replace(load_settings(), database_url=catalog_url)


@pytest.fixture
async def production(
    catalog_url: str, sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    settings = _production(catalog_url, monkeypatch)
    assert not settings.suggestions
    async with app_client(settings, sessions=sessions) as client:
        yield client


async def _messages(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None, *, get: bool = False
) -> list[str]:
    if get:
        params = {"query": query}
        if variables is not None:
            params["variables"] = json.dumps(variables)
        response = await client.get("/graphql", params=params)
    else:
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        response = await client.post("/graphql", json=payload)
    if get and query.startswith("mutation"):
        assert response.status_code == 405, response.text
        return [e["message"] for e in response.json()["errors"]]
    assert response.status_code == 200, response.text
    errors = response.json().get("errors")
    assert errors, response.text
    for error in errors:
        assert error["extensions"]["code"] in ("GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT")
    return [e["message"] for e in errors]


@pytest.mark.parametrize("case", list(CASES))
async def test_production_errors_never_suggest(production: httpx.AsyncClient, case: str) -> None:
    query, variables, _ = CASES[case]
    if case in PRIMED:
        for _ in range(3):  # the full path, then the prepared plan or the response cache
            ok = await production.post("/graphql", json={"query": query, "variables": PRIMED[case]})
            assert "errors" not in ok.json(), ok.text
    for get in (False, True):
        for _ in range(2):  # the second time the document is known (parsed, maybe validated)
            for message in await _messages(production, query, variables, get=get):
                assert "Did you mean" not in message, (case, message)
                assert "did you mean" not in message.lower(), (case, message)


@pytest.mark.parametrize("case", list(CASES))
async def test_development_errors_still_suggest(client: httpx.AsyncClient, case: str) -> None:
    """The same requests, with the development defaults: the suggestion is there, so the
    production test above proves it is removed (not merely never made)."""
    query, variables, suggested = CASES[case]
    messages = await _messages(client, query, variables)
    assert any("Did you mean" in m and suggested in m for m in messages), messages
