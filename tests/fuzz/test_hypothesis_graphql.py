"""Fuzzing /graphql with hypothesis-graphql: valid operations generated from the schema, invalid
ones, malformed documents and malformed requests, each answer judged by the oracle
(``tests/support/fuzz/oracle.py``).

How the event loops fit together: the tests are synchronous functions that run a Hypothesis
``@given`` function (Hypothesis cannot drive an ``async`` test inside pytest-asyncio's running
session loop). Requests go to the real ASGI app through ``httpx.ASGITransport`` on a private
event loop in a thread of its own (an anyio blocking portal, one per module); the app's engine
is created there too, so its connections (asyncpg's are bound to the loop that opened them)
live and are disposed on that loop. The app reads the shared, seeded ``catalog_url`` database
with its own engine and sessions; nothing the fuzzer sends writes to the catalog (there
are no mutations; a persisted-query request may register its document, as clients do).

Argument values come from custom strategies for the built-in scalars (hypothesis-graphql lets
``custom_scalars`` override ``ID``, ``String`` and ``Int``): mostly real IDs, slugs, cursors,
external identifiers and title words harvested from the catalog when the module starts, so
that generated operations reach real records and their nested fields, mixed with edge cases
(page sizes around the maximum, int32 bounds, malformed IDs and cursors, NUL, lone
surrogates, long strings) and arbitrary text.

``NKCINEMA_FUZZ_EXAMPLES`` (default 200) sets the examples per test; each test asserts it sent
at least that many operations.

Bugs the fuzzers found and that are not fixed yet are listed in ``oracle.KNOWN_BUGS``: the
fuzzers tolerate exactly those (their trigger in the request, their signature in the problem)
and ``test_known_bug`` holds each one's minimal request as a strict xfail. ``test_the_oracle``
shows the oracle failing each kind of bad answer.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import graphql
import httpx
import hypothesis_graphql as hg
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from db.engine import engine_from_settings
from settings import Settings
from tests.support.client import asgi_client, make_app
from tests.support.databases import backend_name
from tests.support.fuzz import fuzz_examples
from tests.support.fuzz.oracle import (
    ANYTHING,
    FIXED_BUGS,
    INVALID,
    KNOWN_BUGS,
    NON_NULL_VIOLATION,
    TRANSPORT_STATUSES,
    VALID,
    Expect,
    KnownBug,
    Oracle,
    Sent,
    Tally,
    known_bugs,
    record,
    report,
    tally,
)
from tests.support.fuzz.values import (
    EDGE_STRINGS,
    HARVEST,
    SCHEMA,
    SURROGATES,
    Pool,
    hoist,
    scalar_strategies,
    tidy,
)

SUITE = "hypothesis-graphql"
EXAMPLES = fuzz_examples()
ROOT_FIELDS = tuple(SCHEMA.query_type.fields) if SCHEMA.query_type else ()
DOCUMENT_BYTES = Settings().max_document_bytes
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ],
)

# -- the app on a private event loop -------------------------------------------------------------


@dataclass
class Endpoint:
    """The ASGI app behind an httpx client, both living on ``portal``'s event loop."""

    portal: BlockingPortal
    client: httpx.AsyncClient
    oracle: Oracle
    counts: Tally
    sent: int = 0

    def request(self, method: str, **kwargs: Any) -> httpx.Response:
        self.sent += 1
        call = partial(self.client.request, method, "/graphql", **kwargs)
        try:
            return self.portal.call(call)
        except (asyncio.CancelledError, concurrent.futures.CancelledError):
            # Escaped the app (BaseException: ASGITransport does not turn it into a 500): a
            # server would drop the connection without an answer.
            self.counts.operations += 1
            self.counts.failures += 1
            raise AssertionError(
                f"the app raised CancelledError (no response) for {method} {kwargs!r:.4000}"
            ) from None

    def post(self, payload: dict[str, Any]) -> httpx.Response:
        # Serialized here, ASCII-only: httpx's own encoder cannot send a lone surrogate.
        body = json.dumps(payload).encode()
        return self.request("POST", content=body, headers={"content-type": "application/json"})

    def judge(self, sent: Sent, response: httpx.Response, expect: Expect) -> dict[str, Any]:
        """Apply the oracle (failing the example on any problem); the JSON body, if any."""
        problems = self.oracle.check(
            sent,
            response.status_code,
            response.headers.get("content-type", ""),
            response.text,
            expect,
        )
        problems, known = known_bugs(sent, problems)
        record(self.counts, response.text, problems, known)
        assert not problems, report(sent, response.status_code, response.text, problems)
        try:
            body = response.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    def operation(
        self, query: str, variables: Any = None, expect: Expect = VALID, *, get: bool = False
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        statuses = set(expect.statuses)
        if not query:  # no query at all: a transport-level problem
            statuses.add(400)
        if len(query.encode(errors="surrogatepass")) > DOCUMENT_BYTES:  # maybe over the body limit
            statuses.add(413)
        expect = Expect(expect.valid, expect.errors and not statuses, frozenset(statuses))
        if get and not _encodable(json.dumps(payload, ensure_ascii=False)):
            get = False  # a URL cannot carry a lone surrogate
        if get:
            params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in payload.items()}
            response = self.request("GET", params=params)
        else:
            response = self.post(payload)
        return self.judge(Sent(query, variables, raw=json.dumps(payload)), response, expect)


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


