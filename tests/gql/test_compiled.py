"""The compiled read path (gql/compiled): the benchmark workloads answer from one SQL
statement per root field, whatever the catalog's size, with the resolvers' exact answer;
what the compiler does not cover falls back to the resolvers."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from graphql import parse
from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models as m
from db.enums import CreditRole
from db.search import KeyShape
from db.text import search_key
from gql.compiled import statement, statement_source
from gql.compiled.driver import driver_statement
from gql.compiled.plan import Connection, Plan, RootNodes, RootObject, plan_operation
from gql.compiled.sql import Compiler
from gql.compiled.written import written
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
W9 = """query W9($slug: String!, $after: String!) { person(slug: $slug) { name
  works(first: 20, after: $after) { nodes { slug title year themes { name } } } } }"""
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
    '{ work(slug: "sea-of-blood") { similar(first: 2) { facets { kinds { count } } } } }',
    '{ works(first: 2, after: "x") { nodes { title } } }',
    '{ works(last: 2, before: "x") { nodes { title } } }',
    '{ node(id: "V29yazoxMjM0NTY3ODkwMTI=") { id } }',  # Work:123456789012: INVALID_ID
    '{ workByExternalId(system: IMDB, value: "nm0000001") { title } }',  # a name's shape
    "{ __schema { queryType { name } } }",
]
ERRORS = [
    "{ works { facets { themes(first: 101) { count } } } }",
    "{ works { facets { themes(first: -1) { count } } } }",
    "{ works(first: 2, last: 2) { nodes { title } } }",
    "{ works(last: 101) { nodes { title } } }",
    "{ works(first: 101) { nodes { title } } }",
    "{ works(first: -1) { nodes { title } } }",
    "{ works(orderBy: [{field: TITLE}, {field: TITLE}]) { nodes { title } } }",
    '{ work(slug: "a\\u0000b") { title } }',
    '{ works(filter: {theme: "' + "x" * 201 + '"}) { totalCount } }',
    "{ directors { nodes { works(first: 500) { totalCount } } } }",
    '{ search(query: "sea", first: 101) { __typename } }',
    '{ searchHits(query: "sea", first: -1) { score } }',
    '{ search(query: "a\\u0000b") { __typename } }',
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


# -- the detail pages, node lookups, backward pages (issue #23) ------------------------------------

SOURCE = "key title url"
WORK_DETAIL = f"""query Detail($slug: String!) {{ work(slug: $slug) {{
  id slug title originalTitle kind year synopsis version alternativeTitles forms audience
  credits {{ __typename role position note qualifier episodes {{ first last }}
    person {{ id slug name }} work {{ slug }} sources {{ {SOURCE} }} }}
  sources {{ {SOURCE} }}
  externalIds {{ system value url }}
  disputes {{ field stated reported note qualifier source {{ {SOURCE} }}
    reportedPeople {{ slug name }} }}
  related {{ type work {{ slug title }} sources {{ {SOURCE} }} }}
  parts {{ unit first last title label sources {{ key }}
    events {{ kind date {{ year month day precision text }} until {{ text precision }} place
      qualifier note sources {{ key }} }} }}
  events {{ kind date {{ text precision }} until {{ year text }} place qualifier note
    sources {{ {SOURCE} }} }}
  studios {{ role studio {{ id slug name originalName }} sources {{ key }} }}
  basedOn {{ title originalTitle form note qualifier sources {{ {SOURCE} }} }}
  attributions {{ field sources {{ {SOURCE} }} }}
}} }}"""
PERSON_DETAIL = f"""query Person($slug: String!) {{ person(slug: $slug) {{
  id name version alternativeNames
  credits {{ role position note episodes {{ first last }} work {{ slug year }}
    sources {{ {SOURCE} }} }}
  sources {{ {SOURCE} }} externalIds {{ system value url }}
  reported {{ role work {{ slug }} person {{ slug }} dispute {{ field reported }}
    sources {{ key }} }}
  attributions {{ field sources {{ key }} }}
}} }}"""
LISTS = f"""{{
  works(first: 100) {{ nodes {{ slug credits {{ role person {{ slug }} sources {{ key }} }}
    disputes {{ field reportedPeople {{ slug }} }} related {{ type work {{ slug }} }}
    externalIds {{ url }} sources {{ key }} }} }}
  people(first: 100) {{ nodes {{ slug credits {{ role work {{ slug }} }} externalIds {{ url }}
    sources {{ {SOURCE} }} reported {{ role dispute {{ field }} }} }} }}
  studios(first: 100) {{ totalCount nodes {{ slug name sources {{ key }}
    works(first: 3) {{ totalCount nodes {{ slug }} }} }} }}
}}"""
WORKS = [
    "sea-of-blood",
    "boy-commander",
    "the-country-i-saw",
    "the-flower-girls-youth",
    "a-traffic-controller-on-crossroads",
    "pulgasari",
    "no-such-work",
]
PEOPLE = ["choe-ik-kyu", "pak-hak", "kim-jong-chul", "shin-sang-ok", "no-such-person"]


@pytest.mark.parametrize("slug", WORKS)
async def test_a_works_detail_page_is_compiled(
    compiled: httpx.AsyncClient, resolved: httpx.AsyncClient, slug: str
) -> None:
    response = await _same(compiled, resolved, WORK_DETAIL, {"slug": slug})
    assert response.headers["X-Execution"] == "compiled"
    work = response.json()["data"]["work"]
    if slug == "no-such-work":
        assert work is None
    else:
        assert work["credits"] or work["related"]


async def test_the_detail_pages_read_what_the_catalog_holds(
    compiled: httpx.AsyncClient, resolved: httpx.AsyncClient
) -> None:
    """The seed's values reach the compiled answers: not only empty lists."""
    boy = (await _same(compiled, resolved, WORK_DETAIL, {"slug": "boy-commander"})).json()
    parts = boy["data"]["work"]["parts"]
    assert parts and all(p["label"] for p in parts) and any(p["events"] for p in parts)
    sea = (await _same(compiled, resolved, WORK_DETAIL, {"slug": "sea-of-blood"})).json()
    work = sea["data"]["work"]
    assert work["externalIds"] and work["externalIds"][0]["url"].startswith("https://")
    assert work["disputes"] and work["basedOn"] and work["credits"][0]["person"]["name"]
    youth = await _same(compiled, resolved, WORK_DETAIL, {"slug": "the-flower-girls-youth"})
    assert youth.json()["data"]["work"]["related"][0]["work"]["slug"]


