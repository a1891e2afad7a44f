"""Cursor connections: walking forward and backward, per-parent nested pages, bad arguments."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import models as m
from db.catalog_version import bump_catalog_version
from db.enums import WorkKind
from db.text import sort_key
from tests.support.factories import build_catalog, wipe
from tests.support.graphql import GraphQL

PAGE = """query($first: Int, $after: String, $last: Int, $before: String,
               $orderBy: [WorkOrder!], $filter: WorkFilter) {
  works(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy,
        filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { slug title year } }
  }
}"""


async def _walk_forward(gql: GraphQL, size: int, **args: Any) -> list[str]:
    slugs: list[str] = []
    after = None
    first_page = True
    while True:
        page = (await gql(PAGE, {"first": size, "after": after, **args}))["works"]
        info = page["pageInfo"]
        assert info["hasPreviousPage"] == (not first_page)
        slugs += [e["node"]["slug"] for e in page["edges"]]
        if page["edges"]:
            assert info["startCursor"] == page["edges"][0]["cursor"]
            assert info["endCursor"] == page["edges"][-1]["cursor"]
        if not info["hasNextPage"]:
            return slugs
        assert len(page["edges"]) == size
        after, first_page = info["endCursor"], False


async def _walk_backward(gql: GraphQL, size: int, **args: Any) -> list[str]:
    slugs: list[str] = []
    before = None
    last_page = True
    while True:
        page = (await gql(PAGE, {"last": size, "before": before, **args}))["works"]
        info = page["pageInfo"]
        assert info["hasNextPage"] == (not last_page)
        slugs = [e["node"]["slug"] for e in page["edges"]] + slugs
        if not info["hasPreviousPage"]:
            return slugs
        assert len(page["edges"]) == size
        before, last_page = info["startCursor"], False


def _expected(rows: list[dict[str, Any]], order: list[dict[str, str]]) -> list[str]:
    """The order the API promises, computed independently: keys in turn (unknown years last
    in either direction), then id."""

    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        parts: list[Any] = []
        for o in order:
            descending = o["direction"] == "DESC"
            if o["field"] == "TITLE":
                text = sort_key(row["title"])
                parts.append(_Desc(text) if descending else text)
            else:
                year = row["year"]
                parts.append(year is None)
                value = year or 0
                parts.append(-value if descending else value)
        parts.append(row["id"])
        return tuple(parts)

    return [r["slug"] for r in sorted(rows, key=key)]


class _Desc:
    """Reverses the order of strings inside a sort key."""

    def __init__(self, value: str) -> None:
        self.value = value

    def __lt__(self, other: _Desc) -> bool:
        return self.value > other.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.value == other.value


async def _rows(session: AsyncSession, kind: str | None) -> list[dict[str, Any]]:
    query = select(m.Work.id, m.Work.slug, m.Work.title, m.Work.year)
    if kind:
        query = query.where(m.Work.kind == WorkKind(kind))
    return [dict(r._mapping) for r in await session.execute(query)]


orders = st.lists(
    st.fixed_dictionaries(
        {"field": st.sampled_from(["TITLE", "YEAR"]), "direction": st.sampled_from(["ASC", "DESC"])}
    ),
    max_size=2,
    unique_by=lambda o: o["field"],
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(size=st.integers(2, 9), order=orders, kind=st.sampled_from([None, "FILM", "SERIES"]))
async def test_walking_forward_and_backward_yields_the_ordered_filtered_set(
    gql: GraphQL, session: AsyncSession, size: int, order: list[dict[str, str]], kind: str | None
) -> None:
    async with session.begin_nested() as savepoint:
        await wipe(session)
        await build_catalog(session, 12, works_per_director=4)  # duplicate-ish titles, null years
        await _add_twins(session)
        args: dict[str, Any] = {
            "orderBy": order or None,
            "filter": {"kind": kind} if kind else None,
        }
        default = [{"field": "TITLE", "direction": "ASC"}]  # the root list's default order
        expected = _expected(await _rows(session, kind), order or default)
        forward = await _walk_forward(gql, size, **args)
        backward = await _walk_backward(gql, size, **args)
        assert forward == expected
        assert backward == expected
        total = (await gql(PAGE, {"first": 1, **args}))["works"]["totalCount"]
        assert total == len(expected)
        await savepoint.rollback()


async def _add_twins(session: AsyncSession) -> None:
    """Works sharing a title and a year: only the id can order them."""
    await session.execute(
        insert(m.Work),
        [
            {
                "slug": f"twin-{i}",
                "title": "Twin",
                "title_key": sort_key("Twin"),
                "kind": WorkKind.FILM,
                "year": 1970,
                "search_text": "|twin|",
            }
            for i in range(3)
        ],
    )


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    size=st.integers(1, 5), inserts=st.lists(st.text("ABCZ", min_size=1, max_size=3), max_size=6)
)
async def test_inserting_rows_between_pages_never_duplicates_or_skips(
    gql: GraphQL, session: AsyncSession, size: int, inserts: list[str]
) -> None:
    async with session.begin_nested() as savepoint:
        original = [e["node"]["slug"] for e in (await gql(PAGE, {"first": 100}))["works"]["edges"]]
        seen: list[str] = []
        after = None
        pending = list(inserts)
        while True:
            page = (await gql(PAGE, {"first": size, "after": after}))["works"]
            seen += [e["node"]["slug"] for e in page["edges"]]
            if pending:  # a new work lands anywhere in the order, before or after the cursor
                title = pending.pop()
                await session.execute(
                    insert(m.Work).values(
                        slug=f"new-{len(pending)}-{title.lower()}",
                        title=title,
                        title_key=sort_key(title),
                        kind=WorkKind.FILM,
                        search_text="",
                    )
                )
                await bump_catalog_version(session)  # as every write does
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert len(seen) == len(set(seen)), "a row was returned twice"
        assert [s for s in seen if s in original] == original, "a row that existed was skipped"
        await savepoint.rollback()


async def test_nested_pages_are_limited_per_parent(gql: GraphQL, session: AsyncSession) -> None:
    await wipe(session)
    await build_catalog(session, 30)  # director i directs (i % 12) + 1 works
    data = await gql(
        """{ directors(first: 30) { nodes { slug
             works(role: DIRECTOR, first: 3) { totalCount pageInfo { hasNextPage endCursor }
               nodes { slug } } } } }"""
    )
    for director in data["directors"]["nodes"]:
        own = await gql(
            "query($slug: String!) { person(slug: $slug) { works(role: DIRECTOR, first: 100) {"
            " nodes { slug } } } }",
            {"slug": director["slug"]},
        )
        all_works = [w["slug"] for w in own["person"]["works"]["nodes"]]
        works = director["works"]
        assert [w["slug"] for w in works["nodes"]] == all_works[:3]
        assert works["totalCount"] == len(all_works)
        assert works["pageInfo"]["hasNextPage"] == (len(all_works) > 3)


async def test_nested_cursors_page_each_parent_onwards(gql: GraphQL) -> None:
    query = """query($after: String) { person(slug: "choe-ik-kyu") {
        works(role: DIRECTOR, first: 1, after: $after) {
          pageInfo { hasNextPage hasPreviousPage endCursor } nodes { title } } } }"""
    titles, after, previous = [], None, []
    while True:
        works = (await gql(query, {"after": after}))["person"]["works"]
        titles += [w["title"] for w in works["nodes"]]
        previous.append(works["pageInfo"]["hasPreviousPage"])
        if not works["pageInfo"]["hasNextPage"]:
            break
        after = works["pageInfo"]["endCursor"]
    assert titles == ["The Flower Girl", "The Country I Saw", "A Traffic Controller on Crossroads"]
    assert previous == [False, True, True]


async def test_theme_works_backward(gql: GraphQL) -> None:
    data = await gql(
        '{ theme(slug: "japanese-occupation") { works(last: 2) {'
        " pageInfo { hasNextPage hasPreviousPage } nodes { year } } } }"
    )
    works = data["theme"]["works"]
    assert works["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": True}
    assert [w["year"] for w in works["nodes"]] == [1972, 1987]


def _cursor(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


FOREIGN_TYPES = _cursor(["works|title:a,id:a", ["x", "1"]])  # right tag, id is a string


async def test_bad_page_arguments_are_clear_errors(gql: GraphQL) -> None:
    people_cursor = (await gql("{ people(first: 1) { pageInfo { endCursor } } }"))["people"][
        "pageInfo"
    ]["endCursor"]
    title_cursor = (await gql("{ works(first: 1) { pageInfo { endCursor } } }"))["works"][
        "pageInfo"
    ]["endCursor"]
    cases = [
        ("{ works(first: 101) { totalCount } }", "PAGE_SIZE_EXCEEDED"),
        ("{ works(last: 1000) { totalCount } }", "PAGE_SIZE_EXCEEDED"),
        ("{ directors { nodes { works(first: 500) { totalCount } } } }", "PAGE_SIZE_EXCEEDED"),
        ("{ works(first: -1) { totalCount } }", "BAD_USER_INPUT"),
        ("{ works(first: 1, last: 1) { totalCount } }", "BAD_USER_INPUT"),
        ('{ works(after: "not a cursor") { totalCount } }', "INVALID_CURSOR"),
        (f'{{ works(after: "{people_cursor}") {{ totalCount }} }}', "INVALID_CURSOR"),
        (
            f'{{ works(after: "{title_cursor}", orderBy: [{{field: YEAR}}]) {{ totalCount }} }}',
            "INVALID_CURSOR",
        ),
        (
            f'{{ works(before: "{FOREIGN_TYPES}") {{ totalCount }} }}',
            "INVALID_CURSOR",
        ),
        (
            f'{{ works(after: "{_cursor(["works|title:a,id:a", ["x"]])}") {{ totalCount }} }}',
            "INVALID_CURSOR",
        ),
        ("{ works(orderBy: [{field: TITLE}, {field: TITLE}]) { totalCount } }", "BAD_USER_INPUT"),
    ]
    for query, code in cases:
        assert await gql.error_codes(query) == [code], query


async def test_page_size_limit_names_the_maximum(gql: GraphQL) -> None:
    (error,) = await gql.errors("{ works(first: 101) { totalCount } }")
    assert error["extensions"] == {
        "code": "PAGE_SIZE_EXCEEDED",
        "argument": "first",
        "maximum": 100,
    }
    assert "100" in error["message"]


async def test_first_zero_is_an_empty_page(gql: GraphQL) -> None:
    data = await gql("{ works(first: 0) { totalCount edges { cursor } pageInfo { hasNextPage } } }")
    assert data["works"] == {"totalCount": 10, "edges": [], "pageInfo": {"hasNextPage": True}}


NESTED = """query($slug: String!, $first: Int, $after: String, $last: Int, $before: String,
               $orderBy: [WorkOrder!]) {
  person(slug: $slug) {
    works(role: DIRECTOR, first: $first, after: $after, last: $last, before: $before,
          orderBy: $orderBy) {
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { node { slug } }
    }
  }
}"""


async def _walk_nested(gql: GraphQL, size: int, backward: bool, **args: Any) -> list[str]:
    slugs: list[str] = []
    cursor = None
    while True:
        step = {"last": size, "before": cursor} if backward else {"first": size, "after": cursor}
        works = (await gql(NESTED, {**args, **step}))["person"]["works"]
        page = [e["node"]["slug"] for e in works["edges"]]
        slugs = page + slugs if backward else slugs + page
        info = works["pageInfo"]
        more = info["hasPreviousPage"] if backward else info["hasNextPage"]
        if not more:
            return slugs
        cursor = info["startCursor"] if backward else info["endCursor"]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(size=st.integers(1, 6), order=orders)
async def test_walking_a_nested_list_both_ways_yields_its_ordered_set(
    gql: GraphQL, session: AsyncSession, size: int, order: list[dict[str, str]]
) -> None:
    async with session.begin_nested() as savepoint:
        await wipe(session)
        await build_catalog(session, 12)  # director 11 directs 12 works
        slug = "person-11"
        everything = await gql(
            "query($slug: String!, $orderBy: [WorkOrder!]) { person(slug: $slug) {"
            " works(role: DIRECTOR, first: 100, orderBy: $orderBy) { nodes { slug } } } }",
            {"slug": slug, "orderBy": order or None},
        )
        rows = await _rows(session, None)
        mine = {w["slug"] for w in everything["person"]["works"]["nodes"]}
        default = [{"field": "YEAR", "direction": "ASC"}, {"field": "TITLE", "direction": "ASC"}]
        expected = _expected([r for r in rows if r["slug"] in mine], order or default)
        assert len(expected) == 12
        args = {"slug": slug, "orderBy": order or None}
        assert await _walk_nested(gql, size, backward=False, **args) == expected
        assert await _walk_nested(gql, size, backward=True, **args) == expected
        await savepoint.rollback()
