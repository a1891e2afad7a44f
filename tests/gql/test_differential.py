"""The compiled read path and the resolver path agree, exactly: every operation goes to two
apps over the same seeded catalog — ``compiled=True`` and ``compiled=False``, both without the
response cache — and the two response bodies must be the same bytes (same JSON, same key
order, same errors).

The operations: the README's examples, ``examples/operations`` with their variables, a list
written by hand to cover what the compiler compiles, and operations generated from the schema
by hypothesis-graphql (``NKCINEMA_DIFFERENTIAL_EXAMPLES``, default 1,000 per run): half from
the whole schema (mostly falling back), half from the part of it the compiler covers (mostly
compiled), as literals or as variables. A run must actually compile a share of the generated
operations, so that it cannot pass by compiling nothing; the counts are printed.

The apps run as in ``tests/fuzz/test_hypothesis_graphql.py``: on a private event loop in a
thread (an anyio blocking portal), each with its own engine on the shared ``catalog_url``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
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
from tests.support.documents import example_operations, readme_examples
from tests.support.fuzz.values import (
    HARVEST,
    SCHEMA,
    Pool,
    hoist,
    scalar_strategies,
    tidy,
)

EXAMPLES = int(os.environ.get("NKCINEMA_DIFFERENTIAL_EXAMPLES", "") or 2000)
MIN_COMPILED_SHARE = 0.10

# -- two apps, one catalog -----------------------------------------------------------------------


@dataclass
class Tally:
    operations: int = 0
    compiled: int = 0

    @property
    def fell_back(self) -> int:
        return self.operations - self.compiled


@dataclass
class Pair:
    """The compiled app and the resolver app, behind httpx clients on ``portal``'s loop."""

    portal: BlockingPortal
    compiled: httpx.AsyncClient
    resolved: httpx.AsyncClient
    tallies: dict[str, Tally] = field(default_factory=dict)

    def _post(self, client: httpx.AsyncClient, payload: dict[str, Any]) -> httpx.Response:
        return self.portal.call(lambda: client.post("/graphql", json=payload))

    def check(self, suite: str, query: str, variables: Any = None) -> bool:
        """Send the operation to both apps; fail unless they answer the same bytes. Whether
        the compiled app compiled it."""
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        fast = self._post(self.compiled, payload)
        slow = self._post(self.resolved, payload)
        compiled = fast.headers.get("X-Execution") == "compiled"
        tally = self.tallies.setdefault(suite, Tally())
        tally.operations += 1
        tally.compiled += compiled
        detail = (
            f"operation: {query}\nvariables: {json.dumps(variables)}\n"
            f"compiled app ({'compiled' if compiled else 'fell back'}), {fast.status_code}: "
            f"{fast.text:.3000}\nresolver app, {slow.status_code}: {slow.text:.3000}"
        )
        assert fast.status_code == slow.status_code, detail
        assert fast.content == slow.content, detail
        assert "X-Execution" not in slow.headers
        return compiled


def _settings(catalog_url: str, *, compiled: bool) -> Settings:
    return Settings(database_url=catalog_url, compiled=compiled, response_cache_entries=0)


@pytest.fixture(scope="module")
def pair(catalog_url: str) -> Iterator[Pair]:
    with start_blocking_portal() as portal:
        clients, engines = [], []
        for compiled in (True, False):
            configuration = _settings(catalog_url, compiled=compiled)
            engine = portal.call(engine_from_settings, configuration)
            clients.append(asgi_client(make_app(configuration, engine=engine)))
            engines.append(engine)
        try:
            yield Pair(portal, clients[0], clients[1])
        finally:
            for client, engine in zip(clients, engines, strict=True):
                portal.call(client.aclose)
                portal.call(engine.dispose)


