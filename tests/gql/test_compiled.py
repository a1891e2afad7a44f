"""The compiled read path (gql/compiled): the benchmark workloads answer from one SQL
statement per root field, whatever the catalog's size, with the resolvers' exact answer;
what the compiler does not cover falls back to the resolvers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gql.compiled.plan import Connection, Plan, RootObject, plan_operation
from gql.compiled.sql import Compiler
from gql.schema import schema
from settings import Settings
from tests.support.client import app_client
from tests.support.factories import build_catalog, wipe
from tests.support.sql import StatementCounter

W1 = '{ work(slug: "sea-of-blood") { title year directors { name } themes { name } } }'
W2 = "{ works(first: 50) { nodes { title year directors { name } themes { name } } } }"
W2_BY_YEAR = (
    "{ works(first: 50, orderBy: [{field: YEAR, direction: DESC}]) {"
    " nodes { title year directors { name } themes { name } } } }"
)
W3 = """{ directors(first: 100) { nodes { name
  works(role: DIRECTOR, first: 10) { nodes { title year themes { name } } } } } }"""
WIDE = """query Wide($slug: String!, $skip: Boolean = true) {
  __typename
  w: work(slug: $slug) { __typename id slug t: title originalTitle kind year synopsis
    alternativeTitles ...WorkPeople
    directors @skip(if: $skip) { biography } }
  works(first: 3, orderBy: [{field: YEAR}, {field: TITLE, direction: DESC}],
        filter: {kinds: [FILM, SERIES], yearFrom: 1960, hasDisputes: false}) {
    __typename totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor __typename }
    edges { __typename cursor node { slug } }
    nodes { ... on Node { id } ... on Work { title } }
  }
  themes(first: 2) { totalCount edges { cursor node { name works(first: 2, kind: FILM) {
    totalCount pageInfo { hasNextPage endCursor } nodes { title } } } } }
  people(filter: {role: DIRECTOR}, first: 0) { totalCount pageInfo { hasNextPage } nodes { id } }
}
fragment WorkPeople on Work { directors { id name originalName alternativeNames
  works(first: 2, role: DIRECTOR) { edges { cursor } } } themes { slug description } }"""


def _settings(catalog_url: str, *, compiled: bool) -> Settings:
    return Settings(
        database_url=catalog_url, compiled=compiled, response_cache_entries=0, max_cost=10**9
    )


@pytest.fixture
async def compiled(
    catalog_url: str, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(_settings(catalog_url, compiled=True), sessions=sessions) as c:
        yield c


@pytest.fixture
async def resolved(
    catalog_url: str, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(_settings(catalog_url, compiled=False), sessions=sessions) as c:
        yield c


async def _post(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> httpx.Response:
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    response = await client.post("/graphql", json=payload)
    assert response.status_code == 200, response.text
    return response


async def _same(
    compiled: httpx.AsyncClient,
    resolved: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
) -> httpx.Response:
    """Both paths' answers, which must be the same, byte for byte; the compiled one."""
    fast = await _post(compiled, query, variables)
    slow = await _post(resolved, query, variables)
    assert fast.json() == slow.json()
    assert fast.content == slow.content  # key order too
    assert "X-Execution" not in slow.headers
    return fast


@pytest.mark.parametrize("query", [W1, W2, W2_BY_YEAR, W3], ids=["W1", "W2", "W2-year", "W3"])
async def test_the_workloads_are_compiled_and_answer_as_the_resolvers(
    compiled: httpx.AsyncClient, resolved: httpx.AsyncClient, query: str
) -> None:
    response = await _same(compiled, resolved, query)
    assert response.headers["X-Execution"] == "compiled"
    body = response.json()
    assert "errors" not in body
    assert body["extensions"]["cost"]  # still reported