@pytest.fixture(scope="module")
def endpoint(catalog_url: str, oracle: Oracle) -> Iterator[Endpoint]:
    configuration = Settings(database_url=catalog_url)
    with start_blocking_portal() as portal:
        engine = portal.call(engine_from_settings, configuration)  # as the app would make it
        app = make_app(configuration, engine=engine)
        # An exception escaping the app becomes the 500 a server would send, not a test error.
        client = asgi_client(app, raise_app_exceptions=False)
        try:
            yield Endpoint(portal, client, oracle, tally(SUITE, backend_name()))
        finally:
            portal.call(client.aclose)
            portal.call(engine.dispose)


# -- values from the catalog ---------------------------------------------------------------------


def harvest(endpoint: Endpoint) -> Pool:
    data = endpoint.operation(HARVEST)["data"]
    pool = Pool()
    for key in ("works", "ranked", "byYear", "people", "directors", "themes"):
        for edge in data[key]["edges"]:
            pool.cursors += [edge["cursor"]] if "cursor" in edge else []
            node = edge.get("node")
            if not node:
                continue
            pool.ids.append(node["id"])
            pool.slugs.append(node["slug"])
            for name in ("title", "name", "originalTitle", "originalName"):
                if node.get(name):
                    pool.words += [node[name], *node[name].split()[:2]]
            pool.words += node.get("alternativeTitles", []) + node.get("alternativeNames", [])
            pool.words += [e["value"] for e in node.get("externalIds", [])]
            pool.cursors += [e["cursor"] for e in node.get("similar", {}).get("edges", [])]
    assert pool.ids and pool.slugs and pool.cursors, data
    return pool


@dataclass
class Strategies:
    pool: Pool
    valid: st.SearchStrategy[str]
    negative: st.SearchStrategy[str]


@pytest.fixture(scope="module")
def strategies(endpoint: Endpoint) -> Strategies:
    pool = harvest(endpoint)
    scalars = scalar_strategies(pool)
    per_field = [hg.from_schema(SCHEMA, fields=[f], custom_scalars=scalars) for f in ROOT_FIELDS]
    generated = st.one_of(*per_field, hg.from_schema(SCHEMA, custom_scalars=scalars))
    valid = generated | generated.map(tidy)
    negative = hg.from_schema(SCHEMA, custom_scalars=scalars, mode=hg.Mode.NEGATIVE)
    return Strategies(pool, valid, negative)


# -- document transformations --------------------------------------------------------------------


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(EDGE_STRINGS + SURROGATES),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=8,
)