@pytest.mark.parametrize("slug", PEOPLE)
async def test_a_persons_page_is_compiled(
    compiled: httpx.AsyncClient, resolved: httpx.AsyncClient, slug: str
) -> None:
    response = await _same(compiled, resolved, PERSON_DETAIL, {"slug": slug})
    assert response.headers["X-Execution"] == "compiled"


async def test_every_record_s_lists_at_once_are_compiled(
    compiled: httpx.AsyncClient, resolved: httpx.AsyncClient
) -> None:
    response = await _same(compiled, resolved, LISTS)
    assert response.headers["X-Execution"] == "compiled"
    data = response.json()["data"]
    assert any(w["credits"] for w in data["works"]["nodes"])
    assert data["studios"]["totalCount"] > 0


async def test_nodes_are_compiled(compiled: httpx.AsyncClient, resolved: httpx.AsyncClient) -> None:
    ids_query = (
        "{ works(first: 2) { nodes { id } } people(first: 1) { nodes { id } }"
        " themes(first: 1) { nodes { id } } studios(first: 1) { nodes { id } } }"
    )
    data = (await _post(resolved, ids_query)).json()["data"]
    ids = [n["id"] for key in ("works", "people", "themes", "studios") for n in data[key]["nodes"]]
    missing = base64.b64encode(b"Person:2147483647").decode()
    selection = (
        "__typename id ... on Work { title credits { role } } ... on Person { name }"
        " ... on Theme { slug } ... on Studio { name sources { key } }"
    )
    query = f"""query($id: ID!, $ids: [ID!]!) {{ node(id: $id) {{ {selection} }}
      again: node(id: $id) {{ id }} gone: node(id: "{missing}") {{ id }}
      nodes(ids: $ids) {{ {selection} }} none: nodes(ids: []) {{ id }} }}"""
    for global_id in ids:
        variables = {"id": global_id, "ids": [*ids, missing, global_id]}
        response = await _same(compiled, resolved, query, variables)
        assert response.headers["X-Execution"] == "compiled"
        answer = response.json()["data"]
        assert answer["node"]["id"] == global_id and answer["gone"] is None
        assert [n and n["id"] for n in answer["nodes"]] == [*ids, None, global_id]


