"""Bad input gets a clear error with a stable code: never a 500, a stack trace or SQL."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from settings import Settings
from tests.support.client import app_client
from tests.support.graphql import GraphQL


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("query($s: String!) { work(slug: $s) { id } }", {"s": "sea-of-blood\u0000"}),
        ("query($s: String!) { person(slug: $s) { id } }", {"s": "\u0000"}),
        ("query($s: String!) { theme(slug: $s) { id } }", {"s": "a\u0000b"}),
        ("query($s: String!) { works(filter: {search: $s}) { totalCount } }", {"s": "\u0000"}),
        ("query($s: String!) { works(filter: {director: $s}) { totalCount } }", {"s": "x\u0000"}),
        ("query($s: String!) { works(filter: {theme: $s}) { totalCount } }", {"s": "x\u0000"}),
        ("query($s: String!) { people(filter: {search: $s}) { totalCount } }", {"s": "\u0000"}),
        ("query($s: String!) { search(query: $s) { __typename } }", {"s": "flower\u0000"}),
        ('{ work(slug: "x\\u0000y") { id } }', None),
    ],
)
async def test_nul_characters_are_rejected_before_the_database(
    gql: GraphQL, query: str, variables: dict[str, str] | None
) -> None:
    assert await gql.error_codes(query, variables) == ["BAD_USER_INPUT"]


async def test_huge_strings_are_rejected(gql: GraphQL) -> None:
    for query in (
        "query($s: String!) { search(query: $s) { __typename } }",
        "query($s: String!) { works(filter: {search: $s}) { totalCount } }",
        "query($s: String!) { work(slug: $s) { id } }",
    ):
        assert await gql.error_codes(query, {"s": "a" * 100_000}) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    "node_id",
    [
        "garbage",
        "",
        base64.b64encode(b"Work:abc").decode(),
        base64.b64encode(b"Nope:1").decode(),
        base64.b64encode(b"Work:-1").decode(),
        base64.b64encode(b"Work:99999999999999999999999").decode(),
        base64.b64encode("Work:\u0000".encode()).decode(),
        base64.b64encode(b"\xff\xfe").decode(),
        "x" * 10_000,
    ],
)
async def test_invalid_ids_are_invalid_id_errors(gql: GraphQL, node_id: str) -> None:
    assert await gql.error_codes("query($id: ID!) { node(id: $id) { id } }", {"id": node_id}) == [
        "INVALID_ID"
    ]
    assert await gql.error_codes(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [node_id]}
    ) == ["INVALID_ID"]


async def test_too_many_ids(gql: GraphQL) -> None:
    ids = [base64.b64encode(f"Work:{i}".encode()).decode() for i in range(1, 102)]
    codes = await gql.error_codes("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})
    assert codes == ["PAGE_SIZE_EXCEEDED"]


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ works(first: 99999999999) { totalCount } }", None, "GRAPHQL_VALIDATION_FAILED"),
        ("query($n: Int) { works(first: $n) { totalCount } }", {"n": 2**40}, "BAD_USER_INPUT"),
        (
            "query($y: Int) { works(filter: {yearFrom: $y}) { totalCount } }",
            {"y": 2**53},
            "BAD_USER_INPUT",
        ),
        ("{ works(filter: {kind: MOVIE}) { totalCount } }", None, "GRAPHQL_VALIDATION_FAILED"),
        (
            "query($k: WorkKind) { works(filter: {kind: $k}) { totalCount } }",
            {"k": "MOVIE"},
            "BAD_USER_INPUT",
        ),
        ("{ works { nope } }", None, "GRAPHQL_VALIDATION_FAILED"),
        ("{ works(first: 1 { totalCount } }", None, "GRAPHQL_PARSE_FAILED"),
        ("query($s: String!) { work(slug: $s) { id } }", {}, "BAD_USER_INPUT"),
        ('{ search(query: "x", first: -1) { __typename } }', None, "BAD_USER_INPUT"),
        ('{ search(query: "x", first: 1000) { __typename } }', None, "PAGE_SIZE_EXCEEDED"),
    ],
)
async def test_invalid_values_get_their_code(
    gql: GraphQL, query: str, variables: dict[str, object] | None, code: str
) -> None:
    assert await gql.error_codes(query, variables) == [code]


async def test_extreme_but_valid_values_are_answered(gql: GraphQL) -> None:
    data = await gql(
        "{ works(filter: {yearFrom: -2147483648, yearTo: 2147483647}) { totalCount }"
        ' a: works(filter: {search: "ŏŭ\'-- ;DROP TABLE works"}) { totalCount } }'
    )
    assert data["works"]["totalCount"] == 10
    assert data["a"]["totalCount"] == 0


async def test_an_error_in_one_field_keeps_the_others(gql: GraphQL) -> None:
    response = await gql.response(
        '{ work(slug: "pulgasari") { title } person(slug: "x\\u0000") { name } }'
    )
    body = response.json()
    assert body["data"] == {"work": {"title": "Pulgasari"}, "person": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


async def test_a_failed_non_null_root_field_ends_the_request_cleanly(gql: GraphQL) -> None:
    """`works` is non-null: its error nulls `data` while sibling fields may still be querying;
    the request's session must wait for them, not fail the response."""
    for _ in range(5):
        response = await gql.response(
            "{ a: works(first: 100) { nodes { directors { name } themes { name } } }"
            ' b: works(first: 999) { totalCount } c: search(query: "the") { __typename } }'
        )
        assert response.status_code == 200
        body = response.json()
        assert body["data"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["PAGE_SIZE_EXCEEDED"]
    assert (await gql('{ work(slug: "pulgasari") { title } }'))["work"]["title"] == "Pulgasari"


async def test_unexpected_failures_are_masked_with_a_request_id(tmp_path: Path) -> None:
    """A database without the catalog's tables: the real failure must not leak SQL or paths."""
    database = tmp_path / "empty.db"
    async with app_client(Settings(database_url=f"sqlite:///{database}")) as client:
        response = await client.post("/graphql", json={"query": '{ work(slug: "x") { title } }'})
    assert response.status_code == 200
    (error,) = response.json()["errors"]
    assert error["message"] == "Unexpected error."
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    text = json.dumps(response.json())
    for leak in ("SELECT", "works", "sqlite", str(tmp_path), "Traceback"):
        assert leak not in text


async def test_a_failed_field_leaves_its_siblings_answers_intact(gql: GraphQL) -> None:
    """``a`` fails (a page too large) and is cancelled with its sibling fields; ``b`` waits
    for the same DataLoader keys (the same work's credits) and must still get them. Before
    ``gql.loaders.Loader``, the cancelled resolver cancelled the shared future and the whole
    request raised ``CancelledError`` (no response at all)."""
    query = """{
      a: work(slug: "sea-of-blood") {
        directors { name } themes { name } similar(first: 1000) { totalCount }
      }
      b: work(slug: "sea-of-blood") { directors { name } themes { name } }
    }"""
    response = await gql.response(query)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["PAGE_SIZE_EXCEEDED"]
    assert body["data"]["a"] is None
    assert body["data"]["b"]["directors"] == [{"name": "Kim Ki-nam"}]
    assert body["data"]["b"]["themes"]
