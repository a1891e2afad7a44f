"""GraphQL over HTTP (web/over_http.py, gql/operation_choice.py): media types and status
codes, GET mutations, malformed parameters and documents with several operations — each
answered alike by the full path and, for repeated requests, the fast lane and the response
cache (the headers X-Execution and X-Cache show which answered)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

GRAPHQL_RESPONSE = "application/graphql-response+json"
SEA = '{ work(slug: "sea-of-blood") { title year } }'
ACCEPTS = {
    None: "application/json",
    "*/*": "application/json",
    "application/json": "application/json",
    GRAPHQL_RESPONSE: GRAPHQL_RESPONSE,
    f"{GRAPHQL_RESPONSE}, application/json;q=0.9": GRAPHQL_RESPONSE,
    f"application/json;q=0.5, {GRAPHQL_RESPONSE}": GRAPHQL_RESPONSE,
    f"{GRAPHQL_RESPONSE};q=0.5, application/json": "application/json",
    "text/plain": "application/json",
}


def _headers(accept: str | None) -> dict[str, str]:
    return {} if accept is None else {"Accept": accept}


def _media_type(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0].strip()


@pytest.mark.parametrize("accept", list(ACCEPTS), ids=[str(a) for a in ACCEPTS])
async def test_the_answer_has_the_negotiated_media_type_on_every_path(
    client: httpx.AsyncClient, accept: str | None
) -> None:
    paths = set()
    for _ in range(3):  # the full path, then the fast lane / the response cache
        response = await client.post("/graphql", json={"query": SEA}, headers=_headers(accept))
        assert response.status_code == 200, response.text
        assert _media_type(response) == ACCEPTS[accept], response.headers
        assert "accept" in response.headers["vary"].lower()
        assert response.json()["data"]["work"]["title"] == "Sea of Blood"
        paths.add(response.headers.get("x-cache") or response.headers.get("x-execution") or "-")
        get = await client.get("/graphql", params={"query": SEA}, headers=_headers(accept))
        assert get.status_code == 200 and _media_type(get) == ACCEPTS[accept], get.headers
        assert get.json() == response.json()
    assert "hit" in paths, paths  # a cached answer took the media type of its request


# (name, request body, code): errors raised before execution starts.
REQUEST_ERRORS: list[tuple[str, dict[str, Any], str]] = [
    ("parse", {"query": "{"}, "GRAPHQL_PARSE_FAILED"),
    ("validation", {"query": "{ noSuchField }"}, "GRAPHQL_VALIDATION_FAILED"),
    (
        "coercion",
        {"query": "query($s: String!) { work(slug: $s) { title } }", "variables": {"s": None}},
        "BAD_USER_INPUT",
    ),
    (
        "coercion of an enum",
        {
            "query": "query($k: WorkKind) { works(filter: {kind: $k}) { totalCount } }",
            "variables": {"k": "FILMS"},
        },
        "BAD_USER_INPUT",
    ),
    (
        "several operations",
        {"query": "query A { __typename } query B { __typename }"},
        "GRAPHQL_VALIDATION_FAILED",
    ),
    (
        "no such operation",
        {"query": "query A { __typename }", "operationName": "B"},
        "GRAPHQL_VALIDATION_FAILED",
    ),
    ("no operation", {"query": "fragment F on Query { __typename }"}, "GRAPHQL_VALIDATION_FAILED"),
    (
        "a limit",
        {
            "query": "{ "
            + 'work(slug: "x") { similar { nodes { ' * 8
            + "title"
            + " } } }" * 8
            + " }"
        },
        "QUERY_TOO_DEEP",
    ),
]


@pytest.mark.parametrize(
    ("name", "body", "code"), REQUEST_ERRORS, ids=[e[0] for e in REQUEST_ERRORS]
)
async def test_request_errors_are_400_without_data_for_graphql_response_json(
    client: httpx.AsyncClient, name: str, body: dict[str, Any], code: str
) -> None:
    for _ in range(2):  # errors are never cached: the second answer is the same
        new = await client.post("/graphql", json=body, headers={"Accept": GRAPHQL_RESPONSE})
        assert new.status_code == 400, new.text
        assert _media_type(new) == GRAPHQL_RESPONSE
        assert "data" not in new.json(), new.text
        assert [e["extensions"]["code"] for e in new.json()["errors"]] == [code], new.text
        assert int(new.headers["content-length"]) == len(new.content)

        old = await client.post("/graphql", json=body, headers={"Accept": "application/json"})
        assert old.status_code == 200, old.text
        assert _media_type(old) == "application/json"
        assert old.json()["data"] is None
        assert old.json()["errors"] == new.json()["errors"]

        params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
        over_get = await client.get("/graphql", params=params, headers={"Accept": GRAPHQL_RESPONSE})
        assert over_get.status_code == 400, over_get.text
        assert _media_type(over_get) == GRAPHQL_RESPONSE
        assert over_get.json() == new.json()


async def test_field_errors_keep_200_and_data_for_graphql_response_json(
    client: httpx.AsyncClient,
) -> None:
    query = '{ work(slug: "sea-of-blood") { title } works(after: "bad") { totalCount } }'
    response = await client.post(
        "/graphql", json={"query": query}, headers={"Accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "data" in body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INVALID_CURSOR"]
    assert body["errors"][0]["path"] == ["works"]


async def test_a_named_operation_of_several_runs_and_only_it(client: httpx.AsyncClient) -> None:
    document = 'query A { __typename } query B { work(slug: "sea-of-blood") { year } }'
    for _ in range(3):
        response = await client.post("/graphql", json={"query": document, "operationName": "B"})
        assert response.json() == {"data": {"work": {"year": 1971}}, "extensions": {"cost": 1}}
    over_get = await client.get("/graphql", params={"query": document, "operationName": "A"})
    assert over_get.json()["data"] == {"__typename": "Query"}


@pytest.mark.parametrize("accept", [None, GRAPHQL_RESPONSE])
@pytest.mark.parametrize(
    ("query", "operation_name"),
    [
        ('mutation { deleteTheme(input: {slug: "x", version: 1}) { userErrors { code } } }', None),
        ("mutation { __typename }", None),
        ("query Q { __typename } mutation M { __typename }", "M"),
    ],
)
async def test_a_mutation_over_get_is_405_allow_post(
    client: httpx.AsyncClient, accept: str | None, query: str, operation_name: str | None
) -> None:
    params = {"query": query}
    if operation_name is not None:
        params["operationName"] = operation_name
    response = await client.get("/graphql", params=params, headers=_headers(accept))
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == "POST"
    assert _media_type(response) == (accept or "application/json")
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert "POST" in error["message"]
    assert "data" not in response.json()


async def test_the_query_of_a_document_with_a_mutation_runs_over_get(
    client: httpx.AsyncClient,
) -> None:
    query = "query Q { __typename } mutation M { __typename }"
    response = await client.get("/graphql", params={"query": query, "operationName": "Q"})
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"__typename": "Query"}


@pytest.mark.parametrize(
    ("parameter", "value", "says"),
    [
        ("variables", "{x", "The `variables` parameter is not JSON"),
        (
            "variables",
            "3",
            "The `variables` parameter must be a JSON object (or null), not a number",
        ),
        ("variables", "[1]", "must be a JSON object (or null), not an array"),
        ("variables", '"s"', "not a string"),
        (
            "extensions",
            "true",
            "The `extensions` parameter must be a JSON object (or null), not a boolean",
        ),
        ("extensions", "{", "The `extensions` parameter is not JSON"),
    ],
)
async def test_get_parameters_that_are_not_json_objects_say_which_and_why(
    client: httpx.AsyncClient, parameter: str, value: str, says: str
) -> None:
    response = await client.get("/graphql", params={"query": "{ __typename }", parameter: value})
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert says in error["message"], error
    assert "body" not in error["message"]


@pytest.mark.parametrize(
    "extra",
    [
        {"variables": 0},
        {"variables": False},
        {"variables": "x"},
        {"variables": []},
        {"extensions": "x"},
        {"extensions": 0},
        {"extensions": False},
        {"extensions": ["x"]},
        {"operationName": 0},
        {"operationName": {"a": 1}},
    ],
    ids=lambda extra: json.dumps(extra),
)
async def test_malformed_parameters_are_refused_even_once_the_query_is_cached(
    client: httpx.AsyncClient, extra: dict[str, Any]
) -> None:
    for _ in range(3):  # now in the response cache and the prepared requests
        good = await client.post("/graphql", json={"query": SEA})
        assert good.status_code == 200 and "errors" not in good.json()
    bad = await client.post("/graphql", json={"query": SEA, **extra})
    assert bad.status_code == 400, bad.text
    [error] = bad.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert f"`{next(iter(extra))}`" in error["message"], error  # it says which is wrong
    assert "x-cache" not in bad.headers and "x-execution" not in bad.headers


async def test_null_parameters_are_fine(client: httpx.AsyncClient) -> None:
    for _ in range(3):
        for accept in ("application/json", GRAPHQL_RESPONSE):
            response = await client.post(
                "/graphql",
                json={"query": SEA, "variables": None, "operationName": None, "extensions": None},
                headers={"Accept": accept},
            )
            assert response.status_code == 200, response.text
            assert "errors" not in response.json()


async def test_each_media_type_has_its_own_entity_tag(client: httpx.AsyncClient) -> None:
    params = {"query": SEA}
    old = await client.get("/graphql", params=params)
    new = await client.get("/graphql", params=params, headers={"Accept": GRAPHQL_RESPONSE})
    old_tag, new_tag = old.headers["etag"], new.headers["etag"]
    assert old_tag != new_tag
    for accept, tag, other in (
        ("application/json", old_tag, new_tag),
        (GRAPHQL_RESPONSE, new_tag, old_tag),
    ):
        same = await client.get(
            "/graphql", params=params, headers={"Accept": accept, "If-None-Match": tag}
        )
        assert same.status_code == 304, same.text
        assert same.headers["etag"] == tag
        crossed = await client.get(
            "/graphql", params=params, headers={"Accept": accept, "If-None-Match": other}
        )
        assert crossed.status_code == 200, crossed.text
        assert _media_type(crossed) == accept
        assert crossed.headers["etag"] == tag
        # whatever If-None-Match held, every answer says the version it was computed at and
        # that caches must vary by it
        for answer in (same, crossed):
            assert answer.headers["x-catalog-version"].isdigit(), answer.headers
            [vary] = answer.headers.get_list("vary")
            assert "x-catalog-version" in vary.lower() and "accept" in vary.lower(), vary


async def test_transport_refusals_keep_their_status_in_either_media_type(
    client: httpx.AsyncClient,
) -> None:
    for accept in ("application/json", GRAPHQL_RESPONSE):
        wrong_type = await client.post(
            "/graphql",
            content=b"{ __typename }",
            headers={"Content-Type": "text/plain", "Accept": accept},
        )
        assert wrong_type.status_code == 415
        assert _media_type(wrong_type) == accept
        not_json = await client.post(
            "/graphql",
            content=b'{"query": ',
            headers={"Content-Type": "application/json", "Accept": accept},
        )
        assert not_json.status_code == 400
        assert _media_type(not_json) == accept
        assert not_json.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_graphiql_is_still_served_to_browsers(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")


async def test_graphiql_ignores_parameters_a_query_would_need(client: httpx.AsyncClient) -> None:
    page = await client.get(
        "/graphql", params={"variables": "{not json"}, headers={"Accept": "text/html"}
    )
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
async def test_other_methods_are_405_allow_get_and_post(
    client: httpx.AsyncClient, method: str
) -> None:
    response = await client.request(method, "/graphql", params={"query": "{ __typename }"})
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == "GET, POST"
    if method != "HEAD":
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "METHOD_NOT_ALLOWED"
