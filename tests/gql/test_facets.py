"""Facets count the whole filtered list, not the page, in at most two statements."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from settings import Settings
from tests.support.factories import build_catalog, wipe
from tests.support.graphql import GraphQL
from tests.support.sql import StatementCounter


@pytest.fixture
def settings(catalog_url: str) -> Settings:
    """The resolver path's statements are counted here: the compiled path, which answers
    facets within its one statement per root field, is off (tests/gql/test_compiled.py)."""
    return Settings(database_url=catalog_url, compiled=False)


FACETS = """facets {
  kinds { kind count }
  decades { decade count }
  themes(first: 3) { theme { slug } count }
}"""


async def test_root_facets_count_the_whole_filtered_list(gql: GraphQL) -> None:
    data = await gql(
        f"{{ all: works(first: 1) {{ {FACETS} }}"
        f" films: works(first: 1, filter: {{kind: FILM}}) {{ {FACETS} }} }}"
    )
    facets = data["all"]["facets"]
    assert facets["kinds"] == [{"kind": "FILM", "count": 5}, {"kind": "SERIES", "count": 5}]
    assert facets["decades"] == [
        {"decade": 1970, "count": 2},
        {"decade": 1980, "count": 4},
        {"decade": 2000, "count": 3},
        {"decade": 2010, "count": 1},
    ]
    assert facets["themes"] == [
        {"theme": {"slug": "japanese-occupation"}, "count": 3},
        {"theme": {"slug": "resistance"}, "count": 3},
        {"theme": {"slug": "youth"}, "count": 3},
    ]
    films = data["films"]["facets"]
    assert films["kinds"] == [{"kind": "FILM", "count": 5}]
    assert films["decades"] == [
        {"decade": 1970, "count": 2},
        {"decade": 1980, "count": 2},
        {"decade": 2000, "count": 1},
    ]


async def test_nested_facets_are_per_parent(gql: GraphQL) -> None:
    data = await gql(
        f"""{{ directors(first: 100) {{ nodes {{ slug
             works(role: DIRECTOR, first: 1) {{ totalCount {FACETS} }} }} }} }}"""
    )
    by_slug = {d["slug"]: d["works"] for d in data["directors"]["nodes"]}
    choe = by_slug["choe-ik-kyu"]["facets"]
    assert choe["kinds"] == [{"kind": "SERIES", "count": 2}, {"kind": "FILM", "count": 1}]
    assert choe["decades"] == [{"decade": 1970, "count": 1}, {"decade": 1980, "count": 2}]
    for works in by_slug.values():  # facet counts add up to each parent's own list
        assert sum(k["count"] for k in works["facets"]["kinds"]) == works["totalCount"]


async def test_unknown_years_are_counted_last(gql: GraphQL, session: AsyncSession) -> None:
    await wipe(session)
    await build_catalog(session, 10)  # every fifth work of a director has no year
    data = await gql("{ works { totalCount facets { decades { decade count } } } }")
    decades = data["works"]["facets"]["decades"]
    assert decades[-1]["decade"] is None and decades[-1]["count"] > 0
    assert sum(d["count"] for d in decades) == data["works"]["totalCount"]


async def test_facets_cost_two_statements_whatever_the_size(
    gql: GraphQL, session: AsyncSession, statements: StatementCounter
) -> None:
    counts = []
    for size in (20, 400):
        await wipe(session)
        await build_catalog(session, size)
        statements.reset()
        await gql(
            f"""{{ works(first: 5) {{ {FACETS} }}
                 directors(first: 50) {{ nodes {{ works(first: 2) {{ {FACETS} }} }} }} }}"""
        )
        counts.append(statements.count)
    assert counts[0] == counts[1]
    statements.reset()
    await gql("{ works(first: 5) { facets { kinds { count } decades { count } } } }")
    assert statements.count == 1 + 2  # the version; the page; kinds and decades together


async def test_theme_facet_limits(gql: GraphQL) -> None:
    assert await gql.error_codes("{ works { facets { themes(first: 101) { count } } } }") == [
        "PAGE_SIZE_EXCEEDED"
    ]
    assert await gql.error_codes("{ works { facets { themes(first: -1) { count } } } }") == [
        "BAD_USER_INPUT"
    ]
    data = await gql("{ works { facets { themes(first: 0) { count } } } }")
    assert data["works"]["facets"]["themes"] == []


async def test_whole_catalog_and_kind_year_facets_read_the_kept_counts_not_the_works(
    gql: GraphQL, statements: StatementCounter
) -> None:
    """Migration 0016's counts answer them: no statement reads ``works`` or ``work_themes``,
    whatever the catalog's size. A filter the counts do not group by is counted live."""
    reads_works = re.compile(r"\b(FROM|JOIN) (works|work_themes)\b")
    for filter_ in ("", ", filter: {kind: FILM, yearFrom: 1970, yearTo: 1989}"):
        statements.reset()
        await gql(f"{{ works(first: 0{filter_}) {{ totalCount {FACETS} }} }}")
        kept = [s for s in statements.statements if "work_counts" in s]
        assert len(kept) == 3, statements.statements  # totalCount, kinds and decades, themes
        # only the page (of none: LIMIT 1, is there a next page) reads the works
        counted = [s for s in statements.statements if reads_works.search(s) and "LIMIT" not in s]
        assert counted == [], statements.statements
    statements.reset()
    await gql(f'{{ works(first: 0, filter: {{search: "pulgasari"}}) {{ totalCount {FACETS} }} }}')
    assert not any("work_counts" in s for s in statements.statements), statements.statements