async def test_w1_reads_hangul_and_a_missing_work_is_null(
    compiled: httpx.AsyncClient, resolved: httpx.AsyncClient
) -> None:
    query = '{ a: work(slug: "sea-of-blood") { originalTitle } b: work(slug: "nope") { title } }'
    response = await _same(compiled, resolved, query)
    assert response.headers["X-Execution"] == "compiled"
    data = response.json()["data"]
    assert data["b"] is None
    assert data["a"]["originalTitle"]  # the seed has it in Hangul


async def test_a_wide_selection_is_compiled_and_answers_as_the_resolvers(
    compiled: httpx.AsyncClient, resolved: httpx.AsyncClient
) -> None:
    response = await _same(compiled, resolved, WIDE, {"slug": "sea-of-blood"})
    assert response.headers["X-Execution"] == "compiled"
    data = response.json()["data"]
    assert list(data) == ["__typename", "w", "works", "themes", "people"]
    assert data["w"]["t"] and data["works"]["pageInfo"]["endCursor"]
    assert data["people"]["totalCount"] > 0 and data["people"]["nodes"] == []


async def test_a_cursor_from_the_compiled_path_pages_on(
    compiled: httpx.AsyncClient, resolved: httpx.AsyncClient
) -> None:
    query = "{ works(first: 2) { edges { cursor } pageInfo { endCursor } } }"
    first = (await _same(compiled, resolved, query)).json()["data"]["works"]
    after = first["pageInfo"]["endCursor"]
    assert after == first["edges"][-1]["cursor"]
    page = f'{{ works(first: 2, after: "{after}") {{ nodes {{ title }} }} }}'
    response = await _same(compiled, resolved, page)
    assert response.headers["X-Execution"] == "compiled"  # `after`: a keyset bound in SQL
    assert len(response.json()["data"]["works"]["nodes"]) == 2


FALLBACKS = [
    '{ search(query: "sea") { __typename } }',
    '{ node(id: "V29yazox") { id } }',
    '{ work(slug: "sea-of-blood") { title credits { role } } }',
    '{ work(slug: "sea-of-blood") { similar(first: 2) { nodes { title } } } }',
    "{ works(first: 2) { facets { kinds { kind count } } } }",
    '{ works(filter: {search: "sea"}) { nodes { title } } }',
    '{ works(first: 2, after: "x") { nodes { title } } }',
    "{ works(last: 2) { nodes { title } } }",
    "{ __schema { queryType { name } } }",
]
ERRORS = [
    "{ works(first: 101) { nodes { title } } }",
    "{ works(first: -1) { nodes { title } } }",
    "{ works(orderBy: [{field: TITLE}, {field: TITLE}]) { nodes { title } } }",
    '{ work(slug: "a\\u0000b") { title } }',
    '{ works(filter: {theme: "' + "x" * 201 + '"}) { totalCount } }',
    "{ directors { nodes { works(first: 500) { totalCount } } } }",
]


@pytest.mark.parametrize("query", FALLBACKS)
async def test_what_is_not_compiled_falls_back(
    compiled: httpx.AsyncClient, resolved: httpx.AsyncClient, query: str
) -> None:
    response = await _same(compiled, resolved, query)
    assert "X-Execution" not in response.headers


@pytest.mark.parametrize("query", ERRORS)
async def test_argument_errors_come_from_the_resolvers(
    compiled: httpx.AsyncClient, resolved: httpx.AsyncClient, query: str
) -> None:
    response = await _same(compiled, resolved, query)
    assert "X-Execution" not in response.headers
    assert response.json()["errors"]


async def test_invalid_variables_fall_back(
    compiled: httpx.AsyncClient, resolved: httpx.AsyncClient
) -> None:
    query = "query($n: Int!) { works(first: $n) { totalCount } }"
    response = await _same(compiled, resolved, query, {"n": "many"})
    assert "X-Execution" not in response.headers


# -- statements --------------------------------------------------------------------------------