async def test_lookups_by_external_id_are_compiled(
    compiled: httpx.AsyncClient, resolved: httpx.AsyncClient
) -> None:
    query = (
        "{ works(first: 100) { nodes { slug externalIds { system value } } }"
        " people(first: 100) { nodes { slug externalIds { system value } } } }"
    )
    data = (await _post(resolved, query)).json()["data"]
    looked_up = 0
    for root, key in (("workByExternalId", "works"), ("personByExternalId", "people")):
        for record in data[key]["nodes"]:
            for external in record["externalIds"]:
                lookup = (
                    f'{{ {root}(system: {external["system"]}, value: "{external["value"]}")'
                    " { slug externalIds { url } } }"
                )
                response = await _same(compiled, resolved, lookup)
                assert response.headers["X-Execution"] == "compiled"
                assert response.json()["data"][root]["slug"] == record["slug"]
                looked_up += 1
    assert looked_up >= 2
    nobody = '{ personByExternalId(system: WIKIDATA, value: "Q1") { slug } }'
    response = await _same(compiled, resolved, nobody)
    assert response.headers["X-Execution"] == "compiled"
    assert response.json()["data"]["personByExternalId"] is None


async def test_attributions_of_equal_positions_answer_as_the_resolvers(
    compiled: httpx.AsyncClient, resolved: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Curation cites a source for fields at position 0 (db.curation.common): fields and
    sources of equal positions are ordered by field, then source, on both paths."""
    await wipe(session)
    built = await build_catalog(session, 3)
    await session.execute(
        insert(m.Source),
        [{"id": 7, "key": "seven", "title": "Seven", "url": None}],
    )
    work = built.work_ids[0]
    cited = [("year", 7, 0), ("title", 100_000, 0), ("title", 7, 0), ("kind", 7, 1)]
    cited += [("originalTitle", 100_000, 0), ("synopsis", 100_000, 2), ("synopsis", 7, 0)]
    await session.execute(
        insert(m.WorkFieldSource),
        [{"work_id": work, "field": f, "source_id": s, "position": p} for f, s, p in cited],
    )
    await session.flush()
    query = "{ works(first: 5) { nodes { attributions { field sources { key } } } } }"
    response = await _same(compiled, resolved, query)
    assert response.headers["X-Execution"] == "compiled"
    first = response.json()["data"]["works"]["nodes"]
    fields = [a["field"] for work in first for a in work["attributions"]]
    assert fields[:3] == ["originalTitle", "synopsis", "title"]  # position 0, by field
    titles = next(a for w in first for a in w["attributions"] if a["field"] == "title")
    assert [s["key"] for s in titles["sources"]] == ["seven", "synthetic"]  # by source id


FACETS = """query($filter: WorkFilter, $themes: Int!) {
  works(filter: $filter, first: 2) { totalCount
    a: facets { kinds { kind count } decades { __typename decade count } }
    b: facets { __typename themes(first: $themes) { count theme { slug name } } } }
  person(slug: "choe-ik-kyu") { works(role: DIRECTOR) { facets { kinds { count kind }
    themes { count theme { id } } decades { decade } } } }
  theme(slug: "family") { works { facets { decades { decade count } } } }
}"""


@pytest.mark.parametrize(
    "filter_",
    [None, {"kind": "FILM"}, {"yearFrom": 1970, "yearTo": 1989}, {"themes": ["family", "war"]}],
)
@pytest.mark.parametrize("themes", [0, 3, 100])
async def test_facets_are_compiled(
    compiled: httpx.AsyncClient,
    resolved: httpx.AsyncClient,
    filter_: dict[str, Any] | None,
    themes: int,
) -> None:
    variables = {"filter": filter_, "themes": themes}
    response = await _same(compiled, resolved, FACETS, variables)
    assert response.headers["X-Execution"] == "compiled"
    facets = response.json()["data"]["works"]
    assert len(facets["b"]["themes"]) <= themes
    if filter_ is None:
        assert sum(k["count"] for k in facets["a"]["kinds"]) == facets["totalCount"]


SIMILAR = """query($slug: String!, $after: String) { work(slug: $slug) {
  similar(first: 2, after: $after) { totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { slug title directors { slug } } } } } }"""


@pytest.mark.parametrize("slug", WORKS)
async def test_similar_works_are_compiled_page_by_page(
    compiled: httpx.AsyncClient, resolved: httpx.AsyncClient, slug: str
) -> None:
    after: str | None = None
    pages = 0
    while True:
        response = await _same(compiled, resolved, SIMILAR, {"slug": slug, "after": after})
        assert response.headers["X-Execution"] == "compiled"
        work = response.json()["data"]["work"]
        pages += 1
        if work is None or not work["similar"]["pageInfo"]["hasNextPage"]:
            break
        after = work["similar"]["pageInfo"]["endCursor"]
        assert pages < 20
    if slug == "sea-of-blood":
        assert pages > 1  # it shares themes with several works


BACKWARD = (
    "query($before: String, $last: Int) {{ {root}(last: $last, before: $before) {{"
    " totalCount pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}"
    " edges {{ cursor node {{ id }} }} }} }}"
)


@pytest.mark.parametrize("root", ["works", "people", "directors", "themes", "studios"])
async def test_backward_pages_are_compiled(
    compiled: httpx.AsyncClient, resolved: httpx.AsyncClient, root: str
) -> None:
    """``last``/``before`` from the list's end to its start, each page the resolvers' one."""
    query = BACKWARD.format(root=root)
    before: str | None = None
    pages = 0
    while True:
        response = await _same(compiled, resolved, query, {"before": before, "last": 2})
        assert response.headers["X-Execution"] == "compiled"
        info = response.json()["data"][root]["pageInfo"]
        pages += 1
        assert pages < 50
        assert info["hasNextPage"] == (before is not None)
        if not info["hasPreviousPage"]:
            break
        before = info["startCursor"]
    assert pages >= 1


async def test_pages_between_two_cursors_are_compiled(
    compiled: httpx.AsyncClient, resolved: httpx.AsyncClient
) -> None:
    edges = (await _post(resolved, "{ works(first: 100) { edges { cursor } } }")).json()
    cursors = [e["cursor"] for e in edges["data"]["works"]["edges"]]
    after, before = cursors[1], cursors[-2]
    selection = "pageInfo { hasNextPage hasPreviousPage } nodes { slug }"
    query = f"""query($after: String, $before: String) {{
      f: works(first: 3, after: $after, before: $before) {{ {selection} }}
      l: works(last: 3, after: $after, before: $before) {{ {selection} }}
      b: works(before: $before) {{ {selection} }}
      n: person(slug: "choe-ik-kyu") {{ works(last: 1) {{ {selection} }} }} }}"""
    response = await _same(compiled, resolved, query, {"after": after, "before": before})
    assert response.headers["X-Execution"] == "compiled"
    data = response.json()["data"]
    assert data["f"]["nodes"] != data["l"]["nodes"]


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
DETAIL_SYNTHETIC = (
    '{ work(slug: "work-3-2") { title credits { role person { name } sources { key } }'
    " sources { key } externalIds { url } disputes { field source { key } } related { type } } }"
)
BACKWARD_SYNTHETIC = (
    '{ works(last: 3) { nodes { title credits { role } } } person(slug: "person-3")'
    " { credits { work { title } } } }"
)
# Search with each hit's values (a page of works below a person), a typo (typo candidates,
# on SQLite from the search index's vocabulary: in the same statement) and a search filter.
SEARCH_SYNTHETIC = (
    '{ searchHits(query: "director 00", first: 20) { score matchedText node { __typename'
    " ... on Person { name works(first: 2) { nodes { title } } } ... on Work { title"
    ' directors { name } } } } typo: searchHits(query: "direktor 0001", first: 5) { score'
    ' node { ... on Person { slug } } } works(first: 5, filter: {search: "work 0001"}) { totalCount'
    " nodes { title } } }"
)
TWO_ROOTS = (
    "{ works(first: 100) { totalCount nodes { id directors { name } } }"
    " themes { nodes { works(first: 5) { totalCount nodes { title } } } } }"
)


@pytest.mark.parametrize(
    ("query", "roots"),
    [
        (W1_SYNTHETIC, 1),
        (W2, 1),
        (W2_BY_YEAR, 1),
        (W3, 1),
        (TWO_ROOTS, 2),
        (DETAIL_SYNTHETIC, 1),
        (BACKWARD_SYNTHETIC, 2),
        (SEARCH_SYNTHETIC, 3),
    ],
    ids=["W1", "W2", "W2-year", "W3", "two-roots", "detail", "backward", "search"],
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
    if query not in (W1_SYNTHETIC, DETAIL_SYNTHETIC):  # one work, the same in both
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


async def test_search_answers_as_the_resolvers_on_a_larger_catalog(
    compiled: httpx.AsyncClient, resolved: httpx.AsyncClient, session: AsyncSession
) -> None:
    """More matches than a page (each kind's rows cut at ``first`` before they are merged)
    and typo candidates: the resolvers' hits, scores and names, byte for byte."""
    await wipe(session)
    await build_catalog(session, 120)
    response = await _same(compiled, resolved, SEARCH_SYNTHETIC)
    assert response.headers["X-Execution"] == "compiled"
    data = response.json()["data"]
    assert [h["score"] for h in data["searchHits"]] == [0.9] * 20  # 100 names start so
    assert data["typo"] and all(h["score"] < 0.5 for h in data["typo"])  # similar only
    assert data["works"]["totalCount"] > 2  # similar titles too (a typo of "work 0001")


async def test_search_with_a_list_of_the_statements_own_values_is_compiled_the_first_time(
    compiled: httpx.AsyncClient, resolved: httpx.AsyncClient, session: AsyncSession
) -> None:
    """A found theme's works filtered by kind: a list of enums, the statement's own value
    beside the search key's. On PostgreSQL the key's values are written into the statement
    (``gql.compiled.written``), which takes strings and integers only: the first request
    (the full path, before the fast lane) refused the list and answered an internal error
    (the differential test found it)."""
    await wipe(session)
    await build_catalog(session, 30)
    query = (
        '{ searchHits(query: "theme", first: 5) { node { ... on Theme { name'
        " works(kind: FILM, first: 2) { totalCount nodes { title } } } } } }"
    )
    for _ in range(2):  # the full path, then the fast lane
        response = await _same(compiled, resolved, query)
        assert response.headers["X-Execution"] == "compiled"
    hits = response.json()["data"]["searchHits"]
    assert hits and any(h["node"] and h["node"]["works"]["totalCount"] for h in hits)


# The orders a person's pages are read in: the default, and each field descending.
EVERY_WORK_ORDER = pytest.mark.parametrize(
    "order",
    [None, [{"field": "TITLE", "direction": "DESC"}], [{"field": "YEAR", "direction": "DESC"}]],
    ids=["default", "title-desc", "year-desc"],
)
CREDIT_PAGES = """query Pages($order: [WorkOrder!], $after: String) {
  directors(first: 100) { nodes { name
    works(role: DIRECTOR, first: 3, orderBy: $order, after: $after) {
      pageInfo { hasNextPage hasPreviousPage endCursor }
      edges { cursor node { __typename id title year
        themes { slug name } directors { name } alternativeTitles } } } } }
  writers: people(filter: {role: WRITER}, first: 5) { nodes {
    works(role: WRITER, first: 2) { nodes { title year } } } }
}"""


@EVERY_WORK_ORDER
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
    # a cursor below another page: on both databases (gql.compiled.plan.sqlite_can_parse)
    response = await _same(compiled, resolved, CREDIT_PAGES, {**variables, "after": after})
    assert response.headers["X-Execution"] == "compiled"


PERSON_PAGES = """query Pages($order: [WorkOrder!], $after: String) {
  person(slug: "person-40") { works(first: 4, orderBy: $order, after: $after) {
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { slug title year themes { name } } } } } }"""


@EVERY_WORK_ORDER
async def test_pages_of_a_persons_works_in_any_role_answer_as_the_resolvers(
    compiled: httpx.AsyncClient,
    resolved: httpx.AsyncClient,
    session: AsyncSession,
    order: list[dict[str, str]] | None,
) -> None:
    """W9's pages (a person's works whatever their roles, read from the credits' index of
    migration 0020, a group per work): a work the person is credited on in two roles comes
    once, each page as the resolvers', byte for byte, and the walk shows every work once."""
    await wipe(session)
    built = await build_catalog(session, 40)  # person-40: WRITER on directors 0-9's works
    writer = built.director_ids[-1] + 1
    written = built.work_ids[:55]  # directors 0-9 direct 1, 2, ..., 10 works
    # also DIRECTOR of every third work written (two credits there) and ACTOR in all 11 of
    # director 10's works (one credit)
    extra = [(w, CreditRole.DIRECTOR) for w in written[::3]]
    extra += [(w, CreditRole.ACTOR) for w in built.work_ids[55:66]]
    await session.execute(
        insert(m.Credit),
        [{"work_id": w, "person_id": writer, "role": r, "position": 2} for w, r in extra],
    )
    after, slugs = None, []
    while True:
        variables = {"order": order, "after": after}
        response = await _same(compiled, resolved, PERSON_PAGES, variables)
        assert response.headers["X-Execution"] == "compiled"
        works = response.json()["data"]["person"]["works"]
        slugs += [e["node"]["slug"] for e in works["edges"]]
        if not works["pageInfo"]["hasNextPage"]:
            break
        assert len(works["edges"]) == 4
        after = works["pageInfo"]["endCursor"]
    assert len(slugs) == len(set(slugs)) == 66


# -- the plan and the SQL, without a database ---------------------------------------------------


def _plan(
    query: str, variables: dict[str, Any] | None = None, *, sqlite: bool = False
) -> Plan | None:
    return plan_operation(
        schema._schema,
        parse(query),
        None,
        variables,
        default_page_size=20,
        max_page_size=100,
        sqlite=sqlite,
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


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "pg"])
def test_a_page_of_a_persons_works_in_any_role_reads_a_page_of_credits(dialect: Any) -> None:
    """W9 (a person's works whatever their roles, page 3): the works on the page are the
    person's next credits in the works' order (migration 0020's index), one group per work,
    limited to the page; then only those works are fetched, not all of the person's."""
    from db import queries as dbq
    from gql.cursors import encode_cursor

    after = encode_cursor(
        "person.works", dbq.work_ordering(dbq.FILMOGRAPHY_ORDER), (0, 1970, "x", 5)
    )
    plan = _plan(W9, {"slug": "x", "after": after})
    assert plan is not None
    (_, root), *_ = plan.roots
    assert isinstance(root, RootObject)
    statement = Compiler(dialect.name).root_object(root.lookup)
    assert statement is not None
    sql = " ".join(str(statement.compile(dialect=dialect)).split())
    keys = (
        "credits_1.work_year_unknown, credits_1.work_year, credits_1.work_title_key, "
        "credits_1.work_id"
    )
    assert f"GROUP BY {keys} ORDER BY credits_1.work_year_unknown ASC" in sql
    links = sql[sql.index("works_1.id IN (") :]
    assert "credits_1.role" not in links.split("LIMIT")[0]
    assert "credits_1.work_id > " in links.split("LIMIT")[0]  # the cursor, on the credits
    assert sql.count("LIMIT") == 3  # the person, the page, the page's credits


