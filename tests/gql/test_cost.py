"""The cost model (gql/limits.py, SECURITY.md): an operation costs what it will ask for, with
the argument values it runs with — variables as sent, their declared defaults when not sent,
the schema's argument defaults — and search, similar and facets cost the work they do."""

from __future__ import annotations

import json
from typing import Any

import httpx

from gql.limits import (
    FACETS_PRICE,
    NESTED_FACETS_PRICE,
    SEARCH_FILTER_PRICE,
    SEARCH_PRICE,
    SEARCH_TRIGRAM_PRICE,
    SIMILAR_PRICE,
    search_price,
)
from tests.support.documents import OPERATIONS

DIRECTORS_WORKS = """query($n: Int = 20, $m: Int = 10) { directors(first: $n) { nodes {
  works(first: $m) { nodes { title themes { name } } } } } }"""
# 1 connection + n directors, each: 1 connection + m works, each with up to 10 themes
DIRECTORS_WORKS_COST = 1 + 20 + 20 * (1 + 10 + 10 * 10)


async def _cost(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> int:
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    body = (await client.post("/graphql", json=payload)).json()
    assert "errors" not in body, body
    cost = body["extensions"]["cost"]
    assert isinstance(cost, int)
    return cost


async def test_declared_defaults_cost_what_the_same_values_sent_cost(
    client: httpx.AsyncClient,
) -> None:
    """The issue's example: refused at 110,201 when its defaults were ignored."""
    assert await _cost(client, DIRECTORS_WORKS) == DIRECTORS_WORKS_COST
    assert await _cost(client, DIRECTORS_WORKS, {"n": 20, "m": 10}) == DIRECTORS_WORKS_COST
    assert await _cost(client, DIRECTORS_WORKS, {}) == DIRECTORS_WORKS_COST


async def test_variables_sent_override_their_defaults(client: httpx.AsyncClient) -> None:
    assert await _cost(client, DIRECTORS_WORKS, {"n": 2, "m": 3}) == 1 + 2 + 2 * (1 + 3 + 30)


async def test_a_variable_sent_as_null_is_the_default_page_size(
    client: httpx.AsyncClient,
) -> None:
    """``first: null`` pages by the default page size (20), as the resolvers do."""
    assert await _cost(client, DIRECTORS_WORKS, {"n": None, "m": 1}) == 1 + 20 + 20 * (1 + 1 + 10)


async def test_graphiqls_first_tab_costs_its_variables(client: httpx.AsyncClient) -> None:
    """examples/operations/01: ``$first`` defaults to 5 and is not in its variables."""
    [document] = sorted(OPERATIONS.glob("01-*.graphql"))
    query = document.read_text()
    variables = json.loads(document.with_suffix(".json").read_text())
    assert "first" not in variables and "$first: Int = 5" in query
    # person 1; works connection 1 + totalCount 1 + pageInfo 1; 5 works, each up to 10 themes
    expected = 1 + 1 + 1 + 1 + 5 + 5 * 10
    assert await _cost(client, query, variables) == expected
    assert await _cost(client, query, {**variables, "first": 5}) == expected
    assert await _cost(client, query, {**variables, "first": 2}) == 1 + 1 + 1 + 1 + 2 + 2 * 10


async def test_schema_argument_defaults_are_used(client: httpx.AsyncClient) -> None:
    """``search(first:)`` defaults to 10 in the schema; ``facets.themes(first:)`` too."""
    search = '{ search(query: "flower") { __typename } }'
    price = search_price(SEARCH_PRICE, "flower")
    assert await _cost(client, search) == price + 10
    assert await _cost(client, '{ search(query: "flower", first: 3) { __typename } }') == price + 3


async def test_variables_that_do_not_coerce_are_not_refused_for_cost(
    client: httpx.AsyncClient,
) -> None:
    """A wrong variable is reported as such (nothing runs), not as QUERY_TOO_COSTLY."""
    body = (
        await client.post("/graphql", json={"query": DIRECTORS_WORKS, "variables": {"n": "many"}})
    ).json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body


async def test_page_sizes_over_the_maximum_are_refused_for_what_they_are(
    client: httpx.AsyncClient,
) -> None:
    body = (
        await client.post("/graphql", json={"query": DIRECTORS_WORKS, "variables": {"n": 1000}})
    ).json()
    codes = {e["extensions"]["code"] for e in body["errors"]}
    assert codes <= {"PAGE_SIZE_EXCEEDED", "QUERY_TOO_COSTLY"}, body


def test_a_search_is_priced_by_the_trigrams_it_reads() -> None:
    """Each distinct trigram of the key is a posting list the statement reads."""
    assert search_price(SEARCH_PRICE, "flower") == SEARCH_PRICE + 4 * SEARCH_TRIGRAM_PRICE
    assert search_price(SEARCH_PRICE, "Flower") == search_price(SEARCH_PRICE, "flower")
    # repeating words adds no trigram; the commonest syllables shuffled add many
    assert search_price(SEARCH_PRICE, "kim il sung " * 18) < search_price(SEARCH_PRICE, WORST)
    assert search_price(SEARCH_PRICE, WORST) > 5 * SEARCH_PRICE
    assert search_price(SEARCH_PRICE, None) == SEARCH_PRICE  # not known: execution refuses it


# 200 characters of the syllables the catalog's names are made of: the slowest search measured
WORST = (
    "ik kyu hak sin chol min song hui yong gil nam su ok chun hyang myong jin gwang il mi " * 3
)[:200]


async def test_a_search_costs_its_statements(client: httpx.AsyncClient) -> None:
    """30 aliased 100-hit searches cost 3,000 when only their hits were counted; each now
    costs its three trigram statements, so the 30 are refused before any SQL runs, while one
    of the slowest searches still runs."""
    one = f'{{ search(query: "{"pulgasari " * 20}", first: 100) {{ __typename }} }}'
    assert await _cost(client, one) == search_price(SEARCH_PRICE, "pulgasari " * 20) + 100
    worst = f'{{ searchHits(query: "{WORST}", first: 100) {{ score }} }}'
    assert await _cost(client, worst) == search_price(SEARCH_PRICE, WORST) + 100
    aliases = " ".join(
        f'a{i}: search(query: "{"pulgasari " * 20}", first: 100) {{ __typename }}'
        for i in range(30)
    )
    body = (await client.post("/graphql", json={"query": f"{{ {aliases} }}"})).json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["QUERY_TOO_COSTLY"]
    assert body["extensions"]["cost"] > 25000


async def test_a_search_filter_costs_each_statement_that_applies_it(
    client: httpx.AsyncClient,
) -> None:
    plain = "{ works(first: 5) { totalCount nodes { slug } } }"
    searched = '{ works(first: 5, filter: {search: "flower"}) { totalCount nodes { slug } } }'
    assert await _cost(client, plain) == 1 + 1 + 5
    # the page's statement and the count's both search
    price = search_price(SEARCH_FILTER_PRICE, "flower")
    assert await _cost(client, searched) == 1 + 1 + 5 + 2 * price
    blank = '{ works(first: 5, filter: {search: " "}) { nodes { slug } } }'
    assert await _cost(client, blank) == 1 + 5  # a blank search is no condition
    variable = "query($q: String) { works(first: 5, filter: {search: $q}) { nodes { slug } } }"
    assert await _cost(client, variable, {"q": "flower"}) == 1 + 5 + price
    assert await _cost(client, variable) == 1 + 5


async def test_facets_cost_their_statements(client: httpx.AsyncClient) -> None:
    root = "{ works(first: 1) { facets { kinds { count } decades { count } } } }"
    # connection 1 + facets object 1 + one statement; kinds and decades, 10 each (estimated)
    assert await _cost(client, root) == 1 + 1 + FACETS_PRICE + 10 + 10
    both = "{ works(first: 1) { facets { kinds { count } themes(first: 5) { count } } } }"
    assert await _cost(client, both) == 1 + 1 + 2 * FACETS_PRICE + 10 + 5
    nested = """{ directors(first: 3) { nodes { works(first: 1) {
      facets { decades { count } } } } } }"""
    assert await _cost(client, nested) == 1 + 3 + 3 * (1 + 1 + NESTED_FACETS_PRICE + 10)


async def test_similar_costs_its_ranking_per_work(client: httpx.AsyncClient) -> None:
    query = "{ works(first: 2) { nodes { similar(first: 3) { totalCount nodes { slug } } } } }"
    # per work: the ranking (1 + price), its count (1 + price), 3 works
    assert await _cost(client, query) == 1 + 2 + 2 * (2 * (1 + SIMILAR_PRICE) + 3)