_NAMES = sorted(
    {name for t in SCHEMA.type_map.values() if not t.name.startswith("__") for name in [t.name]}
    | {
        name
        for t in SCHEMA.type_map.values()
        if isinstance(t, (graphql.GraphQLObjectType, graphql.GraphQLInterfaceType))
        and not t.name.startswith("__")
        for f_name, f in t.fields.items()
        for name in (f_name, *f.args)
    }
)
TOKENS = st.one_of(
    st.sampled_from(_NAMES),
    st.sampled_from([*"{}()[]:,!$@=|&.", "...", "on", "query", "fragment", "mutation"]),
    st.sampled_from(["subscription", "true", "false", "null", "__typename", "__schema", "#"]),
    st.sampled_from(['"', '"""', "\\u", "\\", "-", "0x1", "1e999", "-0", "1.", ".5"]),
    st.integers().map(str),
    st.text(max_size=6).map(json.dumps),
    st.text(alphabet=string.ascii_letters + "_", min_size=1, max_size=8),
)


@st.composite
def _token_soup(draw: st.DrawFn) -> str:
    tokens = draw(st.lists(TOKENS, max_size=40))
    separators = draw(st.sampled_from([" ", "", "\n", "\t", ","]))
    return separators.join(tokens)


@st.composite
def _truncated(draw: st.DrawFn, valid: st.SearchStrategy[str]) -> str:
    query = draw(valid)
    return query[: draw(st.integers(min_value=0, max_value=len(query)))]


@st.composite
def _mutated(draw: st.DrawFn, valid: st.SearchStrategy[str]) -> str:
    query = draw(valid)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        at = draw(st.integers(min_value=0, max_value=len(query)))
        end = draw(st.integers(min_value=at, max_value=min(len(query), at + 8)))
        action = draw(st.sampled_from(["delete", "insert", "replace", "duplicate"]))
        if action == "delete":
            query = query[:at] + query[end:]
        elif action == "duplicate":
            query = query[:end] + query[at:end] * draw(st.integers(1, 50)) + query[end:]
        else:
            piece = draw(TOKENS | st.text(max_size=3))
            query = query[:at] + piece + (query[end:] if action == "replace" else query[at:])
    return query


NESTED = {
    "similar": "similar(first: {n}) {{ nodes {{ {inner} }} }}",
    "credits": "credits {{ person {{ credits {{ work {{ {inner} }} }} }} }}",
    "works": "themes {{ works(first: {n}) {{ nodes {{ {inner} }} }} }}",
    "directors": "directors {{ works(first: {n}) {{ nodes {{ {inner} }} }} }}",
}


@st.composite
def _limit_probes(draw: st.DrawFn) -> str:
    """Operations that press on the limits: deep nesting, many aliases, big pages, huge size."""
    kind = draw(st.sampled_from(["deep", "nested", "aliases", "wide", "long", "fragments"]))
    if kind == "nested":  # nesting past the parser's and validator's own limits
        n = draw(st.sampled_from([10, 50, 300, 1200]))
        return draw(
            st.sampled_from(
                [
                    "{ works(first: " + "[" * n + "]" * n + ") { totalCount } }",
                    "{ works(filter: " + "{search: " * n + '"x"' + "}" * n + ") { totalCount } }",
                    "{ works { nodes " + "{ similar { nodes " * n + "{ id }" + " } }" * n + " } }",
                    "query { ...F0 } "
                    + " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(n))
                    + f" fragment F{n} on Query {{ works {{ totalCount }} }}",
                ]
            )
        )
    if kind == "deep":
        inner = "id title"
        for _ in range(draw(st.integers(min_value=1, max_value=12))):
            template = NESTED[draw(st.sampled_from(sorted(NESTED)))]
            inner = template.format(n=draw(st.sampled_from([1, 2, 20, 100])), inner=inner)
        first = draw(st.sampled_from([1, 5, 100]))
        return f"{{ works(first: {first}) {{ totalCount nodes {{ {inner} }} }} }}"
    if kind == "aliases":
        count = draw(st.integers(min_value=1, max_value=80))
        field_ = draw(
            st.sampled_from(["works { totalCount }", "themes { totalCount }", "__typename"])
        )
        return "{ " + " ".join(f"a{i}: {field_}" for i in range(count)) + " }"
    if kind == "wide":
        count = draw(st.integers(min_value=1, max_value=3000))
        return "{ works { nodes { " + "id " * count + "} } }"
    if kind == "long":
        size = draw(st.sampled_from([1_000, 70_000, 300_000]))
        return "{ works { totalCount } }" + " " * size + "# " + "x" * 10
    spreads = draw(st.integers(min_value=1, max_value=40))
    return (
        "query { works { nodes { ...W } } } fragment W on Work { "
        + " ".join(f"s{i}: similar {{ nodes {{ id }} }}" for i in range(spreads))
        + " }"
    )