def _lookup_sql(query: str, dialect: Any) -> str:
    """The compiled statement of ``query``'s first root field, a lookup, as SQL text."""
    plan = _plan(query)
    assert plan is not None
    (_, root), *_ = plan.roots
    compiler = Compiler(dialect.name)
    if isinstance(root, RootObject):
        statement = compiler.root_object(root.lookup)
    else:
        assert isinstance(root, RootNodes)
        statement = compiler.root_nodes(root.lookup)
    assert statement is not None
    return " ".join(str(statement.compile(dialect=dialect)).split())


LOOKED_UP_THEMES = [
    W1,
    '{ nodes(ids: ["V29yazox", "V29yazoy"]) { ... on Work { themes { slug name } } } }',
]


@pytest.mark.parametrize("query", LOOKED_UP_THEMES, ids=["work", "nodes"])
def test_a_looked_up_works_themes_are_read_by_primary_key_on_postgresql(query: str) -> None:
    """One work's few tags: each theme by its primary key (a lateral subquery that LIMIT
    keeps PostgreSQL from flattening into a hash join over all of ``themes``, which it
    chooses for any jsonb_array_elements). A page's works keep the join: its hash is built
    once and probed by every work of the page (W2, W3)."""
    sql = _lookup_sql(query, postgresql.dialect())
    assert sql.count("JOIN LATERAL (SELECT themes_") == sql.count("jsonb_array_elements(") > 0
    assert re.search(r"LIMIT %\(param_\d+\)s::INTEGER\) AS anon_\d+ ON true", sql)
    assert "JOIN themes AS" not in sql
    assert "JOIN LATERAL" not in _w3_sql(postgresql.dialect())
    assert "JOIN themes AS themes_1 ON themes_1.id = CAST(" in _w3_sql(postgresql.dialect())
    # SQLite already probes themes by primary key from work_themes' covering index
    assert "LATERAL" not in _lookup_sql(query, sqlite.dialect())


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


