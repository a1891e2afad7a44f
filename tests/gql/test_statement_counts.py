"""No N+1: the statements a request issues do not grow with the size of any list in it."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from settings import Settings
from tests.support.factories import build_catalog, wipe
from tests.support.graphql import GraphQL
from tests.support.sql import StatementCounter


@pytest.fixture
def settings(catalog_url: str) -> Settings:
    """These queries are built to touch every list at once, far beyond what the default cost
    limit (gql/limits.py) lets one request do: the limit is lifted here."""
    return Settings(database_url=catalog_url, max_cost=10**9)


DIRECTORS_QUERY = """{
  directors(first: 50) { nodes { name works(role: DIRECTOR, first: 10) { totalCount nodes {
    title themes { name } directors { name } } } } }
}"""

EVERYTHING_QUERY = """{
  works(first: 100, orderBy: [{field: YEAR, direction: DESC}]) { totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id slug title originalTitle alternativeTitles kind year synopsis
      directors { name alternativeNames }
      credits { role position person { slug } work { slug } sources { title url } }
      themes { slug works(first: 3) { totalCount nodes { slug } } }
      related { type work { slug } }
      sources { key title url }
      disputes { field stated reported note source { url } }
      attributions { field sources { key } }
      externalIds { system value url }
      similar(first: 3) { totalCount nodes { slug } }
    } }
  }
  people(first: 100) { nodes { slug credits { role work { title } } sources { key }
    attributions { field } works(first: 2, kind: FILM) { totalCount nodes { slug } }
    externalIds { system value url } } }
  themes(first: 100) { nodes { slug works(first: 5) { nodes { slug directors { slug } } } } }
  search(query: "work", first: 50) { __typename }
}"""


async def _count(gql: GraphQL, statements: StatementCounter, query: str) -> tuple[int, object]:
    statements.reset()
    data = await gql(query)
    return statements.count, data


async def _count_at(
    gql: GraphQL, session: AsyncSession, statements: StatementCounter, query: str, size: int
) -> tuple[int, object]:
    await wipe(session)
    await build_catalog(session, size)
    return await _count(gql, statements, query)


async def test_directors_query_issues_the_same_statements_for_5_and_500_directors(
    gql: GraphQL, session: AsyncSession, statements: StatementCounter
) -> None:
    small, small_data = await _count_at(gql, session, statements, DIRECTORS_QUERY, 5)
    large, large_data = await _count_at(gql, session, statements, DIRECTORS_QUERY, 500)
    assert small_data != large_data  # the two catalogs really differ
    assert small == large, "\n".join(statements.statements)


async def test_every_field_at_once_issues_a_constant_number_of_statements(
    gql: GraphQL, session: AsyncSession, statements: StatementCounter
) -> None:
    """Every list field in one request. A tiny catalog may need fewer statements (when every
    record a later batch needs was already loaded, that batch is skipped), never more; from
    there on the count is the same whatever the size."""
    tiny, _ = await _count_at(gql, session, statements, EVERYTHING_QUERY, 5)
    small, small_data = await _count_at(gql, session, statements, EVERYTHING_QUERY, 100)
    large, large_data = await _count_at(gql, session, statements, EVERYTHING_QUERY, 500)
    assert small_data != large_data
    assert small == large, "\n".join(statements.statements)
    assert tiny <= small


async def test_directors_query_uses_a_handful_of_statements(
    gql: GraphQL, session: AsyncSession, statements: StatementCounter
) -> None:
    await wipe(session)
    await build_catalog(session, 500)
    count, data = await _count(gql, statements, DIRECTORS_QUERY)
    directors = data["directors"]["nodes"]  # type: ignore[index]
    assert len(directors) == 50
    assert max(len(d["works"]["nodes"]) for d in directors) == 10  # per-parent limit applied
    # directors page, works pages, works counts, themes, credits, people: one statement each
    assert count <= 1 + 6, "\n".join(statements.statements)  # 1: the catalog version
