"""Numbers too large for the database, carried where GraphQL's 32-bit Int cannot bound them:
in cursors (base64 JSON) and global IDs. Each is a coded error (INVALID_CURSOR, INVALID_ID)
on every list, on the resolvers, the compiled path and the fast lane: never an uncoded
driver message ("Python int too large to convert to SQLite INTEGER") or a fault.
Integer arguments (`version`, `position`, `year`, `first`) are 32-bit GraphQL Ints: a larger
literal or variable is refused before anything runs."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from db.tokens import create_token
from tests.support.graphql import GraphQL

# Past PostgreSQL's INTEGER, past SQLite's 64-bit INTEGER, past anything, and negative.
HUGE = [2**31, 2**63, 2**64 + 1, 10**40, -(2**63) - 1]

# A query reading one cursor of each list that has them, and the same query paging after a
# given cursor (the list's `after` argument).
LISTS: dict[str, tuple[str, str]] = {
    "works": (
        "{ works(first: 1) { edges { cursor } } }",
        "query($c: String) { works(first: 1, after: $c) { nodes { slug } } }",
    ),
    "works by year": (
        "{ works(first: 1, orderBy: [{field: YEAR, direction: DESC}]) { edges { cursor } } }",
        "query($c: String) { works(first: 1, after: $c, "
        "orderBy: [{field: YEAR, direction: DESC}]) { nodes { slug } } }",
    ),
    "works backward": (
        "{ works(last: 1) { edges { cursor } } }",
        "query($c: String) { works(last: 1, before: $c) { nodes { slug } } }",
    ),
    "people": (
        "{ people(first: 1) { edges { cursor } } }",
        "query($c: String) { people(first: 1, after: $c) { nodes { slug } } }",
    ),
    "directors": (
        "{ directors(first: 1) { edges { cursor } } }",
        "query($c: String) { directors(first: 1, after: $c) { nodes { slug } } }",
    ),
    "themes": (
        "{ themes(first: 1) { edges { cursor } } }",
        "query($c: String) { themes(first: 1, after: $c) { nodes { slug } } }",
    ),
    "person.works": (
        '{ person(slug: "choe-ik-kyu") { works(first: 1) { edges { cursor } } } }',
        'query($c: String) { person(slug: "choe-ik-kyu") '
        "{ works(first: 1, after: $c) { nodes { slug } } } }",
    ),
    "theme.works": (
        "{ themes(first: 1) { nodes { works(first: 1) { edges { cursor } } } } }",
        "query($c: String) { themes(first: 1) { nodes "
        "{ works(first: 1, after: $c) { nodes { slug } } } } }",
    ),
    "work.similar": (
        '{ work(slug: "the-flower-girl") { similar(first: 1) { edges { cursor } } } }',
        'query($c: String) { work(slug: "the-flower-girl") '
        "{ similar(first: 1, after: $c) { nodes { slug } } } }",
    ),
}


def _cursors(data: Any) -> list[str]:
    """Every `cursor` in an answer."""
    if isinstance(data, dict):
        found = [v for k, v in data.items() if k == "cursor" and isinstance(v, str)]
        return found + [c for v in data.values() for c in _cursors(v)]
    if isinstance(data, list):
        return [c for item in data for c in _cursors(item)]
    return []


def _with_numbers(cursor: str, number: int) -> list[str]:
    """The cursor with each of its integer values in turn replaced by ``number``."""
    tag, values = json.loads(base64.urlsafe_b64decode(cursor))
    forged = []
    for i, value in enumerate(values):
        if isinstance(value, int) and not isinstance(value, bool):
            changed = [*values[:i], number, *values[i + 1 :]]
            payload = json.dumps([tag, changed], separators=(",", ":")).encode()
            forged.append(base64.urlsafe_b64encode(payload).decode("ascii"))
    assert forged, f"a cursor with no integer to change: {values}"
    return forged


def _assert_coded(response: httpx.Response, code: str) -> None:
    assert response.status_code == 200, response.text
    body = response.json()
    errors = body.get("errors")
    assert errors, body
    assert [e.get("extensions", {}).get("code") for e in errors] == [code], body
    assert response.headers.get("x-request-id"), response.headers
    for error in errors:
        assert "SQLite" not in error["message"] and "too large" not in error["message"], error


@pytest.mark.parametrize("name", list(LISTS))
async def test_cursors_with_out_of_range_numbers_are_invalid_cursors(
    gql: GraphQL, client: httpx.AsyncClient, name: str
) -> None:
    read, page = LISTS[name]
    [cursor, *_] = _cursors(await gql(read))
    assert (await gql(page, {"c": cursor})) is not None  # the real cursor works
    for number in HUGE:
        for forged in _with_numbers(cursor, number):
            # Twice: the second time a repeated POST may take the fast lane.
            for _ in range(2):
                _assert_coded(await gql.response(page, {"c": forged}), "INVALID_CURSOR")
            inline = page.replace("query($c: String) ", "").replace("$c", json.dumps(forged))
            _assert_coded(await gql.response(inline), "INVALID_CURSOR")


async def test_the_audit_trail_refuses_out_of_range_cursors(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await create_token(session, "range-admin", "admin")
    await session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    write = await client.post(
        "/graphql",
        json={"query": 'mutation { createTheme(input: {name: "Range"}) { userErrors { code } } }'},
        headers=headers,
    )
    assert write.json()["data"]["createTheme"]["userErrors"] == [], write.text
    read = await client.post(
        "/graphql", json={"query": "{ changes(first: 1) { edges { cursor } } }"}, headers=headers
    )
    [cursor] = _cursors(read.json()["data"])
    page = "query($c: String) { changes(first: 1, after: $c) { nodes { operation } } }"
    for number in HUGE:
        for forged in _with_numbers(cursor, number):
            response = await client.post(
                "/graphql", json={"query": page, "variables": {"c": forged}}, headers=headers
            )
            _assert_coded(response, "INVALID_CURSOR")


@pytest.mark.parametrize("text", ["\ud800", "a\x00b"], ids=["lone-surrogate", "nul"])
async def test_cursors_with_text_no_database_takes_are_invalid_cursors(
    gql: GraphQL, text: str
) -> None:
    [cursor] = _cursors(await gql("{ works(first: 1) { edges { cursor } } }"))
    tag, values = json.loads(base64.urlsafe_b64decode(cursor))
    forged_values = [text if isinstance(v, str) else v for v in values]
    payload = json.dumps([tag, forged_values]).encode()  # ASCII: the surrogate as \ud800
    forged = base64.urlsafe_b64encode(payload).decode("ascii")
    page = "query($c: String) { works(first: 1, after: $c) { nodes { slug } } }"
    _assert_coded(await gql.response(page, {"c": forged}), "INVALID_CURSOR")


def _global_id(type_name: str, number: int) -> str:
    return base64.b64encode(f"{type_name}:{number}".encode()).decode("ascii")


async def test_global_ids_with_out_of_range_numbers_are_invalid_ids(gql: GraphQL) -> None:
    for type_name in ("Work", "Person", "Theme"):
        for number in [*HUGE, 0]:
            forged = _global_id(type_name, number)
            for query in (
                "query($id: ID!) { node(id: $id) { id } }",
                "query($id: ID!) { nodes(ids: [$id]) { id } }",
            ):
                for _ in range(2):
                    _assert_coded(await gql.response(query, {"id": forged}), "INVALID_ID")
    # The largest number an INTEGER column holds is a valid ID (of no record).
    data = await gql(
        "query($id: ID!) { node(id: $id) { id } }", {"id": _global_id("Work", 2**31 - 1)}
    )
    assert data == {"node": None}


@pytest.mark.parametrize(
    ("argument", "query"),
    [
        ("first", "query($n: Int) { works(first: $n) { nodes { slug } } }"),
        ("yearFrom", "query($n: Int) { works(filter: {yearFrom: $n}) { nodes { slug } } }"),
        (
            "version",
            'mutation($n: Int!) { deleteTheme(input: {slug: "x", version: $n}) '
            "{ userErrors { code } } }",
        ),
    ],
)
async def test_integer_arguments_past_32_bits_are_refused_before_running(
    gql: GraphQL, argument: str, query: str
) -> None:
    for number in (2**31, 2**63, -(2**31) - 1):
        codes = await gql.error_codes(query, {"n": number})
        assert codes == ["BAD_USER_INPUT"], (argument, number, codes)
        literal = query.replace("query($n: Int) ", "").replace("mutation($n: Int!) ", "mutation ")
        codes = await gql.error_codes(literal.replace("$n", str(number)))
        assert codes == ["GRAPHQL_VALIDATION_FAILED"], (argument, number, codes)


INT_MIN, INT_MAX = -(2**31), 2**31 - 1


async def test_32_bit_extremes_reach_the_database_as_coded_answers(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """The largest and smallest GraphQL Ints fit PostgreSQL's INTEGER: as versions, dispute
    positions, years and filters they answer userErrors or data, never a fault."""
    token = await create_token(session, "extremes-admin", "admin")
    await session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    operations = [
        'mutation($n: Int!) { removeDispute(input: {slug: "sea-of-blood", version: 1, '
        "position: $n}) { userErrors { code } } }",
        'mutation($n: Int!) { removeDispute(input: {slug: "sea-of-blood", version: $n, '
        "position: 0}) { userErrors { code } } }",
        'mutation($n: Int!) { updateWork(input: {slug: "sea-of-blood", version: 1, year: $n}) '
        "{ userErrors { code } } }",
        "query($n: Int!) { works(filter: {yearFrom: $n, yearTo: $n}) "
        "{ totalCount facets { decades { decade } } } }",
    ]
    for operation in operations:
        for number in (INT_MIN, INT_MAX):
            response = await client.post(
                "/graphql", json={"query": operation, "variables": {"n": number}}, headers=headers
            )
            assert response.status_code == 200, response.text
            body = response.json()
            assert "errors" not in body, (operation, number, body)
            for value in body["data"].values():
                codes = [e["code"] for e in value.get("userErrors", [])]
                assert set(codes) <= {"CONFLICT", "NOT_FOUND", "OUT_OF_RANGE"}, body