# -- SQLite's parser: what the planner lets through parses -------------------------------------

WIDE_FILTER = (
    '{kinds: [FILM, SERIES], yearFrom: 1960, yearTo: 1990, directors: ["a", "b"],'
    ' themes: ["x", "y"], themesMatch: ALL, hasDisputes: false}'
)
FACET_SELECTION = (
    "facets { kinds { count kind } decades { decade count } themes(first: 3) { count theme {"
    " name slug } } }"
)
PAGE_INFO = "pageInfo { hasPreviousPage hasNextPage startCursor }"


def _deepest() -> list[str]:
    """Operations at SQLite's limits (2 pages on a path, 3 lists in all), with cursors on
    every page, the widest filter, facets and similar works."""
    from db import queries as dbq
    from db.similar import similar_ordering
    from gql.cursors import encode_cursor

    people = encode_cursor("people", dbq.PEOPLE_ORDERING, ("x", 5))
    works = encode_cursor(
        "person.works", dbq.work_ordering(dbq.FILMOGRAPHY_ORDER), (0, 1970, "x", 5)
    )
    similar = encode_cursor("work.similar", similar_ordering(), (3, 5))
    nested = f'filter: {WIDE_FILTER}, after: "{works}", before: "{works}"'
    return [
        f'{{ people(after: "{people}", filter: {{role: WRITER}}) {{ {PAGE_INFO} nodes {{'
        f" works(role: DIRECTOR, last: 2, {nested}) {{ totalCount {PAGE_INFO} {FACET_SELECTION}"
        " edges { cursor node { title themes { name } } } } } } }",
        f'{{ person(slug: "x") {{ works({nested}) {{ {PAGE_INFO} nodes {{ directors {{'
        f" works({nested}) {{ {PAGE_INFO} nodes {{ title }} }} }} }} }} }} }}",
        f"{{ works(first: 2, filter: {WIDE_FILTER}) {{ nodes {{ similar(first: 2,"
        f' after: "{similar}") {{ totalCount {PAGE_INFO} nodes {{ themes {{ name }} directors'
        " { name } credits { role } } } } } }",
        '{ work(slug: "x") { related { work { similar(first: 2) { nodes { title } } } }'
        " credits { person { works(filter: " + WIDE_FILTER + ") { " + FACET_SELECTION + " } } }"
        " parts { events { date { text } sources { key } } } attributions { sources { key } }"
        " disputes { reportedPeople { slug } } } }",
        "{ people(first: 2) { nodes { attributions { field sources { key } } credits { work {"
        " slug } sources { key } } } } }",
    ]