def malformed_documents(strategies: Strategies) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=200),
        st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=40),
        _token_soup(),
        _truncated(strategies.valid),
        _mutated(strategies.valid),
        _limit_probes(),
    )


# -- the tests -----------------------------------------------------------------------------------


def run(endpoint: Endpoint, test: Callable[..., None], *strategies: st.SearchStrategy[Any]) -> None:
    """Run ``test`` on EXAMPLES examples; fail if fewer operations were sent (a misconfigured
    run must not pass quietly)."""
    before = endpoint.sent
    FUZZ_SETTINGS(given(*strategies)(test))()
    sent = endpoint.sent - before
    assert sent >= EXAMPLES, f"only {sent} operations sent, expected at least {EXAMPLES}"


def test_valid_operations(endpoint: Endpoint, strategies: Strategies) -> None:
    """Valid operations (argument values as literals): only argument and limit errors, and
    data that conforms to the schema."""

    def example(query: str) -> None:
        endpoint.operation(query, expect=VALID)

    run(endpoint, example, strategies.valid)


def test_valid_operations_with_variables(endpoint: Endpoint, strategies: Strategies) -> None:
    """The same, with argument values passed as variables (coerced by a different path), by
    POST or by GET (the cacheable path: ETag from the catalog version); sometimes with a
    variable of any JSON value or left out: the document stays valid, so the worst is
    BAD_USER_INPUT."""

    def example(data: st.DataObject) -> None:
        query, variables = hoist(data.draw(strategies.valid, label="query"))
        if variables and data.draw(st.booleans(), label="corrupt"):
            name = data.draw(st.sampled_from(sorted(variables)), label="variable")
            if data.draw(st.booleans(), label="drop"):
                del variables[name]
            else:
                variables[name] = data.draw(JSON_VALUES, label="value")
        get = data.draw(st.integers(min_value=0, max_value=3), label="method") == 0
        if get and query.lstrip().startswith("mutation"):  # refused over GET: 405 (Allow: POST)
            endpoint.operation(query, variables, Expect(statuses=frozenset({405})), get=get)
            return
        endpoint.operation(query, variables, VALID, get=get)

    run(endpoint, example, st.data())


def test_invalid_operations(endpoint: Endpoint, strategies: Strategies) -> None:
    """Operations with one schema violation (hypothesis-graphql's negative mode): refused with
    errors (validation, or a variable's value), never a server error."""

    def example(query: str) -> None:
        endpoint.operation(query, expect=INVALID)

    run(endpoint, example, strategies.negative)


def test_malformed_documents(endpoint: Endpoint, strategies: Strategies) -> None:
    """Arbitrary text, token soup, truncated and mutated valid operations, and operations that
    press on the limits: any answer but a server error, a leak or an undocumented code."""

    def example(query: str) -> None:
        endpoint.operation(query, expect=ANYTHING)

    run(endpoint, example, malformed_documents(strategies))


REQUEST_KEYS = ("query", "variables", "operationName", "extensions")


