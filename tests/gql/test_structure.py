"""A work's structure over GraphQL (issue #22): parts, dated events, forms, audience, studios
and origins, each value with its own sources; Studio as a Node; the cost of the new lists;
no N+1 (the statements do not grow with the catalog)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from settings import Settings
from tests.support.factories import build_catalog, wipe
from tests.support.graphql import GraphQL
from tests.support.sql import StatementCounter

SOURCES = "sources { key }"
EVENT = (
    f"kind date {{ year month day precision text }} until {{ text }} place qualifier note {SOURCES}"
)
WORK_STRUCTURE = f"""query($slug: String!) {{ work(slug: $slug) {{
  forms audience
  parts {{ unit first last label title {SOURCES} events {{ {EVENT} }} }}
  events {{ {EVENT} }}
  studios {{ role studio {{ slug name originalName }} {SOURCES} }}
  basedOn {{ title originalTitle form note qualifier {SOURCES} }}
  attributions {{ field {SOURCES} }}
}} }}"""


def _keys(value: dict[str, Any]) -> list[str]:
    return [s["key"] for s in value["sources"]]


async def _work(gql: GraphQL, slug: str) -> dict[str, Any]:
    data = await gql(WORK_STRUCTURE, {"slug": slug})
    work: dict[str, Any] = data["work"]
    return work


async def test_a_multi_part_film_has_its_parts_with_their_dated_events(gql: GraphQL) -> None:
    work = await _work(gql, "the-country-i-saw")
    assert work["forms"] == ["FEATURE", "MULTI_PART_FILM"]
    first, rest = work["parts"]
    assert (first["unit"], first["first"], first["last"], first["label"]) == (
        "PART",
        1,
        1,
        "Part 1",
    )
    assert (rest["first"], rest["last"], rest["label"]) == (2, 5, "Parts 2\u20135")
    # part 1 is dated 1988 by some references and 1987 by another: both kept, each sourced
    made = {e["date"]["text"]: _keys(e) for e in first["events"]}
    assert made == {
        "1988": ["nks-1384", "38north-jlewis083012"],
        "1987": ["pyongyang-travel-the-country-i-saw-part-1"],
    }
    [later] = rest["events"]
    assert (later["kind"], later["date"]["text"], later["until"]["text"]) == (
        "MADE",
        "2009",
        "2010",
    )
    assert later["date"]["precision"] == "YEAR"
    assert work["events"] == []  # the events belong to the parts


async def test_a_series_has_episode_ranges_and_an_audience(gql: GraphQL) -> None:
    work = await _work(gql, "boy-commander")
    assert work["forms"] == ["ANIMATION", "TV_SERIES"]
    assert work["audience"] == "CHILDREN"
    labels = [
        (p["label"], p["events"][0]["date"]["text"], p["events"][0]["until"]["text"])
        for p in work["parts"]
    ]
    assert labels == [
        ("Episodes 1\u201350", "1982", "1997"),
        ("Episodes 51\u2013100", "2015", "2019"),
    ]
    attributions = {a["field"]: _keys(a) for a in work["attributions"]}
    assert attributions["audience"] == ["seed-document"]
    assert attributions["forms"] == ["yna-akr20200217145100504"]
    [credit] = work["studios"]
    assert credit["studio"]["originalName"] == "조선4.26만화영화촬영소"
    assert _keys(credit) == ["nkeconomy-2435"]


async def test_dates_keep_their_precision_place_and_qualifier(gql: GraphQL) -> None:
    premiere, release = (await _work(gql, "the-schoolgirls-diary"))["events"]
    assert premiere["date"] == {
        "year": 2006,
        "month": 8,
        "day": None,
        "precision": "MONTH",
        "text": "2006-08",
    }
    assert (release["kind"], release["date"]["text"], release["place"]) == (
        "RELEASE",
        "2007",
        "France",
    )
    [pulgasari] = (await _work(gql, "pulgasari"))["events"]
    assert (pulgasari["kind"], pulgasari["qualifier"]) == ("PREMIERE", "SOMETIMES")


async def test_origins_say_what_a_work_adapts(gql: GraphQL) -> None:
    [opera] = (await _work(gql, "sea-of-blood"))["basedOn"]
    assert (opera["title"], opera["originalTitle"], opera["form"]) == (
        "Sea of Blood",
        "피바다",
        "revolutionary opera",
    )
    assert _keys(opera) == ["wp-sea-of-blood"]
    [tale] = (await _work(gql, "the-tale-of-chun-hyang"))["basedOn"]
    assert tale["form"] == "folk tale"
    assert _keys(tale) == ["seed-document", "nouveaucinema-the-tale-of-chun-hyang"]


async def test_a_work_without_structure_has_empty_lists(gql: GraphQL) -> None:
    work = await _work(gql, "the-flower-girls-youth")
    assert (work["forms"], work["audience"], work["parts"], work["events"]) == ([], None, [], [])
    assert (work["studios"], work["basedOn"]) == ([], [])


STUDIO = """query($slug: String!) { studio(slug: $slug) { id slug name originalName sources { key }
  works { totalCount nodes { slug } } } }"""


async def test_a_studio_lists_its_works_and_round_trips_through_node(gql: GraphQL) -> None:
    studio = (await gql(STUDIO, {"slug": "korean-art-film-studio"}))["studio"]
    assert studio["originalName"] == "조선예술영화촬영소"
    assert [s["key"] for s in studio["sources"]] == ["wp-korean-art-film-studio"]
    # default order: year, then title
    assert [w["slug"] for w in studio["works"]["nodes"]] == [
        "the-flower-girl",
        "pulgasari",
        "the-country-i-saw",
    ]
    assert studio["works"]["totalCount"] == 3
    node = (
        await gql(
            "query($id: ID!) { node(id: $id) { __typename ... on Studio { slug } } }",
            {"id": studio["id"]},
        )
    )["node"]
    assert node == {"__typename": "Studio", "slug": "korean-art-film-studio"}
    assert (await gql(STUDIO, {"slug": "no-such-studio"}))["studio"] is None


async def test_studios_are_listed_by_name(gql: GraphQL) -> None:
    data = await gql("{ studios(first: 10) { totalCount nodes { slug } } }")
    assert data["studios"]["totalCount"] == 2
    assert [s["slug"] for s in data["studios"]["nodes"]] == [
        "korean-april-26-animation-studio",
        "korean-art-film-studio",
    ]


async def _cost(client: httpx.AsyncClient, query: str) -> int:
    body = (await client.post("/graphql", json={"query": query})).json()
    assert "errors" not in body, body
    cost: int = body["extensions"]["cost"]
    return cost


async def test_the_new_lists_are_priced_like_their_neighbours(client: httpx.AsyncClient) -> None:
    """Unpaged lists cost ``list_size_estimate`` (10) objects each, per parent, as
    ``credits`` and ``disputes`` do; a studio's works are a paged connection."""
    one_work = '{ work(slug: "boy-commander") { parts { events { sources { key } } } } }'
    assert await _cost(client, one_work) == 1 + 10 + 10 * 10 + 100 * 10
    same_as_disputes = '{ work(slug: "boy-commander") { disputes { source { key } } } }'
    structure = '{ work(slug: "boy-commander") { studios { studio { slug } } } }'
    assert await _cost(client, structure) == await _cost(client, same_as_disputes)
    studios = "{ studios(first: 5) { nodes { works(first: 3) { nodes { title } } } } }"
    assert await _cost(client, studios) == 1 + 5 + 5 * (1 + 3)