def _sqlite_error(query: str) -> str:
    """What SQLite says to the statements of the operation's SQLite plan, over an empty
    database: "no such table" once the statement has parsed."""
    plan = _plan(query, sqlite=True)
    assert plan is not None, query
    return _sqlite_errors(plan)


def _sqlite_error_unplanned(query: str) -> str:
    """``_sqlite_error`` of the plan PostgreSQL would run."""
    plan = _plan(query)
    assert plan is not None, query
    return _sqlite_errors(plan)


def _sqlite_errors(plan: Plan) -> str:
    import sqlite3

    from gql.compiled import statement, statement_source

    errors = []
    for _, root in plan.roots:
        built, parameters = statement_source(root)  # type: ignore[arg-type]
        compiled_statement = statement("sqlite", built)
        assert compiled_statement is not None
        if parameters:
            compiled_statement = compiled_statement.params(**parameters)
        sql = str(
            compiled_statement.compile(
                dialect=sqlite.dialect(), compile_kwargs={"render_postcompile": True}
            )
        )
        try:
            sqlite3.connect(":memory:").execute(sql, [None] * sql.count("?"))
        except sqlite3.OperationalError as error:
            errors.append(str(error))
    return "; ".join(errors)


@pytest.mark.parametrize("index", range(5))
def test_what_the_planner_lets_through_on_sqlite_parses(index: int) -> None:
    assert _sqlite_error(_deepest()[index]).startswith("no such table")