@pytest.fixture(autouse=True)
def no_failed_statements(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """A compiled statement that fails falls back quietly (gql.compiled): here, it fails the
    test, so that a fallback never hides SQL the compiler got wrong."""
    with caplog.at_level(logging.WARNING, logger="nkcinema.compiled"):
        yield
    failed = [r.getMessage() for r in caplog.records if r.name == "nkcinema.compiled"]
    assert not failed, failed[:3]


def _report(pair: Pair, capsys: pytest.CaptureFixture[str], suite: str) -> Tally:
    tally = pair.tallies.get(suite, Tally())
    with capsys.disabled():
        print(
            f"\ndifferential ({backend_name()}) {suite}: {tally.operations} operations, "
            f"{tally.compiled} compiled, {tally.fell_back} fell back; all answers identical"
        )
    return tally


# -- the README and the example operations --------------------------------------------------------


def test_the_readme_and_the_example_operations(
    pair: Pair, capsys: pytest.CaptureFixture[str]
) -> None:
    examples = [(query, None) for query, _answer in readme_examples()] + example_operations()
    assert len(examples) >= 7
    for query, variables in examples:
        pair.check("readme+examples", query, variables)
    _report(pair, capsys, "readme+examples")


# -- operations written for the compiler ----------------------------------------------------------

HAND_WRITTEN: list[tuple[str, Any]] = [
    ('{ work(slug: "sea-of-blood") { title year directors { name } themes { name } } }', None),
    ("{ works(first: 50) { nodes { title year directors { name } themes { name } } } }", None),
    (
        "{ works(first: 50, orderBy: [{field: YEAR, direction: DESC}]) { nodes { title year"
        " directors { name } themes { name } } } }",
        None,
    ),
    (
        "{ directors(first: 100) { nodes { name works(role: DIRECTOR, first: 10) { nodes {"
        " title year themes { name } } } } } }",
        None,
    ),
    (
        "query($slug: String!) { work(slug: $slug) { __typename id slug title originalTitle"
        " kind year synopsis alternativeTitles directors { __typename id slug name originalName"
        " biography alternativeNames } themes { __typename id slug name description } } }",
        {"slug": "sea-of-blood"},
    ),
    ('{ work(slug: "no-such-work") { title } person(slug: "") { name } }', None),
    (
        '{ person(slug: "choe-ik-kyu") { name works(role: DIRECTOR, first: 5) { totalCount'
        " pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node {"
        " title year kind } } } } }",
        None,
    ),
    (
        "{ works { totalCount pageInfo { hasNextPage endCursor } edges { cursor } } "
        "byYear: works(first: 7, orderBy: [{field: YEAR}, {field: TITLE, direction: DESC}]) {"
        " edges { cursor node { title year } } } "
        "byYearDesc: works(first: 100, orderBy: [{field: YEAR, direction: DESC}]) {"
        " pageInfo { endCursor } nodes { year } } }",
        None,
    ),
    (
        "{ works(first: 100, filter: {kind: FILM, yearFrom: 1960, yearTo: 1990}) { totalCount"
        " nodes { title } } a: works(filter: {kinds: [SERIES]}) { totalCount } "
        "b: works(filter: {kinds: []}) { totalCount nodes { id } } "
        "c: works(filter: {hasDisputes: true}) { totalCount nodes { slug } } "
        "d: works(filter: {hasDisputes: false}, first: 3) { totalCount nodes { slug } } }",
        None,
    ),
    (
        '{ works(filter: {director: "choe-ik-kyu"}) { totalCount nodes { title } } '
        'a: works(filter: {directors: ["choe-ik-kyu", "pak-hak"], themes: ["war", "revolution"]})'
        " { totalCount nodes { title } } "
        'b: works(filter: {themes: ["war", "revolution"], themesMatch: ALL}) { totalCount } }',
        None,
    ),
    (
        "{ themes(first: 100) { totalCount nodes { name works(first: 3, kind: FILM,"
        " orderBy: [{field: TITLE}]) { totalCount nodes { title } } } } }",
        None,
    ),
    (
        "{ people(first: 100) { totalCount nodes { slug name alternativeNames works(first: 2) {"
        " totalCount nodes { title directors { slug } } } } } }",
        None,
    ),
    (
        "{ people(filter: {role: DIRECTOR}, first: 0) { totalCount pageInfo { hasNextPage"
        " startCursor endCursor } nodes { id } edges { cursor } } }",
        None,
    ),
    (
        "query Q($skip: Boolean!, $first: Int) { __typename ...Roots works(first: $first) {"
        " nodes { title @skip(if: $skip) year @include(if: $skip) } } }"
        " fragment Roots on Query { directors(first: 3) { __typename nodes { ... on Person {"
        " name } ... on Node { id } ...P } } } fragment P on Person { slug name }",
        {"skip": True, "first": 4},
    ),
    (
        "{ a: works(first: 2) { nodes { t: title } } b: works(first: 2) { nodes { title } }"
        " works(first: 2) { n: nodes { title } nodes { year } e: edges { node { id } } } }",
        None,
    ),
    (
        "{ works(first: 5) { nodes { directors { works(first: 2, role: DIRECTOR) { nodes {"
        " title alternativeTitles } } } } } }",
        None,
    ),
]
#: Nested deeper than SQLite's parser takes (gql.compiled.plan.sqlite_can_parse): compiled on
#: PostgreSQL only.
DEEP: list[tuple[str, Any]] = [
    (
        "{ works(first: 5) { nodes { directors { works(first: 2, role: DIRECTOR) { nodes {"
        " themes { name } } } } } } }",
        None,
    ),
    (
        "{ works(first: 5) { nodes { directors { works(first: 2, role: DIRECTOR) { nodes {"
        " themes { works(first: 2) { totalCount nodes { title } } } } } } } } }",
        None,
    ),
    (
        '{ work(slug: "sea-of-blood") { directors { works(first: 3) { nodes { directors {'
        " works(first: 3) { nodes { title } } } } } } } }",
        None,
    ),
]


def test_hand_written_operations_are_compiled_and_identical(
    pair: Pair, capsys: pytest.CaptureFixture[str]
) -> None:
    not_compiled = [q for q, v in HAND_WRITTEN if not pair.check("hand-written", q, v)]
    _report(pair, capsys, "hand-written")
    assert not not_compiled


#: Lists walked page by page with `after` cursors: (query with `$after`, path to the connection).
CURSOR_WALKS: list[tuple[str, tuple[str, ...]]] = [
    ("works(first: 3, after: $after)", ("works",)),
    (
        "works(first: 4, after: $after, orderBy: [{field: YEAR, direction: DESC}],"
        " filter: {kinds: [FILM, SERIES]})",
        ("works",),
    ),
    ("directors(first: 2, after: $after)", ("directors",)),
    ("themes(first: 3, after: $after)", ("themes",)),
]
CONNECTION_SELECTION = (
    "{ totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
    " edges { cursor node { __typename id } } }"
)
NESTED_WALKS: list[tuple[str, tuple[str, ...]]] = [
    (
        '{ person(slug: "choe-ik-kyu") { works(role: DIRECTOR, first: 2, after: $after)'
        f" {CONNECTION_SELECTION} }} }}",
        ("person", "works"),
    ),
    (
        '{ theme(slug: "resistance") { works(first: 2, after: $after, orderBy: [{field: TITLE}])'
        f" {CONNECTION_SELECTION} }} }}",
        ("theme", "works"),
    ),
]


def _walk(pair: Pair, query: str, path: tuple[str, ...]) -> tuple[int, int]:
    """Follow endCursor to the list's end through the resolver app, checking each page on
    both; (pages, pages compiled)."""
    after: str | None = None
    pages = compiled = 0
    while True:
        compiled += pair.check("cursors", query, {"after": after})
        pages += 1
        answer = pair._post(pair.resolved, {"query": query, "variables": {"after": after}})
        connection = answer.json()["data"]
        for key in path:
            connection = connection[key]
        assert pages < 100, "the walk does not end"
        if not connection["pageInfo"]["hasNextPage"]:
            return pages, compiled
        after = connection["pageInfo"]["endCursor"]


def test_cursor_pages_are_compiled_and_identical(
    pair: Pair, capsys: pytest.CaptureFixture[str]
) -> None:
    """``after`` cursors: every page of root and nested lists the same on both paths, with
    hasPreviousPage from the probe. (On SQLite a cursor below another page is not compiled:
    ``sqlite_can_parse``.)"""
    for root, path in CURSOR_WALKS:
        query = f"query($after: String) {{ {root} {CONNECTION_SELECTION} }}"
        pages, compiled = _walk(pair, query, path)
        assert pages > 2 and compiled == pages, root
    for body, path in NESTED_WALKS:
        pages, compiled = _walk(pair, f"query($after: String) {body}", path)
        assert pages > 1 and compiled == pages  # below an object: no page above the cursor
    _report(pair, capsys, "cursors")


def test_deep_operations_are_compiled_where_the_database_takes_them(pair: Pair) -> None:
    for query, variables in DEEP:
        assert pair.check("deep", query, variables) == (backend_name() == "postgresql")


# -- generated operations -------------------------------------------------------------------------

#: What the compiler covers: the "compiled part" half is generated from the schema without
#: any other field, argument or filter member.
COMPILED_FIELDS = {
    "Query": {"work", "works", "person", "people", "directors", "theme", "themes"},
    "Work": {
        "id",
        "slug",
        "title",
        "originalTitle",
        "kind",
        "year",
        "synopsis",
        "alternativeTitles",
        "directors",
        "themes",
    },
    "Person": {"id", "slug", "name", "originalName", "biography", "alternativeNames", "works"},
    "Theme": {"id", "slug", "name", "description", "works"},
    "WorkConnection": {"edges", "pageInfo", "nodes", "totalCount"},
}
# `after` is compiled, but a generated cursor is never a valid one: cursors are walked by
# test_cursor_pages_are_compiled_and_identical instead.
NOT_COMPILED_ARGUMENTS = {"after", "before", "last"}
NOT_COMPILED_INPUT_FIELDS = {"WorkFilter": {"search"}, "PersonFilter": {"search"}}


def compiled_part(schema: graphql.GraphQLSchema) -> graphql.GraphQLSchema:
    """The schema without what the compiler does not cover: every operation valid against it
    is valid against the whole schema."""
    pruned = graphql.build_schema(graphql.print_schema(schema))
    for type_name, names in COMPILED_FIELDS.items():
        fields = pruned.type_map[type_name].fields  # type: ignore[union-attr]
        for name in set(fields) - names:
            del fields[name]
    for type_ in pruned.type_map.values():
        if isinstance(type_, graphql.GraphQLObjectType | graphql.GraphQLInterfaceType):
            for field_ in type_.fields.values():
                for name in NOT_COMPILED_ARGUMENTS & set(field_.args):
                    del field_.args[name]
    for type_name, names in NOT_COMPILED_INPUT_FIELDS.items():
        input_fields = pruned.type_map[type_name].fields  # type: ignore[union-attr]
        for name in names & set(input_fields):
            del input_fields[name]
    return graphql.build_schema(graphql.print_schema(pruned))


def _pool(pair: Pair) -> Pool:
    response = pair._post(pair.resolved, {"query": HARVEST})
    data = response.json()["data"]
    pool = Pool()
    for key in ("works", "byYear", "people", "directors", "themes"):
        for edge in data[key]["edges"]:
            pool.cursors.append(edge["cursor"])
            node = edge.get("node")
            if node:
                pool.ids.append(node["id"])
                pool.slugs.append(node["slug"])
                pool.words += [node[n] for n in ("title", "name") if node.get(n)]
    assert pool.ids and pool.slugs and pool.cursors
    return pool


def generated(pool: Pool) -> st.SearchStrategy[str]:
    scalars = scalar_strategies(pool)
    part = compiled_part(SCHEMA)
    roots = sorted(part.query_type.fields) if part.query_type else []
    # queries only: nothing this test sends may write to the shared catalog
    whole = hg.queries(SCHEMA, custom_scalars=scalars)
    compiled = st.one_of(
        hg.queries(part, custom_scalars=scalars),
        *(hg.queries(part, fields=[root], custom_scalars=scalars) for root in roots),
    )
    return st.one_of(whole, whole.map(tidy), compiled, compiled.map(tidy))


def test_generated_operations_answer_the_same(
    pair: Pair, capsys: pytest.CaptureFixture[str]
) -> None:
    operations = generated(_pool(pair))

    def example(data: st.DataObject) -> None:
        query = data.draw(operations, label="query")
        variables = None
        if data.draw(st.booleans(), label="as variables"):
            query, variables = hoist(query)
        pair.check("generated", query, variables)

    run = settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )(given(st.data())(example))
    run()
    tally = _report(pair, capsys, "generated")
    assert tally.operations >= EXAMPLES
    assert tally.compiled >= MIN_COMPILED_SHARE * tally.operations, tally
    assert tally.fell_back > 0  # the fallback is exercised too
