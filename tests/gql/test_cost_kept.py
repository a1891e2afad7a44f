"""A document's cost kept between requests (gql/limits.py): only where no variable's value
can change it, and only for the limits it was counted under."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
from graphql import parse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gql.limits import cost
from gql.schema import schema
from settings import Settings
from tests.support.client import app_client

BY_SLUG = """query BySlug($slug: String!) {
  work(slug: $slug) { slug title directors { slug name } themes { slug name } }
}"""
PAGED = """query Paged($n: Int) { works(first: $n) { nodes { slug directors { name } } } }"""
SEARCHED = """query Searched($q: String!) { search(query: $q) { __typename } }"""


def _cost(query: str, variables: dict[str, Any] | None) -> Any:
    return cost(schema._schema, parse(query), None, variables, Settings(max_cost=10**9))


def test_a_variable_only_an_unpaged_argument_reads_leaves_the_cost_fixed() -> None:
    one, other = _cost(BY_SLUG, {"slug": "a"}), _cost(BY_SLUG, {"slug": "b"})
    assert one.fixed and other.fixed
    assert (one.total, one.work) == (other.total, other.work) == (1 + 10 + 10, 0)


def test_a_variable_a_page_size_or_a_search_reads_makes_the_cost_vary() -> None:
    assert not _cost(PAGED, {"n": 5}).fixed
    assert _cost(PAGED, {"n": 5}).total != _cost(PAGED, {"n": 50}).total
    assert not _cost(SEARCHED, {"q": "flower"}).fixed
    assert _cost(SEARCHED, {"q": "flower"}).work != _cost(SEARCHED, {"q": "sea of blood"}).work


def test_variables_that_do_not_coerce_are_never_kept() -> None:
    counted = _cost(BY_SLUG, {"slug": 12})
    assert not counted.variables_coerce and not counted.fixed


async def _answer(client: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> Any:
    return (await client.post("/graphql", json={"query": query, "variables": variables})).json()


async def test_a_kept_cost_is_checked_against_each_requests_limit(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Counted under a generous limit, then sent where the same document is over the limit:
    refused there, and still answered where it is not."""
    generous = dataclasses.replace(settings, max_cost=10**6)
    strict = dataclasses.replace(settings, max_cost=5)
    async with app_client(generous, sessions=sessions) as client:
        body = await _answer(client, BY_SLUG, {"slug": "no-such-work"})
        assert body["extensions"]["cost"] == 21 and "errors" not in body, body
    async with app_client(strict, sessions=sessions) as client:
        body = await _answer(client, BY_SLUG, {"slug": "another-work"})
        assert [e["extensions"]["code"] for e in body["errors"]] == ["QUERY_TOO_COSTLY"], body
        body = await _answer(client, BY_SLUG, {"slug": 12})  # the variable's own error first
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body
    async with app_client(generous, sessions=sessions) as client:
        body = await _answer(client, BY_SLUG, {"slug": 12})
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body
        assert body["extensions"]["cost"] == 21, body