SEARCH_FILTER = WIDE_FILTER[:-1] + ', search: "sea of blod"}'  # typo candidates: the deepest


def _deepest_searches() -> list[str]:
    """Searches at SQLite's limits: a root search's found records (as deep as a page), lists
    with a search condition (as deep as two pages)."""
    from db import queries as dbq
    from gql.cursors import encode_cursor

    works = encode_cursor(
        "person.works", dbq.work_ordering(dbq.FILMOGRAPHY_ORDER), (0, 1970, "x", 5)
    )
    nested = f'filter: {WIDE_FILTER}, after: "{works}", before: "{works}"'
    return [
        '{ searchHits(query: "sea of blod") { matchedText node { ... on Person {'
        f" works({nested}) {{ totalCount {PAGE_INFO} {FACET_SELECTION} nodes {{ themes {{"
        " name } } } } ... on Work { credits { person { name } } } } } }",
        f"{{ works(first: 2, filter: {SEARCH_FILTER}) {{ totalCount {PAGE_INFO}"
        f" {FACET_SELECTION} nodes {{ directors {{ name }} themes {{ name }} }} }} }}",
        '{ people(filter: {role: WRITER, search: "choe ik gyu"}) { nodes { alternativeNames'
        " credits { role } } } }",
    ]


@pytest.mark.parametrize("index", range(3))
def test_what_the_planner_lets_through_of_search_on_sqlite_parses(index: int) -> None:
    assert _sqlite_error(_deepest_searches()[index]).startswith("no such table")