@st.composite
def _malformed_request(draw: st.DrawFn, strategies: Strategies) -> dict[str, Any]:
    """httpx request arguments for a request with something wrong at the HTTP/JSON level."""
    kind = draw(st.sampled_from(["payload", "raw", "content-type", "get", "method", "persisted"]))
    query = draw(strategies.valid | st.text(max_size=30))
    if kind == "persisted":
        return draw(_persisted_request(query))
    if kind == "payload":  # a JSON object with members of any type
        payload = draw(st.dictionaries(st.sampled_from(REQUEST_KEYS), JSON_VALUES, max_size=4))
        if draw(st.booleans()):
            payload["query"] = query
        body = json.dumps(payload).encode()
        return {"method": "POST", "content": body, "headers": {"content-type": "application/json"}}
    if kind == "raw":  # a body that is not (quite) a JSON object
        body = draw(
            st.one_of(
                st.binary(max_size=64),
                JSON_VALUES.map(json.dumps),
                st.just(json.dumps({"query": query})).map(lambda s: s[: len(s) // 2]),
                st.sampled_from(
                    [
                        "",
                        "null",
                        "[]",
                        '[{"query": "{ __typename }"}]',
                        '{"query": "{ __typename }", "variables": NaN}',
                        '{"query": "query($a: Float) { __typename }", "variables": {"a": NaN}}',
                        '{"query": "{ work(slug: \\"\\ud800\\") { id } }"}',
                        '{"query": "query($s: String!) { work(slug: $s) { id } }", '
                        '"variables": {"s": "\\ud800"}}',
                        '{"query": "query($s: String!) { search(query: $s) { __typename } }", '
                        '"variables": {"s": "\\udfff\\ud800"}}',
                        '{"query": "{ __typename }", "query": "{ works { totalCount } }"}',
                        '{"query": "{ __typename }"' + "}" * 5,
                        '{"query": ' + "[" * 5000 + "]" * 5000 + "}",
                        '{"query": "{ __typename }", "variables": ' + "[" * 5000 + "]" * 5000 + "}",
                    ]
                ),
                st.just('{"query": "{ __typename }", "x": "' + "y" * 300_000 + '"}'),
            )
        )
        content_type = draw(
            st.sampled_from(["application/json", "application/json; charset=latin-1"])
        )
        return {"method": "POST", "content": body, "headers": {"content-type": content_type}}
    if kind == "content-type":
        content_type = draw(
            st.sampled_from(
                [
                    "text/plain",
                    "application/graphql",
                    "application/x-www-form-urlencoded",
                    "multipart/form-data; boundary=x",
                    "multipart/form-data",
                    "",
                    "application/json; charset=utf-16",
                ]
            )
        )
        body = draw(st.sampled_from([query, json.dumps({"query": query}), "query=" + query]))
        return {
            "method": "POST",
            "content": body.encode(),
            "headers": {"content-type": content_type},
        }
    if kind == "get":
        params = draw(
            st.dictionaries(
                st.sampled_from(REQUEST_KEYS),
                st.text(max_size=20) | JSON_VALUES.map(json.dumps),
                max_size=4,
            )
        )
        if draw(st.booleans()):
            params["query"] = query
        headers = draw(
            st.sampled_from(
                [{}, {"if-none-match": '"x"'}, {"if-none-match": "*"}, {"authorization": "x"}]
            )
        )
        return {"method": "GET", "params": params, "headers": headers}
    method = draw(st.sampled_from(["PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]))
    return {"method": method, "content": json.dumps({"query": query}).encode()}


#: ``X-Catalog-Version`` values (read-your-writes with replicas, web/routing.py): numbers far
#: ahead or out of range, and what is not a number at all.
CATALOG_VERSIONS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["", " 1", "1.5", "0x10", "1e9", "NaN", "+1", "1,2"]),
    st.text(alphabet=string.printable.strip(), max_size=12),
)


@st.composite
def _persisted_request(draw: st.DrawFn, query: str) -> dict[str, Any]:
    """Automatic Persisted Queries (web/persisted.py): the hash of the query or of nothing,
    malformed hashes and versions, with the document or without, by POST or GET; sometimes an
    ``X-Catalog-Version`` header. Registering a document that passes every limit is a
    legitimate effect of such a request."""
    right = hashlib.sha256(query.encode(errors="surrogatepass")).hexdigest()
    sha = draw(
        st.one_of(
            st.just(right),
            st.just(right.upper()),
            st.just(hashlib.sha256(b"unknown").hexdigest()),
            st.text(alphabet="0123456789abcdef", max_size=70),
            JSON_VALUES,
        )
    )
    persisted: Any = {"version": draw(st.sampled_from([1, 2, 0, "1", None])), "sha256Hash": sha}
    if draw(st.integers(min_value=0, max_value=5)) == 0:
        persisted = draw(JSON_VALUES)
    payload: dict[str, Any] = {"extensions": {"persistedQuery": persisted}}
    if draw(st.booleans()):
        payload["query"] = query
    headers: dict[str, str] = {}
    if draw(st.booleans()):
        headers["x-catalog-version"] = draw(CATALOG_VERSIONS)
    if draw(st.booleans()):
        params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in payload.items()}
        return {"method": "GET", "params": params, "headers": headers}
    headers["content-type"] = "application/json"
    return {"method": "POST", "content": json.dumps(payload).encode(), "headers": headers}


def _json_or_none(text: Any) -> Any:
    try:
        return json.loads(text)
    except (ValueError, TypeError, RecursionError):
        return None


def _sent(arguments: dict[str, Any]) -> Sent:
    """What the server will have read from a request's arguments (for the oracle)."""
    if "params" in arguments:
        payload: Any = dict(arguments["params"])
        payload["variables"] = _json_or_none(payload.get("variables"))
    else:
        payload = _json_or_none(arguments.get("content"))
    payload = payload if isinstance(payload, dict) else {}
    query, name = payload.get("query"), payload.get("operationName")
    return Sent(
        query if isinstance(query, str) else None,
        payload.get("variables"),
        name if isinstance(name, str) else None,
        raw=repr(arguments),
    )


def test_malformed_requests(endpoint: Endpoint, strategies: Strategies) -> None:
    """Requests wrong at the HTTP or JSON level (members of the wrong type, bodies that are not a
    JSON object, other content types, GET parameters, other methods): a 4xx is fine here, a
    server error or a leak is not."""
    expect = Expect(statuses=TRANSPORT_STATUSES | {304})

    def example(arguments: dict[str, Any]) -> None:
        arguments = dict(arguments)
        method = arguments.pop("method")
        response = endpoint.request(method, **arguments)
        if method == "HEAD":  # an answer without a body, by definition: judge the status only
            problems = [] if response.status_code < 500 else [f"status {response.status_code}"]
            record(endpoint.counts, "", problems, [])
            assert not problems and response.content == b"", (response.status_code, problems)
            return
        page = method == "GET" and "query" not in arguments.get("params", {})
        endpoint.judge(_sent(arguments), response, Expect(statuses=expect.statuses, page=page))

    run(endpoint, example, _malformed_request(strategies))


@pytest.mark.parametrize("bug", [pytest.param(b, id=b.key) for b in (*KNOWN_BUGS, *FIXED_BUGS)])
def test_known_bug(endpoint: Endpoint, bug: KnownBug, request: pytest.FixtureRequest) -> None:
    """Each bug the fuzzers found, on its minimal request, judged with no tolerance. A fixed
    bug (``oracle.FIXED_BUGS``) must stay fixed; one not fixed yet (``oracle.KNOWN_BUGS``,
    tolerated by the fuzzers) is a strict xfail on the backends that have it, so it fails the
    run once fixed until its entry moves to FIXED_BUGS."""
    if bug in KNOWN_BUGS and backend_name() in bug.backends:
        marker = pytest.mark.xfail(strict=True, raises=AssertionError, reason=bug.summary)
        request.applymarker(marker)
    response = endpoint.request(
        "POST", content=bug.example.encode(), headers={"content-type": "application/json"}
    )
    payload = _json_or_none(bug.example) or {}
    sent = Sent(payload.get("query"), payload.get("variables"), raw=bug.example)
    problems = endpoint.oracle.check(
        sent, response.status_code, response.headers.get("content-type", ""), response.text
    )
    assert not problems, report(sent, response.status_code, response.text, problems)


# -- the oracle itself: it must be able to fail ------------------------------------------------

_PROBE = '{ node(id: "x") { id } work(slug: "x") { title year kind directors { name } } }'
_WORK = {"title": "T", "year": 1971, "kind": "FILM", "directors": [{"name": "N"}]}


def _error(code: str | None, message: str = "m", **extra: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, **extra}
    if code is not None:
        error["extensions"] = {"code": code}
    return error


ORACLE_CASES = [
    # (id, response body (JSON-able, or raw text), status, expect, query, whether it must pass)
    ("a good answer", {"data": {"node": None, "work": _WORK}}, 200, VALID, _PROBE, True),
    (
        "an argument error",
        {"data": {"node": None, "work": None}, "errors": [_error("INVALID_ID", path=["node"])]},
        200,
        VALID,
        _PROBE,
        True,
    ),
    (
        "SQL the client sent, echoed",
        {"data": None, "errors": [_error("GRAPHQL_PARSE_FAILED", "Syntax Error: SELECT 1")]},
        200,
        ANYTHING,
        "SELECT 1",
        True,
    ),
    ("a 500", "Internal Server Error", 500, VALID, _PROBE, False),
    ("a 400 for a fine request", "Bad Request", 400, VALID, _PROBE, False),
    ("no data, no errors", {"extensions": {}}, 200, VALID, _PROBE, False),
    (
        "a masked exception",
        {"data": {"node": None, "work": None}, "errors": [_error("INTERNAL_SERVER_ERROR")]},
        200,
        VALID,
        _PROBE,
        False,
    ),
    (
        "an error without a code",
        {"data": None, "errors": [_error(None)]},
        200,
        ANYTHING,
        _PROBE,
        False,
    ),
    (
        "an undocumented code",
        {"data": None, "errors": [_error("OOPS")]},
        200,
        ANYTHING,
        _PROBE,
        False,
    ),
    (
        "an auth error for a request with an admin token",
        {"data": None, "errors": [_error("UNAUTHENTICATED")]},
        200,
        Expect(valid=True, authenticated=True),
        _PROBE,
        False,
    ),
    (
        "a validation error for a valid operation",
        {"data": None, "errors": [_error("GRAPHQL_VALIDATION_FAILED")]},
        200,
        VALID,
        _PROBE,
        False,
    ),
    (
        "an invalid request accepted",
        {"data": {"node": None, "work": None}},
        200,
        INVALID,
        _PROBE,
        False,
    ),
    (
        "a stack trace",
        {"data": None, "errors": [_error("BAD_USER_INPUT", 'File "/srv/app.py", line 3')]},
        200,
        ANYTHING,
        _PROBE,
        False,
    ),
    (
        "a driver's name",
        {"data": None, "errors": [_error("BAD_USER_INPUT", "asyncpg.exceptions.DataError")]},
        200,
        ANYTHING,
        _PROBE,
        False,
    ),
    (
        "graphql-core's non-null violation",
        {"data": None, "errors": [_error("BAD_USER_INPUT", NON_NULL_VIOLATION + " Work.title.")]},
        200,
        ANYTHING,
        _PROBE,
        False,
    ),
    (
        "null for a non-null field",
        {"data": {"node": None, "work": {**_WORK, "title": None}}},
        200,
        VALID,
        _PROBE,
        False,
    ),
    (
        "null in a list of non-null",
        {"data": {"node": None, "work": {**_WORK, "directors": [None]}}},
        200,
        VALID,
        _PROBE,
        False,
    ),
    (
        "a string for an Int",
        {"data": {"node": None, "work": {**_WORK, "year": "1971"}}},
        200,
        VALID,
        _PROBE,
        False,
    ),
    (
        "an unknown enum value",
        {"data": {"node": None, "work": {**_WORK, "kind": "MOVIE"}}},
        200,
        VALID,
        _PROBE,
        False,
    ),
    (
        "a field that was not selected",
        {"data": {"node": None, "work": {**_WORK, "synopsis": "s"}}},
        200,
        VALID,
        _PROBE,
        False,
    ),
]


@pytest.mark.parametrize(
    ("body", "status", "expect", "query", "passes"),
    [pytest.param(*case[1:], id=case[0]) for case in ORACLE_CASES],
)
def test_the_oracle(
    oracle: Oracle, body: Any, status: int, expect: Expect, query: str, passes: bool
) -> None:
    """The oracle passes good answers and fails each kind of bad one (or the fuzzers prove
    nothing)."""
    text = body if isinstance(body, str) else json.dumps(body)
    content_type = "text/plain" if isinstance(body, str) else "application/json"
    problems = oracle.check(Sent(query), status, content_type, text, expect)
    assert (not problems) == passes, problems
    secret = oracle.secrets[0]
    leaked = {"data": None, "errors": [_error("BAD_USER_INPUT", f"cannot open {secret}")]}
    assert oracle.check(Sent(query), 200, "application/json", json.dumps(leaked)), "a URL leak"
