"""Operation limits (gql/limits.py, SECURITY.md): every over-limit operation is refused with
its own code before any SQL statement runs, and every response reports its cost."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from settings import Settings
from tests.support.client import app_client
from tests.support.graphql import GraphQL
from tests.support.sql import StatementCounter
from web.deadline import closed


async def _refused(
    client: httpx.AsyncClient, statements: StatementCounter, query: str, code: str
) -> dict[str, object]:
    statements.reset()
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == [code], body
    assert statements.count == 0, statements.statements  # refused before any database work
    assert "Traceback" not in response.text
    return dict(body)


def _nested(depth: int) -> str:
    """``similar`` inside ``similar``: two levels per step, each a valid field."""
    inner = "slug"
    for _ in range(depth // 2):
        inner = f"similar(first: 1) {{ nodes {{ {inner} }} }}"
    return f"{{ works(first: 1) {{ nodes {{ {inner} }} }} }}"


async def test_a_depth_20_query_is_refused(
    client: httpx.AsyncClient, statements: StatementCounter
) -> None:
    body = await _refused(client, statements, _nested(20), "QUERY_TOO_DEEP")
    assert body["errors"][0]["extensions"]["limit"] == 15  # type: ignore[index]


async def test_a_query_at_the_depth_limit_runs(gql: GraphQL) -> None:
    await gql(_nested(12))  # 2 + 12 + 1 = 15 levels


async def test_100_aliases_are_refused(
    client: httpx.AsyncClient, statements: StatementCounter
) -> None:
    fields = " ".join(f'a{i}: work(slug: "sea-of-blood") {{ title }}' for i in range(100))
    await _refused(client, statements, f"{{ {fields} }}", "TOO_MANY_ALIASES")


async def test_aliases_hidden_in_fragments_count_once_per_spread(
    client: httpx.AsyncClient, statements: StatementCounter
) -> None:
    """10 aliases in a fragment, spread through another fragment used 4 times: 40."""
    aliases = " ".join(f"t{i}: title" for i in range(10))
    query = (
        f"fragment Titles on Work {{ {aliases} }} "
        'fragment Twice on Query { one: work(slug: "sea-of-blood") { ...Titles } } '
        "query { ...Twice ...Twice ...Twice ...Twice }"
    )
    await _refused(client, statements, query, "TOO_MANY_ALIASES")


async def test_a_1_mb_document_is_refused_without_reading_it_all(
    client: httpx.AsyncClient, statements: StatementCounter
) -> None:
    query = "{ __typename " + "# padding\n" * 100_000 + "}"
    assert len(query) > 1_000_000
    statements.reset()
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"
    assert statements.count == 0


async def test_a_document_over_the_document_limit_is_refused(
    client: httpx.AsyncClient, statements: StatementCounter
) -> None:
    query = "{ __typename " + "#" * 70_000 + "\n}"  # under the body limit, over the document's
    await _refused(client, statements, query, "DOCUMENT_TOO_LARGE")


async def test_a_document_over_the_document_limit_is_refused_over_get(
    catalog_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    settings = Settings(database_url=catalog_url, max_document_bytes=1000)
    async with app_client(settings, sessions=sessions) as client:
        query = "{ __typename " + "#" * 2000 + "\n}"
        response = await client.get("/graphql", params={"query": query})
    assert response.json()["errors"][0]["extensions"]["code"] == "DOCUMENT_TOO_LARGE"


async def test_too_many_tokens_are_refused_while_parsing(
    client: httpx.AsyncClient, statements: StatementCounter
) -> None:
    query = "{ " + "a " * 6000 + "}"  # 12 kB: under the size limits, over the token limit
    await _refused(client, statements, query, "TOO_MANY_TOKENS")


COST_BOMB = """{
  directors(first: 100) { nodes {
    works(first: 100) { nodes {
      similar(first: 100) { nodes {
        similar(first: 100) { nodes { title } } } } } } } }
}"""


async def test_a_cost_bomb_is_refused(
    client: httpx.AsyncClient, statements: StatementCounter
) -> None:
    body = await _refused(client, statements, COST_BOMB, "QUERY_TOO_COSTLY")
    assert body["errors"][0]["extensions"]["limit"] == 25000  # type: ignore[index]


async def test_page_sizes_given_as_variables_are_costed(
    client: httpx.AsyncClient, statements: StatementCounter
) -> None:
    query = """query Q($n: Int!) { directors(first: $n) { nodes {
      works(first: $n) { nodes { similar(first: $n) { nodes { title } } } } } } }"""
    statements.reset()
    response = await client.post("/graphql", json={"query": query, "variables": {"n": 100}})
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert statements.count == 0
    small = await client.post("/graphql", json={"query": query, "variables": {"n": 2}})
    assert "errors" not in small.json()


@pytest.mark.parametrize(
    ("query", "cost"),
    [
        ("{ __typename }", 0),
        ('{ work(slug: "sea-of-blood") { title } }', 1),
        # 1 connection + 3 works, each with up to 10 themes (an estimate: not paged)
        ("{ works(first: 3) { nodes { title themes { name } } } }", 1 + 3 + 30),
        # totalCount is one more statement; pageInfo one object
        ("{ works(first: 3) { totalCount pageInfo { hasNextPage } nodes { slug } } }", 6),
        # no page size given: the default page size (20)
        ("{ themes { nodes { slug } } }", 21),
        # edges count as the page; an edge's node is counted with it
        ("{ works(first: 4) { edges { cursor node { slug } } } }", 5),
    ],
)
async def test_every_response_reports_its_cost(
    client: httpx.AsyncClient, query: str, cost: int
) -> None:
    response = await client.post("/graphql", json={"query": query})
    body = response.json()
    assert "errors" not in body, body
    assert body["extensions"]["cost"] == cost


async def test_errors_report_a_cost_too(client: httpx.AsyncClient) -> None:
    body = (await client.post("/graphql", json={"query": "{ nope }"})).json()
    assert body["extensions"] == {"cost": None}  # not costed: the document is not valid
    body = (await client.post("/graphql", json={"query": COST_BOMB})).json()
    assert body["extensions"]["cost"] > 25000


async def test_limits_come_from_the_settings(
    catalog_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    settings = Settings(database_url=catalog_url, max_depth=3, max_aliases=1, max_cost=5)
    async with app_client(settings, sessions=sessions) as client:

        async def code(query: str) -> str | None:
            body = (await client.post("/graphql", json={"query": query})).json()
            return body["errors"][0]["extensions"]["code"] if "errors" in body else None

        assert await code("{ works(first: 1) { nodes { slug } } }") is None  # depth 3, cost 2
        assert await code("{ works(first: 1) { nodes { themes { slug } } } }") == ("QUERY_TOO_DEEP")
        assert await code("{ a: __typename b: __typename }") == "TOO_MANY_ALIASES"
        assert await code("{ works(first: 5) { nodes { slug } } }") == "QUERY_TOO_COSTLY"


async def test_production_turns_off_introspection_and_suggestions(
    catalog_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    settings = Settings(database_url=catalog_url, introspection=False, suggestions=False)
    async with app_client(settings, sessions=sessions) as client:
        body = await client.post("/graphql", json={"query": "{ __schema { types { name } } }"})
        assert body.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert "introspection" in body.json()["errors"][0]["message"]
        typo = await client.post("/graphql", json={"query": '{ work(slug: "x") { titel } }'})
        message = typo.json()["errors"][0]["message"]
        assert "Did you mean" not in message and "title" not in message.replace("titel", "")
        assert (await client.post("/graphql", json={"query": "{ __typename }"})).json()["data"] == {
            "__typename": "Query"
        }


async def test_suggestions_are_on_by_default(client: httpx.AsyncClient) -> None:
    typo = await client.post("/graphql", json={"query": '{ work(slug: "x") { titel } }'})
    assert "Did you mean 'title'" in typo.json()["errors"][0]["message"]


async def test_a_request_over_its_deadline_is_stopped(
    catalog_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    settings = Settings(database_url=catalog_url, request_timeout=1e-6)
    async with app_client(settings, sessions=sessions) as client:
        response = await client.post(
            "/graphql", json={"query": "{ works(first: 50) { nodes { title themes { name } } } }"}
        )
        await closed()  # its statement, stopped at the deadline, finishes on the test's connection
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "TIMEOUT"
    assert response.json()["data"] is None


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", json.dumps({"query": "{ __typename }"})),
        ("application/x-www-form-urlencoded", "query=%7B__typename%7D"),
        ("multipart/form-data; boundary=x", "--x\r\n\r\n{}\r\n--x--"),
        ("application/graphql", "{ __typename }"),
    ],
)
async def test_posts_that_are_not_json_are_refused(
    client: httpx.AsyncClient, statements: StatementCounter, content_type: str, body: str
) -> None:
    statements.reset()
    response = await client.post(
        "/graphql", content=body.encode(), headers={"Content-Type": content_type}
    )
    assert response.status_code == 415
    assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert statements.count == 0