@pytest.mark.parametrize(
    "query",
    [
        f'{{ person(slug: "x") {{ works(filter: {SEARCH_FILTER}) {{ nodes {{ directors {{'
        f" works(filter: {SEARCH_FILTER}) {{ {PAGE_INFO} nodes {{ title }} }} }} }} }} }} }}",
        f'{{ work(slug: "x") {{ credits {{ person {{ works(filter: {SEARCH_FILTER}) {{'
        f" {FACET_SELECTION} }} }} }} }} }}",
    ],
)
def test_searches_sqlite_cannot_parse_are_declined(query: str) -> None:
    assert _plan(query, sqlite=True) is None
    assert _sqlite_error_unplanned(query) == "parser stack overflow"  # why


TOO_DEEP = (
    "{ works(first: 5) { nodes { directors { works(first: 2, role: DIRECTOR) { nodes {"
    " themes { works(first: 2) { totalCount nodes { title } } } } } } } } }"
)


def test_what_sqlite_cannot_parse_is_declined() -> None:
    assert _plan(TOO_DEEP) is not None  # PostgreSQL takes it
    assert _plan(TOO_DEEP, sqlite=True) is None
    assert _sqlite_error_unplanned(TOO_DEEP) == "parser stack overflow"  # why


FACETED = """{ works(first: 2%s) { totalCount nodes { slug }
  facets { kinds { kind count } decades { decade count } themes(first: 5) { theme { slug } count } }
} }"""


@pytest.mark.parametrize(
    "filter_",
    ["", ", filter: {kind: FILM, yearFrom: 1970, yearTo: 1989}", ', filter: {theme: "revolution"}'],
    ids=["whole-catalog", "kind-and-decades", "one-theme"],
)
async def test_facets_and_totals_of_the_root_list_come_from_the_kept_counts(
    compiled: httpx.AsyncClient,
    resolved: httpx.AsyncClient,
    statements: StatementCounter,
    filter_: str,
) -> None:
    """Where migrations 0016's and 0019's counts can tell them (db.facet_counts), the
    compiled statement sums those as the resolvers do instead of counting the works: only
    the page reads ``works`` and ``work_themes``."""
    statements.reset()
    response = await _same(compiled, resolved, FACETED % filter_)
    assert response.headers["X-Execution"] == "compiled"
    [statement] = [s for s in statements.statements if "work_counts" in s][:1]
    assert statement.count("work_counts") >= 2  # totalCount and the facet lists
    assert statement.count("count(*)") <= 1  # none counts works (a probe at most)
    # one theme's top themes: its row of kept pairs
    assert ("theme_pair_counts" in statement) == ("theme" in filter_)


async def test_facets_under_a_filter_the_kept_counts_do_not_group_by_are_counted_live(
    compiled: httpx.AsyncClient, resolved: httpx.AsyncClient, statements: StatementCounter
) -> None:
    statements.reset()
    query = FACETED % ', filter: {themes: ["revolution", "family"]}'
    response = await _same(compiled, resolved, query)
    assert response.headers["X-Execution"] == "compiled"
    assert not any("work_counts" in s for s in statements.statements)


def test_search_statements_are_kept_per_shape_of_key_not_per_key() -> None:
    """Varied searches share a few statements (their keys bound), so they do not evict each
    other's; on PostgreSQL the driver writes the values into the text it sends
    (``gql.compiled.written``: each key planned for what it matches)."""
    texts = ("novel", "tiger")
    assert len({KeyShape.of(search_key(t)) for t in texts}) == 1
    roots = []
    for text in texts:
        plan = _plan(f'{{ search(query: "{text}") {{ __typename }} }}')
        assert plan is not None
        ((_, root),) = plan.roots
        roots.append(statement_source(root))
    (built, given), (other, other_given) = roots
    assert built == other and given != other_given
    assert statement("postgresql", built) is statement("postgresql", other)
    prepared = driver_statement(postgresql.asyncpg.dialect(), built, False)
    assert prepared is not None and prepared.pieces is not None
    sql, arguments = prepared.run_as([given[name] for name in prepared.names])
    assert arguments == [] and "LIKE '%novel%'" in sql and "$" not in sql
    with pytest.raises(ValueError):
        written(prepared.pieces, ["x'; --"] * len(prepared.names))
    versioned = driver_statement(postgresql.asyncpg.dialect(), built, True)  # an int of its own
    assert versioned is not None
    names = versioned.names
    sql, _ = versioned.run_as([given.get(n, versioned.values.get(n)) for n in names])
    assert "$" not in sql
    on_sqlite = driver_statement(sqlite.pysqlite.dialect(), built, False)
    assert on_sqlite is not None and on_sqlite.pieces is None  # bound: SQLite plans per text