async def _count(
    client: httpx.AsyncClient,
    statements: StatementCounter,
    query: str,
) -> tuple[int, Any]:
    statements.reset()
    response = await _post(client, query)
    assert response.headers.get("X-Execution") == "compiled", response.text
    body = response.json()
    assert "errors" not in body, body
    return statements.count, body["data"]


W1_SYNTHETIC = '{ work(slug: "work-3-2") { title year directors { name } themes { name } } }'
TWO_ROOTS = (
    "{ works(first: 100) { totalCount nodes { id directors { name } } }"
    " themes { nodes { works(first: 5) { totalCount nodes { title } } } } }"
)


@pytest.mark.parametrize(
    ("query", "roots"),
    [(W1_SYNTHETIC, 1), (W2, 1), (W2_BY_YEAR, 1), (W3, 1), (TWO_ROOTS, 2)],
    ids=["W1", "W2", "W2-year", "W3", "two-roots"],
)
async def test_one_statement_per_root_field_at_any_catalog_size(
    compiled: httpx.AsyncClient,
    session: AsyncSession,
    statements: StatementCounter,
    query: str,
    roots: int,
) -> None:
    first_counts, counts, answers = [], [], []
    for size in (5, 300):
        await wipe(session)
        await build_catalog(session, size)
        first, _ = await _count(compiled, statements, query)  # the full path, at size 5
        first_counts.append(first)
        count, data = await _count(compiled, statements, query)  # web.fast_lane: prepared
        counts.append(count)
        answers.append(data)
    assert first_counts[0] == 1 + roots  # the catalog version, then one per root field
    # Seen before: one statement per root field, the first one reading the version too.
    assert counts == [roots, roots], statements.statements
    if query != W1_SYNTHETIC:
        assert answers[0] != answers[1]  # the two catalogs really differ


async def test_w3_pages_per_parent(
    compiled: httpx.AsyncClient,
    resolved: httpx.AsyncClient,
    session: AsyncSession,
    statements: StatementCounter,
) -> None:
    await wipe(session)
    await build_catalog(session, 120)
    count, data = await _count(compiled, statements, W3)
    directors = data["directors"]["nodes"]
    assert len(directors) == 100
    assert max(len(d["works"]["nodes"]) for d in directors) == 10
    assert count == 2
    await _same(compiled, resolved, W3)


CREDIT_PAGES = """query Pages($order: [WorkOrder!], $after: String) {
  directors(first: 100) { nodes { name
    works(role: DIRECTOR, first: 3, orderBy: $order, after: $after) {
      pageInfo { hasNextPage hasPreviousPage endCursor }
      edges { cursor node { __typename id title year
        themes { slug name } directors { name } alternativeTitles } } } } }
  writers: people(filter: {role: WRITER}, first: 5) { nodes {
    works(role: WRITER, first: 2) { nodes { title year } } } }
}"""


@pytest.mark.parametrize(
    "order",
    [None, [{"field": "TITLE", "direction": "DESC"}], [{"field": "YEAR", "direction": "DESC"}]],
    ids=["default", "title-desc", "year-desc"],
)
async def test_pages_read_from_credits_answer_as_the_resolvers(
    compiled: httpx.AsyncClient,
    resolved: httpx.AsyncClient,
    session: AsyncSession,
    order: list[dict[str, str]] | None,
) -> None:
    """Pages a person's credits carry (migration 0011) in every order, with cursors, unknown
    years and lists that hang from the work's id: the resolvers' answer, byte for byte."""
    await wipe(session)
    await build_catalog(session, 120)
    variables: dict[str, Any] = {"order": order}
    response = await _same(compiled, resolved, CREDIT_PAGES, variables)
    assert response.headers["X-Execution"] == "compiled"
    directors = response.json()["data"]["directors"]["nodes"]
    pages = [d["works"] for d in directors]
    assert any(p["pageInfo"]["hasNextPage"] for p in pages)
    years = [e["node"]["year"] for p in pages for e in p["edges"]]
    assert any(y is not None for y in years)
    if order is not None and order[0]["field"] == "TITLE":  # unknown years sort last
        assert None in years
    after = next(p for p in pages if p["pageInfo"]["hasNextPage"])["pageInfo"]["endCursor"]
    # a cursor below another page is not compiled (gql.compiled.plan): the resolvers answer
    await _same(compiled, resolved, CREDIT_PAGES, {**variables, "after": after})