EVERY_STRUCTURE = f"""{{
  works(first: 100) {{ nodes {{ slug forms audience
    parts {{ label {SOURCES} events {{ {EVENT} }} }}
    events {{ {EVENT} }}
    studios {{ role {SOURCES} studio {{ slug {SOURCES} works(first: 2) {{ nodes {{ slug }} }} }} }}
    basedOn {{ title {SOURCES} }}
  }} }}
  studios(first: 50) {{ nodes {{ name {SOURCES} works(first: 3) {{ totalCount nodes {{ slug
    parts {{ label }} }} }} }} }}
}}"""


@pytest.fixture
def settings(catalog_url: str) -> Settings:
    """The statement-count query touches every list at once: the cost limit is lifted."""
    return Settings(database_url=catalog_url, max_cost=10**9)


async def _count_at(
    gql: GraphQL, session: AsyncSession, statements: StatementCounter, size: int
) -> tuple[int, Any]:
    await wipe(session)
    await build_catalog(session, size, structure=True)
    statements.reset()
    data = await gql(EVERY_STRUCTURE)
    return statements.count, data


async def test_the_structure_issues_a_constant_number_of_statements(
    gql: GraphQL, session: AsyncSession, statements: StatementCounter
) -> None:
    """Every structure list of 100 works and 50 studios' works: one statement per loader
    batch, whatever the catalog's size."""
    small, small_data = await _count_at(gql, session, statements, 100)
    large, large_data = await _count_at(gql, session, statements, 500)
    assert small_data != large_data  # the two catalogs really differ
    assert small == large, "\n".join(statements.statements)
    works = large_data["works"]["nodes"]
    assert len(works) == 100 and all(len(w["parts"]) == 2 for w in works)
    assert all(w["parts"][0]["events"] and not w["parts"][1]["events"] for w in works)
