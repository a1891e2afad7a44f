"""Typed titles and names on the compiled read path (gql/compiled, ``Forms``): stated forms
with their sources, the forms of a record that states none, and the romanizations generated
from Hangul ones (in Python, as the resolvers generate them) — the resolvers' exact bytes, in
one statement per root field whatever the catalog's size."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from graphql import parse
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models as m
from gql.compiled.plan import Forms, Plan, RootObject, plan_operation
from gql.schema import schema
from settings import Settings
from tests.support.client import app_client
from tests.support.factories import build_catalog, wipe
from tests.support.sql import StatementCounter
from tests.support.statements import add_statements

FORM = "__typename text kind language script romanization qualifier generated sources { key }"
EVERY_FORM = f"""{{
  works(first: 100) {{ nodes {{ slug titles {{ {FORM} }} }} }}
  people(first: 100) {{ nodes {{ slug names {{ {FORM} }} }} }}
}}"""
ALIASED = """{ work(slug: "sea-of-blood") {
  titles { g: generated a: sources { title } t: text b: sources { key url } kind }
  directors { names { text romanization } } } }"""


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


async def _same(
    compiled: httpx.AsyncClient, resolved: httpx.AsyncClient, query: str
) -> dict[str, Any]:
    """Both paths' answers, the same bytes; the compiled one's data (it was compiled)."""
    fast = await compiled.post("/graphql", json={"query": query})
    slow = await resolved.post("/graphql", json={"query": query})
    assert fast.status_code == slow.status_code == 200, fast.text
    assert fast.content == slow.content  # key order too
    assert fast.headers.get("X-Execution") == "compiled"
    body: dict[str, Any] = fast.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


@pytest.mark.parametrize("query", [EVERY_FORM, ALIASED], ids=["every-form", "aliased"])
async def test_the_seeded_catalogs_titles_and_names_are_compiled(
    compiled: httpx.AsyncClient, resolved: httpx.AsyncClient, query: str
) -> None:
    data = await _same(compiled, resolved, query)
    if query == EVERY_FORM:
        titles = [t for w in data["works"]["nodes"] for t in w["titles"]]
        names = [n for p in data["people"]["nodes"] for n in p["names"]]
        for forms in (titles, names):  # both kinds of form, stated and generated, are there
            assert {f["generated"] for f in forms} == {True, False}
            assert all(f["sources"] == [] for f in forms if f["generated"])
            assert any(f["sources"] for f in forms if not f["generated"])


async def test_a_record_without_stated_forms_is_compiled_from_its_fields(
    compiled: httpx.AsyncClient, resolved: httpx.AsyncClient, session: AsyncSession
) -> None:
    """The format before issue #22: forms read off the fields, each with the sources its
    field cites (in position, then source order), and the romanizations of the Hangul ones."""
    await wipe(session)
    built = await build_catalog(session, 2)
    await session.execute(insert(m.Source), [{"id": 7, "key": "seven", "title": "7", "url": None}])
    work, person = built.work_ids[0], built.director_ids[0]
    await session.execute(update(m.Work).where(m.Work.id == work).values(original_title="혈해"))
    await session.execute(
        update(m.Person).where(m.Person.id == person).values(original_name="최익규")
    )
    await session.execute(
        insert(m.WorkAlternativeTitle),
        [
            {"work_id": work, "position": 0, "title": "피바다"},
            {"work_id": work, "position": 1, "title": "Hyeolhae"},  # RR of 혈해, stated
        ],
    )
    cited = [("alternativeTitles", 7, 1), ("alternativeTitles", 100_000, 0), ("title", 7, 0)]
    await session.execute(
        insert(m.WorkFieldSource),
        [{"work_id": work, "field": f, "source_id": s, "position": p} for f, s, p in cited],
    )
    await session.execute(
        insert(m.PersonFieldSource),
        [{"person_id": person, "field": "originalName", "source_id": 7, "position": 0}],
    )
    await session.flush()
    data = await _same(compiled, resolved, EVERY_FORM)
    titles = next(w["titles"] for w in data["works"]["nodes"] if w["slug"] == "work-0-0")
    assert [(t["text"], t["kind"], t["script"], t["generated"]) for t in titles] == [
        ("Work 0000-00", "MAIN", None, False),
        ("혈해", "ORIGINAL", "Hang", False),
        ("피바다", "ALTERNATIVE", "Hang", False),
        ("Hyeolhae", "ALTERNATIVE", None, False),
        ("Hyŏrhae", "TRANSLITERATION", "Latn", True),  # RR is stated: only MR generated
        ("Pibada", "TRANSLITERATION", "Latn", True),
        ("P'ibada", "TRANSLITERATION", "Latn", True),
    ]
    assert [s["key"] for s in titles[2]["sources"]] == ["synthetic", "seven"]
    assert [s["key"] for s in titles[0]["sources"]] == ["seven"]
    assert titles[1]["sources"] == []  # its field cites nothing
    names = next(p["names"] for p in data["people"]["nodes"] if p["slug"] == "person-0")
    assert [(n["text"], n["generated"]) for n in names] == [
        ("Director 0000", False),
        ("최익규", False),
        ("Choe Ik-gyu", True),
        ("Ch'oe Ik-kyu", True),
    ]
    assert names[1]["sources"] == [{"key": "seven"}]


PAGE_WITH_TITLES = (
    "{ works(first: 50) { nodes { title titles { text generated sources { key } } directors {"
    " names { text romanization } } } } }"
)
PERSON_WITH_NAMES = (
    '{ person(slug: "person-1") { names { text sources { key } } works(first: 5) {'
    " nodes { titles { text } } } } }"
)


@pytest.mark.parametrize("query", [PAGE_WITH_TITLES, PERSON_WITH_NAMES], ids=["works", "person"])
async def test_titles_and_names_take_no_statement_of_their_own(
    compiled: httpx.AsyncClient,
    session: AsyncSession,
    statements: StatementCounter,
    query: str,
) -> None:
    """A page of works with their titles and their directors' names is one statement, at 5
    directors as at 300 (the fast lane's count: the request was seen before)."""
    counts, answers = [], []
    for size in (5, 300):
        await wipe(session)
        await add_statements(session, await build_catalog(session, size))
        for _ in range(2):  # the first request plans it, the second takes the fast lane
            statements.reset()
            response = await compiled.post("/graphql", json={"query": query})
            assert response.headers.get("X-Execution") == "compiled", response.text
        counts.append(statements.count)
        answers.append(response.json()["data"])
    assert counts == [1, 1], statements.statements
    if query == PAGE_WITH_TITLES:  # (person-1 is the same in both catalogs)
        assert answers[0] != answers[1]  # the two catalogs really differ
        assert any(t["generated"] for w in answers[1]["works"]["nodes"] for t in w["titles"])


def _plan(query: str, *, sqlite: bool = False) -> Plan | None:
    return plan_operation(
        schema._schema,
        parse(query),
        None,
        None,
        default_page_size=20,
        max_page_size=100,
        sqlite=sqlite,
    )


def test_titles_are_planned_as_forms() -> None:
    plan = _plan('{ work(slug: "x") { titles { text sources { key } s: sources { title } } } }')
    assert plan is not None
    root = plan.roots[0][1]
    assert isinstance(root, RootObject)
    forms = root.node.fields[0][1]
    assert isinstance(forms, Forms) and forms.kind == "work_titles"
    assert len(forms.sources) == 2


def test_forms_nested_past_what_sqlite_parses_are_declined_there() -> None:
    """Forms and their sources count as lists (``sqlite_can_parse``)."""
    deep = '{ work(slug: "x") { credits { person { names { sources { key } } } } } }'
    assert _plan(deep) is not None
    assert _plan(deep, sqlite=True) is None
    assert _plan('{ work(slug: "x") { directors { names { sources { key } } } } }', sqlite=True)


#: At SQLite's limits (``sqlite_can_parse``: 2 pages on a path, 3 lists in all) with forms.
DEEPEST_FORMS = [
    "{ people(first: 2) { nodes { works(first: 2) { nodes { titles { text } } } } } }",
    '{ work(slug: "x") { directors { names { sources { key } } } } }',
    '{ work(slug: "x") { credits { person { names { text } } } } }',
    "{ works(first: 2) { nodes { titles { sources { key } } directors { names { text } } } } }",
    '{ nodes(ids: ["V29yazox"]) { ... on Work { titles { sources { key } } } } }',
]


@pytest.mark.parametrize("query", DEEPEST_FORMS)
def test_what_the_planner_lets_through_with_forms_parses_on_sqlite(query: str) -> None:
    """Over an empty database, SQLite's error is "no such table" only once the statement has
    parsed (not "parser stack overflow")."""
    import sqlite3

    from sqlalchemy.dialects import sqlite

    from gql.compiled import statement, statement_source

    plan = _plan(query, sqlite=True)
    assert plan is not None
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
        with pytest.raises(sqlite3.OperationalError, match="no such table"):
            sqlite3.connect(":memory:").execute(sql, [None] * sql.count("?"))