# -- the plan and the SQL, without a database ---------------------------------------------------


def _plan(query: str, variables: dict[str, Any] | None = None) -> Plan | None:
    from graphql import parse

    return plan_operation(
        schema._schema, parse(query), None, variables, default_page_size=20, max_page_size=100
    )


def test_the_plan_keeps_response_keys_in_selection_order() -> None:
    plan = _plan('{ b: work(slug: "x") { year a: title ...F } } fragment F on Work { slug }')
    assert plan is not None
    (key, root), *_ = plan.roots
    assert key == "b" and isinstance(root, RootObject)
    assert [k for k, _ in root.node.fields] == ["year", "a", "slug"]


def test_defaults_and_variables_are_applied() -> None:
    plan = _plan("query($n: Int = 7) { works(first: $n) { totalCount } people { totalCount } }")
    assert plan is not None
    works, people = (root for _, root in plan.roots)
    assert isinstance(works, Connection) and works.first == 7
    assert isinstance(people, Connection) and people.first == 20


@pytest.mark.parametrize("query", FALLBACKS + ERRORS)
def test_the_planner_declines(query: str) -> None:
    assert _plan(query) is None


def _w3_sql(dialect: Any) -> str:
    """W3's compiled statement as the dialect's SQL text."""
    plan = _plan(W3)
    assert plan is not None
    (_, root), *_ = plan.roots
    assert isinstance(root, Connection)
    statement = Compiler(dialect.name).root_connection(root)
    assert statement is not None
    return str(statement.compile(dialect=dialect))


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "pg"])
def test_nested_lists_are_correlated_subqueries_with_a_per_parent_limit(dialect: Any) -> None:
    sql = _w3_sql(dialect)
    # the directors page, each director's page of works, and the credits that page reads
    # (db.queries.credit_ordering: the first 10 of the person's index entries, not all)
    assert sql.count("LIMIT") == 3
    assert "ORDER BY credits_1.work_year_unknown ASC, credits_1.work_year ASC, " in sql
    aggregate = "json_agg" if dialect.name == "postgresql" else "json_group_array"
    assert sql.count(f"{aggregate}(") == 3  # directors, their works, each work's themes


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "pg"])
def test_a_directors_page_of_works_is_read_from_their_credits_alone(dialect: Any) -> None:
    """W3 shows only what a credit carries of its work (migration 0011: title, the year's
    copies, on PostgreSQL ``theme_ids``), so each director's page is their next 10 credits'
    index entries and no work is fetched. SQLite reads a work's themes from work_themes'
    covering index (its JSON functions measured no faster), PostgreSQL from the copied
    array, joining only ``themes``."""
    sql = _w3_sql(dialect)
    assert "FROM works" not in sql
    assert "credits_1.work_title AS title" in sql
    if dialect.name == "postgresql":
        assert "work_themes" not in sql
        assert "credits_1.work_theme_ids AS theme_ids" in sql
        assert "jsonb_array_elements(anon_3.theme_ids)" in sql
    else:
        assert "theme_ids" not in sql
        assert "work_themes_1.work_id = anon_3.id" in sql


def test_a_page_reading_more_than_the_credits_carry_fetches_the_works() -> None:
    plan = _plan(W3.replace("title year", "title slug year"))
    assert plan is not None
    (_, root), *_ = plan.roots
    assert isinstance(root, Connection)
    statement = Compiler("postgresql").root_connection(root)
    assert statement is not None
    sql = str(statement.compile(dialect=postgresql.dialect()))
    assert "FROM works AS works_1" in sql
    assert "jsonb_array_elements(works_1.theme_ids)" in sql
