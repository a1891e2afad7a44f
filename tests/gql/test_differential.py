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

import asyncio
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import graphql
import httpx
import hypothesis_graphql as hg
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from cli import _run as cli_run
from db import models as m
from db.engine import engine_from_settings, session_factory
from settings import Settings
from tests.support.client import app_client, asgi_client, make_app
from tests.support.curation import SAMPLES, Curator
from tests.support.databases import Databases, backend_name, curator_token
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

    def _post(
        self,
        client: httpx.AsyncClient,
        payload: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        return self.portal.call(lambda: client.post("/graphql", json=payload, headers=headers))

    def check(
        self,
        suite: str,
        query: str,
        variables: Any = None,
        headers: dict[str, str] | None = None,
    ) -> bool:
        """Send the operation to both apps (with ``headers``: an editor's token); fail unless
        they answer the same bytes. Whether the compiled app compiled it."""
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        fast = self._post(self.compiled, payload, headers)
        slow = self._post(self.resolved, payload, headers)
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


#: The example operations (GraphiQL's tabs) the compiled path answers: all of them, search (03)
#: included.
COMPILED_EXAMPLES = [True, True, True, True, True, True]


def test_the_readme_and_the_example_operations(
    pair: Pair, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = [(query, None) for query, _answer in readme_examples()]
    examples = example_operations()
    assert len(readme) + len(examples) >= 7
    readme_compiled = [pair.check("readme+examples", query, v) for query, v in readme]
    compiled = [pair.check("readme+examples", query, v) for query, v in examples]
    _report(pair, capsys, "readme+examples")
    assert all(readme_compiled)
    assert compiled == COMPILED_EXAMPLES


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
    (
        '{ work(slug: "sea-of-blood") { version credits { role position note qualifier'
        " episodes { first last } person { name } work { slug } sources { key title url } }"
        " sources { url } externalIds { system value url } disputes { field stated reported"
        " note qualifier source { key } reportedPeople { slug } } related { type work { slug }"
        " sources { key } } basedOn { title form sources { key } } forms audience"
        " attributions { field sources { key url } } } }",
        None,
    ),
    (
        '{ work(slug: "boy-commander") { parts { unit first last title label events { kind'
        " date { year month day precision text } until { text } } sources { key } } events {"
        " kind date { text } place } studios { role studio { slug name } sources { key } } } }",
        None,
    ),
    (
        "{ people(first: 20) { nodes { version credits { role work { slug year } episodes {"
        " first } } externalIds { url } sources { key } reported { role work { slug } person {"
        " slug } dispute { field } sources { key } } attributions { field sources { key } } } } }",
        None,
    ),
    (
        'query($ids: [ID!]!) { node(id: "V29yazox") { __typename id ... on Work { title } }'
        " nodes(ids: $ids) { __typename ... on Person { name } ... on Theme { name } } }",
        {"ids": ["UGVyc29uOjE=", "VGhlbWU6MQ==", "V29yazoxMDAwMDA="]},
    ),
    (
        "{ studios(first: 5) { totalCount nodes { id name originalName sources { key }"
        " works(first: 2) { totalCount nodes { slug } } } } }",
        None,
    ),
    (
        "{ works(last: 3) { pageInfo { hasNextPage hasPreviousPage } nodes { slug } }"
        " themes(last: 2) { edges { cursor } } a: directors(last: 100) { totalCount } }",
        None,
    ),
    # search: whole names, name starts, substrings, prose, typos (similarity), Hangul, and the
    # cut across kinds (first below the hits found)
    (
        "query($q: String!, $n: Int) { searchHits(query: $q, first: $n) { __typename score"
        " matchedText node { __typename ... on Work { id slug title year directors { name } }"
        " ... on Person { slug name works(first: 2) { totalCount nodes { slug } } }"
        " ... on Theme { slug name } } other: node { ... on Node { id } } } }",
        {"q": "kim", "n": 20},
    ),
    (
        '{ a: searchHits(query: "sea of blod") { score matchedText node { __typename } }'
        ' b: searchHits(query: "revolutionary", first: 1) { matchedText score }'
        ' c: searchHits(query: "피바다") { matchedText node { ... on Work { originalTitle } } }'
        ' d: searchHits(query: "choe ik gyu", first: 3) { score } }',
        None,
    ),
    (
        '{ search(query: "kim", first: 3) { __typename ... on Person { slug credits { role } }'
        ' ... on Work { slug } } flower: search(query: "flower") { ... on Work { title'
        ' themes { name } alternativeTitles } } none: search(query: "!!!") { __typename }'
        ' zero: search(query: "kim", first: 0) { __typename }'
        ' nothing: searchHits(query: "daughter") { score } }',
        None,
    ),
    # a search filter on lists: pages, counts, facets, cursors, nested lists, other conditions
    (
        '{ works(filter: {search: "blood"}) { totalCount nodes { slug } facets { kinds {'
        " kind count } decades { decade count } themes(first: 3) { count theme { slug } } } }"
        ' a: works(first: 1, filter: {search: "sea of blod", kinds: [FILM]}) { totalCount'
        " pageInfo { hasNextPage endCursor } edges { cursor node { title } } }"
        ' b: works(filter: {search: "kim", yearFrom: 1970}, orderBy: [{field: YEAR}]) {'
        " totalCount nodes { slug year } }"
        ' c: works(filter: {search: "   "}) { totalCount } d: works(filter: {search: "!!!"}) {'
        " totalCount nodes { slug } } }",
        None,
    ),
    (
        '{ people(first: 5, filter: {search: "kim"}) { totalCount nodes { slug } }'
        ' a: people(filter: {search: "choe ik gyu", role: DIRECTOR}, last: 1) { nodes { slug } }'
        ' theme(slug: "revolution") { works(filter: {search: "flower"}) { totalCount nodes {'
        " slug } } } }",
        None,
    ),
    (
        "{ works(first: 10) { nodes { titles { text kind generated language script"
        " romanization qualifier sources { key } } directors { names { text generated"
        " } } } } people(first: 15) { nodes { names { __typename text s: sources { title }"
        " kind qualifier } } } }",
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
    (  # a list with a search condition counts as two pages on SQLite
        '{ people(first: 4, filter: {search: "kim"}) { nodes { slug works(first: 2,'
        ' filter: {search: "sea of blod"}) { totalCount nodes { slug } } } } }',
        None,
    ),
    (
        '{ searchHits(query: "kim", first: 5) { node { ... on Person { works(first: 2,'
        ' filter: {search: "sea"}) { totalCount nodes { slug } } } } } }',
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
CURSOR_WALKS: list[tuple[str, tuple[str | int, ...]]] = [
    ("works(first: 3, after: $after)", ("works",)),
    (
        "works(first: 4, after: $after, orderBy: [{field: YEAR, direction: DESC}],"
        " filter: {kinds: [FILM, SERIES]})",
        ("works",),
    ),
    ("directors(first: 2, after: $after)", ("directors",)),
    ("themes(first: 3, after: $after)", ("themes",)),
    ("studios(first: 1, after: $after)", ("studios",)),
]
#: The same lists walked backward from their end with `before` cursors.
BACKWARD_WALKS: list[tuple[str, tuple[str, ...]]] = [
    ("works(last: 3, before: $before)", ("works",)),
    (
        "works(last: 4, before: $before, orderBy: [{field: YEAR, direction: DESC}],"
        " filter: {kinds: [FILM, SERIES]})",
        ("works",),
    ),
    ("directors(last: 2, before: $before)", ("directors",)),
    ("themes(last: 5, before: $before)", ("themes",)),
]
CONNECTION_SELECTION = (
    "{ totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
    " edges { cursor node { __typename id } } }"
)
NESTED_WALKS: list[tuple[str, tuple[str | int, ...]]] = [
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
    (  # below another page: every director's page past the same cursor
        "{ directors(first: 100) { nodes { works(role: DIRECTOR, first: 1, after: $after)"
        f" {CONNECTION_SELECTION} }} }} }}",
        ("directors", "nodes", 0, "works"),
    ),
]


def _walk(pair: Pair, query: str, path: tuple[str | int, ...]) -> tuple[int, int]:
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
    hasPreviousPage from the probe, below an object and below another page."""
    for root, path in CURSOR_WALKS:
        query = f"query($after: String) {{ {root} {CONNECTION_SELECTION} }}"
        pages, compiled = _walk(pair, query, path)
        assert pages >= 2 and compiled == pages, root  # 2 studios
    for body, path in NESTED_WALKS:
        pages, compiled = _walk(pair, f"query($after: String) {body}", path)
        assert pages > 1 and compiled == pages  # below an object: no page above the cursor
    _report(pair, capsys, "cursors")


def test_backward_pages_are_compiled_and_identical(
    pair: Pair, capsys: pytest.CaptureFixture[str]
) -> None:
    """``last``/``before``: every page from the list's end to its start the same on both
    paths, with hasNextPage from the probe."""
    for root, path in BACKWARD_WALKS:
        query = f"query($before: String) {{ {root} {CONNECTION_SELECTION} }}"
        before: str | None = None
        pages = compiled = 0
        while True:
            compiled += pair.check("backward", query, {"before": before})
            pages += 1
            answer = pair._post(pair.resolved, {"query": query, "variables": {"before": before}})
            connection = answer.json()["data"]
            for key in path:
                connection = connection[key]
            assert pages < 100, "the walk does not end"
            if not connection["pageInfo"]["hasPreviousPage"]:
                break
            before = connection["pageInfo"]["startCursor"]
        assert pages > 1 and compiled == pages, root
    _report(pair, capsys, "backward")


def test_deep_operations_are_compiled_where_the_database_takes_them(pair: Pair) -> None:
    for query, variables in DEEP:
        assert pair.check("deep", query, variables) == (backend_name() == "postgresql")


# -- generated operations -------------------------------------------------------------------------

#: What the compiler covers: the "compiled part" half is generated from the schema without
#: any other field, argument or filter member.
COMPILED_FIELDS = {
    "Query": {
        "node",
        "nodes",
        "work",
        "works",
        "person",
        "people",
        "directors",
        "theme",
        "themes",
        "studio",
        "studios",
        "workByExternalId",
        "personByExternalId",
        "search",
        "searchHits",
        "changes",  # an editor's: compiled with an editor's token (else refused, not compiled)
    },
    "Work": {
        "id",
        "slug",
        "title",
        "originalTitle",
        "kind",
        "year",
        "synopsis",
        "version",
        "alternativeTitles",
        "directors",
        "credits",
        "themes",
        "related",
        "sources",
        "disputes",
        "externalIds",
        "forms",
        "audience",
        "parts",
        "events",
        "studios",
        "basedOn",
        "attributions",
        "similar",
        "titles",
    },
    "Person": {
        "id",
        "slug",
        "name",
        "originalName",
        "biography",
        "version",
        "alternativeNames",
        "reported",
        "credits",
        "works",
        "sources",
        "externalIds",
        "attributions",
        "names",
    },
    "Theme": {"id", "slug", "name", "description", "version", "works"},
    "Studio": {"id", "slug", "name", "originalName", "sources", "works"},
    "WorkConnection": {"edges", "pageInfo", "nodes", "totalCount", "facets"},
}
# `after` and `before` are compiled, but a generated cursor is never a valid one: cursors are
# walked by test_cursor_pages_are_compiled_and_identical and its backward twin instead.
NOT_COMPILED_ARGUMENTS = {"after", "before"}
NOT_COMPILED_INPUT_FIELDS: dict[str, set[str]] = {}


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
    pair: Pair,
    wide_pair: Pair,
    audited: Audited,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Generated operations; half of those reading the audit trail sent with an editor's
    token, to the catalog that has one (the others are refused the same on both paths)."""
    operations = generated(_pool(pair))

    def example(data: st.DataObject) -> None:
        query = data.draw(operations, label="query")
        variables = None
        if data.draw(st.booleans(), label="as variables"):
            query, variables = hoist(query)
        if "changes" in query and data.draw(st.booleans(), label="as an editor"):
            wide_pair.check("generated, an editor's", query, variables, audited.editor)
            return
        pair.check("generated", query, variables)

    run = settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )(given(st.data())(example))
    run()
    tally = _report(pair, capsys, "generated")
    editors = _report(wide_pair, capsys, "generated, an editor's")
    assert editors.compiled > 0
    tally.operations += editors.operations
    assert tally.operations >= EXAMPLES
    assert tally.compiled >= MIN_COMPILED_SHARE * tally.operations, tally
    assert tally.fell_back > 0  # the fallback is exercised too


# -- every field of the read schema ---------------------------------------------------------------

#: Issue #23's target: at least 99% of the read schema's fields answered by the compiled path.
TARGET_COMPILED_SHARE = 0.99
#: A ratchet below that target: the share this test has measured on both databases (the lower
#: of the two). Raise it as the compiler covers more; never lower it.
COMPILED_SHARE_FLOOR = 1.0  # 199 of 199 fields, on SQLite and PostgreSQL (2026-12-06)
#: The fields that fall back today (on SQLite or PostgreSQL): a ratchet too, to shrink as the
#: compiler grows. A field added to the schema later without a compiled form is not listed, so
#: the test fails naming it.
FALLING_BACK: frozenset[str] = frozenset()

#: How each node type is reached (``@``: where the selection goes): every record of the bundled
#: catalog at once (it holds 10 works and 15 people), so that the fields below them are checked
#: against all their values; a studio by its slug (``studios`` is not compiled).
ENTRIES = {
    "Work": "works(first: 100) { nodes { @ } }",
    "Person": "people(first: 100) { nodes { @ } }",
    "Theme": "themes(first: 100) { nodes { @ } }",
    "Studio": "studios(first: 100) { nodes { @ } }",
}
NESTED_FIRST = 3  # `first` of a list on the way to a field
TESTED_FIRST = 2  # `first` of a list field under test


@dataclass(frozen=True)
class Catalog:
    """Real values from the bundled catalog for the arguments of the generated operations."""

    work_slug: str
    person_slug: str
    theme_slug: str
    studio_slug: str
    ids: tuple[str, ...]  # a work's, a person's, a theme's and a studio's global ID
    work_external: tuple[str, str]  # (system, value)
    person_external: tuple[str, str]


def harvest(pair: Pair) -> Catalog:
    query = (
        "{ works(first: 100) { nodes { id slug externalIds { system value } } }"
        " people(first: 100) { nodes { id slug externalIds { system value } } }"
        " themes(first: 1) { nodes { id slug } } studios(first: 1) { nodes { id slug } } }"
    )
    data = pair._post(pair.resolved, {"query": query}).json()["data"]
    works, people = data["works"]["nodes"], data["people"]["nodes"]
    theme, studio = data["themes"]["nodes"][0], data["studios"]["nodes"][0]

    def external(records: list[dict[str, Any]]) -> tuple[dict[str, Any], tuple[str, str]]:
        """A record with an identifier, and it (else the first, and one naming nobody)."""
        record = next((r for r in records if r["externalIds"]), records[0])
        if not record["externalIds"]:
            return record, ("WIKIDATA", "Q1")
        first = record["externalIds"][0]
        return record, (first["system"], first["value"])

    work, work_external = external(works)
    person, person_external = external(people)
    assert work["externalIds"]  # the seed has some: a lookup that finds one
    return Catalog(
        work["slug"],
        person["slug"],
        theme["slug"],
        studio["slug"],
        (work["id"], person["id"], theme["id"], studio["id"]),
        work_external,
        person_external,
    )


@dataclass(frozen=True)
class EnumValue:
    name: str


def _named(type_: graphql.GraphQLType) -> graphql.GraphQLNamedType:
    return graphql.get_named_type(type_)  # type: ignore[return-value]


def _literal(value: Any) -> str:
    """A GraphQL literal of a str, int, bool, enum value or list of them."""
    if isinstance(value, EnumValue):
        return value.name
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return json.dumps(value)


def _arguments(coordinate: str, field_: graphql.GraphQLField, catalog: Catalog, first: int) -> str:
    """Representative arguments: ``first`` for lists, real values for required ones."""
    given: dict[str, Any] = {}
    for name, argument in field_.args.items():
        if name == "first":
            given[name] = first
            continue
        if not graphql.is_required_argument(argument):
            continue
        named = _named(argument.type)
        if coordinate in ("Query.workByExternalId", "Query.personByExternalId"):
            system, value = (
                catalog.work_external if "work" in coordinate else catalog.person_external
            )
            given.update(system=EnumValue(system), value=value)
        elif name == "slug":
            given[name] = {
                "Work": catalog.work_slug,
                "Person": catalog.person_slug,
                "Theme": catalog.theme_slug,
                "Studio": catalog.studio_slug,
            }[_named(field_.type).name]
        elif name == "id":
            given[name] = catalog.ids[0]
        elif name == "ids":
            given[name] = list(catalog.ids)
        elif name == "query":
            given[name] = "sea"
        elif isinstance(named, graphql.GraphQLEnumType):
            given[name] = EnumValue(next(iter(named.values)))
        elif named.name == "Int":
            given[name] = 1
        elif named.name == "Boolean":
            given[name] = True
        else:
            given[name] = "x"
    if not given:
        return ""
    return "(" + ", ".join(f"{k}: {_literal(v)}" for k, v in given.items()) + ")"


def _leaves(type_: graphql.GraphQLNamedType) -> str:
    """A selection of the type: ``__typename`` and its leaf fields without required arguments."""
    if not isinstance(type_, graphql.GraphQLObjectType | graphql.GraphQLInterfaceType):
        return "{ __typename }"
    names = [
        name
        for name, field_ in type_.fields.items()
        if graphql.is_leaf_type(_named(field_.type))
        and not any(graphql.is_required_argument(a) for a in field_.args.values())
    ]
    return "{ " + " ".join(["__typename", *names]) + " }"


def _call(coordinate: str, field_: graphql.GraphQLField, catalog: Catalog, first: int) -> str:
    return coordinate.split(".")[1] + _arguments(coordinate, field_, catalog, first)


def field_operations(schema: graphql.GraphQLSchema, catalog: Catalog) -> dict[str, str]:
    """One operation per field of every object type the Query reaches (``Type.field`` ->
    document): the shortest way to an object of the type (from ``ENTRIES``, else from the
    root field returning it, then breadth first), selecting the field with representative
    arguments and, below it, its leaf fields."""
    query_type = schema.query_type
    assert query_type is not None
    studio = _literal(catalog.studio_slug)
    ways = {name: way.replace("$studio", studio) for name, way in ENTRIES.items()}
    for name, field_ in query_type.fields.items():
        named = _named(field_.type)
        if isinstance(named, graphql.GraphQLObjectType) and named.name not in ways:
            ways[named.name] = _call(f"Query.{name}", field_, catalog, NESTED_FIRST) + " { @ }"
    queue = list(ways)
    while queue:
        type_name = queue.pop(0)
        owner = schema.type_map[type_name]
        assert isinstance(owner, graphql.GraphQLObjectType)
        for name, field_ in owner.fields.items():
            named = _named(field_.type)
            if not isinstance(named, graphql.GraphQLObjectType) or named.name in ways:
                continue
            call = _call(f"{type_name}.{name}", field_, catalog, NESTED_FIRST)
            ways[named.name] = ways[type_name].replace("@", call + " { @ }")
            queue.append(named.name)
    operations: dict[str, str] = {}
    for name, field_ in query_type.fields.items():
        coordinate = f"Query.{name}"
        named = _named(field_.type)
        below = "" if graphql.is_leaf_type(named) else " " + _leaves(named)
        operations[coordinate] = "{ " + _call(coordinate, field_, catalog, 5) + below + " }"
    for type_name, way in sorted(ways.items()):
        owner = schema.type_map[type_name]
        assert isinstance(owner, graphql.GraphQLObjectType)
        for name, field_ in owner.fields.items():
            coordinate = f"{type_name}.{name}"
            named = _named(field_.type)
            below = "" if graphql.is_leaf_type(named) else " " + _leaves(named)
            selected = _call(coordinate, field_, catalog, TESTED_FIRST) + below
            operations[coordinate] = "{ " + way.replace("@", selected) + " }"
    return operations


#: Mutations (``tests.support.curation.SAMPLES``) that each leave an entry in the audit trail
#: of the catalog ``wide_pair`` reads, and can run one after another (no two on one record's
#: version; nothing deleted, so every other field keeps the bundled catalog's values).
AUDITED_MUTATIONS = (
    "createWork",
    "updateWork",
    "createPerson",
    "updatePerson",
    "createTheme",
    "updateTheme",
    "createSource",
)


@dataclass(frozen=True)
class Audited:
    url: str
    editor: dict[str, str]  # the headers of a request with an editor's token


async def _curate(url: str, token: str) -> None:
    async with app_client(Settings(database_url=url), lifespan=True) as client:
        curator = Curator(client, token)
        for name in AUDITED_MUTATIONS:
            query, variables = SAMPLES[name]
            answer = await curator(query, variables)
            assert "errors" not in answer, answer
            assert not answer["data"][name].get("userErrors"), answer


async def _odd_changes(engine: AsyncEngine) -> None:
    """Entries no mutation writes: a deletion's, and values at the edges of JSON and time
    (a whole second, another time zone, big and fractional numbers, non-ASCII text)."""
    document = {"title": 'Ŏ 한글 "q"', "n": 2**70, "x": 1.5e300, "y": 0.1, "z": [1, None, True]}
    async with session_factory(engine)() as session, session.begin():
        session.add_all(
            [
                m.Change(
                    at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
                    actor="odd",
                    operation="deleteWork",
                    subject_type="work",
                    subject_slug="gone",
                    before=json.dumps(document, ensure_ascii=False),
                    after=None,
                ),
                m.Change(
                    at=datetime(
                        1999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=9))
                    ),
                    actor="odd",
                    operation="updateWork",
                    subject_type="work",
                    subject_slug="pulgasari",
                    source_key="seed-document",
                    before="{}",
                    after="[]",
                ),
            ]
        )


@pytest.fixture(scope="module")
def audited(databases: Databases) -> Audited:
    """A seeded catalog of this module's own with an audit trail (``changes`` is an editor's:
    read with an editor's token), written by mutations and by ``_odd_changes``."""
    url = databases.create_seeded()
    token = curator_token(url, "differential")
    asyncio.run(_curate(url, token))
    cli_run(_odd_changes, url)
    return Audited(url, {"Authorization": f"Bearer {token}"})


@pytest.fixture(scope="module")
def wide_pair(audited: Audited) -> Iterator[Pair]:
    """``pair`` without the cost limit (each operation reads every record of a type at once),
    over the catalog with an audit trail."""
    with start_blocking_portal() as portal:
        clients, engines = [], []
        for compiled in (True, False):
            configuration = Settings(
                database_url=audited.url,
                compiled=compiled,
                response_cache_entries=0,
                max_cost=10**9,
            )
            engine = portal.call(engine_from_settings, configuration)
            clients.append(asgi_client(make_app(configuration, engine=engine)))
            engines.append(engine)
        try:
            yield Pair(portal, clients[0], clients[1])
        finally:
            for client, engine in zip(clients, engines, strict=True):
                portal.call(client.aclose)
                portal.call(engine.dispose)


def _editor_asks(query: str, audited: Audited) -> dict[str, str] | None:
    """An editor's headers for an operation reading the audit trail (else none)."""
    return audited.editor if "changes" in query else None


def test_every_field_of_the_read_schema(
    wide_pair: Pair, audited: Audited, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue #23, item 2: an operation per field of the read schema, each answered the same
    by both paths (the audit trail's with an editor's token); the compiled share printed,
    with the fields that fell back."""
    operations = field_operations(SCHEMA, harvest(wide_pair))
    fell_back = sorted(
        coordinate
        for coordinate, query in operations.items()
        if not wide_pair.check("every field", query, headers=_editor_asks(query, audited))
    )
    share = 1 - len(fell_back) / len(operations)
    with capsys.disabled():
        print(
            f"\nevery field ({backend_name()}): {len(operations)} fields, "
            f"{len(operations) - len(fell_back)} compiled ({share:.1%}; target "
            f"{TARGET_COMPILED_SHARE:.0%}); fell back: {', '.join(fell_back)}"
        )
        now_compiled = sorted(FALLING_BACK & (set(operations) - set(fell_back)))
        if now_compiled:
            print(f"compiled now, to drop from FALLING_BACK: {', '.join(now_compiled)}")
    unexpected = sorted(set(fell_back) - FALLING_BACK)
    assert not unexpected, f"fields without a compiled form: {unexpected}"
    assert share >= COMPILED_SHARE_FLOOR


# -- the audit trail: an editor's ------------------------------------------------------------------

CHANGE_FIELDS = "__typename at actor operation subjectType subjectSlug source before after"
AUDIT_TRAIL: list[tuple[str, Any]] = [
    (f"{{ changes(first: 100) {{ totalCount nodes {{ {CHANGE_FIELDS} }} }} }}", None),
    (
        "query($s: String) { changes(subject: $s) { __typename totalCount pageInfo {"
        f" hasNextPage hasPreviousPage startCursor endCursor }} edges {{ __typename cursor"
        f" node {{ {CHANGE_FIELDS} }} }} }} }}",
        {"s": "pulgasari"},
    ),
    ('{ changes(subject: "no-such-slug", first: 3) { totalCount nodes { at } } }', None),
    ("{ changes(first: 0) { totalCount pageInfo { hasNextPage } edges { cursor } } }", None),
    (
        "query Q { ...T a: changes(last: 2) { nodes { operation } pageInfo { hasPreviousPage"
        " hasNextPage } } works(first: 2) { nodes { slug } } }"
        " fragment T on Query { changes(first: 2) { n: nodes { at a: actor } } }",
        None,
    ),
]
#: Declined for an editor too (the resolvers answer the errors): the fallback must find the
#: request as the resolver path would have (its token not yet read), or the errors of the
#: fields failing side by side come in another order.
AUDIT_DECLINED = (
    '{ workByExternalId(system: IMDB, value: "a-traffic") { audience }'
    " changes(first: 1, last: 1) { totalCount }"
    ' search(query: "sea", first: 1000) { __typename } works(first: 2) { nodes { slug } } }'
)
AUDIT_WALKS = [
    "query($after: String) { changes(first: 2, after: $after) %s }",
    'query($after: String) { changes(first: 1, subject: "pulgasari", after: $after) %s }',
]


def test_the_audit_trail_is_compiled_for_an_editor_and_refused_as_before(
    wide_pair: Pair, audited: Audited, capsys: pytest.CaptureFixture[str]
) -> None:
    """``changes`` with an editor's token: compiled, the same bytes, page by page (forward
    and backward). Without one (no token, an unknown one, not a bearer): the resolvers'
    refusal, the same bytes on both apps, and never compiled."""
    not_compiled = [
        q for q, v in AUDIT_TRAIL if not wide_pair.check("audit trail", q, v, audited.editor)
    ]
    assert not not_compiled
    for _ in range(10):
        assert not wide_pair.check("audit trail declined", AUDIT_DECLINED, None, audited.editor)
    for walk in AUDIT_WALKS:
        query = walk % CONNECTION_SELECTION.replace("__typename id", CHANGE_FIELDS)
        after, pages = None, 0
        while True:
            assert wide_pair.check("audit trail", query, {"after": after}, audited.editor)
            pages += 1
            answer = wide_pair._post(
                wide_pair.resolved, {"query": query, "variables": {"after": after}}, audited.editor
            )
            connection = answer.json()["data"]["changes"]
            if not connection["pageInfo"]["hasNextPage"] or pages > 50:
                break
            after = connection["pageInfo"]["endCursor"]
            backward = "query($b: String) { changes(last: 1, before: $b) { nodes { at } } }"
            assert wide_pair.check("audit trail", backward, {"b": after}, audited.editor)
        assert pages > 1
    refused = [
        None,
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": audited.editor["Authorization"].replace("Bearer", "Basic")},
    ]
    for headers in refused:
        for query, variables in AUDIT_TRAIL:
            assert not wide_pair.check("audit trail refused", query, variables, headers)
    _report(wide_pair, capsys, "audit trail")
