"""Statements with their own sources over GraphQL (issue #22): typed titles and names with
their sources and the generated romanizations, reported credits, dispute qualifiers and
reported people, credits' notes and episodes, relations' sources — batched (no N+1) and priced
like their neighbours."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from settings import Settings
from tests.support.factories import build_catalog, wipe
from tests.support.graphql import GraphQL
from tests.support.sql import StatementCounter
from tests.support.statements import add_statements


@pytest.fixture
def settings(catalog_url: str) -> Settings:
    """Every new list at once, far past the default cost limit: lifted here."""
    return Settings(database_url=catalog_url, max_cost=10**9)


FORM = "text kind language script romanization qualifier generated sources { key }"
EVERYTHING = f"""{{
  works(first: 100) {{ nodes {{
    slug titles {{ {FORM} }}
    credits {{ role note qualifier episodes {{ first last }} person {{ slug }} }}
    disputes {{ field qualifier reportedPeople {{ slug names {{ text }} }} }}
    related {{ type work {{ slug }} sources {{ key }} }}
  }} }}
  people(first: 100) {{ nodes {{
    slug names {{ {FORM} }}
    reported {{ role work {{ slug titles {{ text }} }} person {{ slug }} dispute {{ field }}
      sources {{ key }} }}
  }} }}
}}"""


async def _count_at(
    gql: GraphQL, session: AsyncSession, statements: StatementCounter, size: int
) -> tuple[int, object]:
    await wipe(session)
    await add_statements(session, await build_catalog(session, size))
    statements.reset()
    data = await gql(EVERYTHING)
    return statements.count, data


async def test_every_new_list_at_once_issues_a_constant_number_of_statements(
    gql: GraphQL, session: AsyncSession, statements: StatementCounter
) -> None:
    tiny, _ = await _count_at(gql, session, statements, 3)
    small, small_data = await _count_at(gql, session, statements, 20)
    large, large_data = await _count_at(gql, session, statements, 60)
    assert small_data != large_data  # the two catalogs really differ
    assert small == large, "\n".join(statements.statements)
    assert tiny <= small


async def test_stated_forms_come_with_their_sources_then_the_generated_ones(
    gql: GraphQL, session: AsyncSession
) -> None:
    await wipe(session)
    await add_statements(session, await build_catalog(session, 1))
    data = await gql(f'{{ work(slug: "work-0-0") {{ titles {{ {FORM} }} }} }}')
    titles = data["work"]["titles"]
    assert [(t["text"], t["kind"], t["generated"]) for t in titles] == [
        ("Work 0000-00", "MAIN", False),
        ("작품 0", "ORIGINAL", False),
        ("Jakpum 0", "TRANSLITERATION", False),
        # RR "Jakpum 0" is stated already; MR is generated, hedged as its Hangul form is
        ("Chakp'um 0", "TRANSLITERATION", True),
    ]
    assert all(t["sources"] == [{"key": "synthetic"}] for t in titles[:3])
    generated = titles[3]
    assert (generated["romanization"], generated["sources"]) == ("MR", [])
    assert generated["qualifier"] == "PROBABLY"


async def test_a_record_without_stated_forms_is_served_its_fields_forms(
    gql: GraphQL, session: AsyncSession
) -> None:
    await wipe(session)
    await build_catalog(session, 1)
    data = await gql(
        '{ work(slug: "work-0-0") { titles { text kind generated sources { key } } } }'
    )
    assert data["work"]["titles"] == [
        {"text": "Work 0000-00", "kind": "MAIN", "generated": False, "sources": []}
    ]


async def test_the_seeded_catalog_serves_typed_titles_and_generated_romanizations(
    gql: GraphQL,
) -> None:
    data = await gql(f'{{ work(slug: "sea-of-blood") {{ titles {{ {FORM} }} }} }}')
    titles = {t["text"]: t for t in data["work"]["titles"]}
    assert titles["혈해"]["sources"] == [{"key": "wp-sea-of-blood"}]
    assert titles["P'ibada"]["romanization"] == "MR"
    hyeolhae = titles["Hyeolhae"]  # RR of 혈해, generated: stated by no source
    assert (hyeolhae["generated"], hyeolhae["sources"], hyeolhae["romanization"]) == (
        True,
        [],
        "RR",
    )
    assert "Pibada" in titles and "Pibada" not in [
        t["text"] for t in data["work"]["titles"] if t["generated"]
    ]


async def test_a_reported_director_links_to_the_persons_page_apart_from_credits(
    gql: GraphQL,
) -> None:
    data = await gql(
        """{ person(slug: "choe-ik-kyu") {
             credits { work { slug } }
             reported { role work { slug } dispute { field stated reported qualifier }
                        sources { url } } } }"""
    )
    person = data["person"]
    assert "sea-of-blood" not in [c["work"]["slug"] for c in person["credits"]]
    assert person["reported"] == [
        {
            "role": "DIRECTOR",
            "work": {"slug": "sea-of-blood"},
            "dispute": {
                "field": "directors",
                "stated": "Kim Ki-nam",
                "reported": "Choe Ik-gyu",
                "qualifier": None,
            },
            "sources": [{"url": "https://en.wikipedia.org/wiki/Choe_Ik-gyu"}],
        }
    ]


async def test_production_lead_and_episode_writer_are_credits_not_directors(
    gql: GraphQL,
) -> None:
    data = await gql(
        """{ work(slug: "boy-commander") { directors { slug }
             credits { role person { slug } episodes { first last } } } }"""
    )
    work = data["work"]
    assert [d["slug"] for d in work["directors"]] == ["ri-yong-bok"]
    roles = {(c["person"]["slug"], c["role"]): c["episodes"] for c in work["credits"]}
    assert ("kim-jun-ok", "PRODUCTION_LEAD") in roles
    assert roles[("ri-yong-chun", "WRITER")] == {"first": 51, "last": 100}


async def test_a_relation_carries_its_sources(gql: GraphQL) -> None:
    data = await gql(
        '{ work(slug: "the-flower-girls-youth") { related { type sources { key } } } }'
    )
    assert data["work"]["related"] == [{"type": "EXTENDS", "sources": [{"key": "seed-document"}]}]


async def _cost(client: httpx.AsyncClient, query: str) -> int:
    body = (await client.post("/graphql", json={"query": query})).json()
    assert "errors" not in body, body
    cost: int = body["extensions"]["cost"]
    return cost


async def test_the_new_lists_are_priced_like_their_neighbours(client: httpx.AsyncClient) -> None:
    """An unpaged list of objects costs its estimated size per parent, as credits do."""
    credits = await _cost(client, "{ works(first: 5) { nodes { credits { role } } } }")
    for field in ("titles { text }", "disputes { field }", "related { type }"):
        assert await _cost(client, f"{{ works(first: 5) {{ nodes {{ {field} }} }} }}") == credits
    names = await _cost(client, "{ people(first: 5) { nodes { names { text } } } }")
    reported = await _cost(client, "{ people(first: 5) { nodes { reported { role } } } }")
    people_credits = await _cost(client, "{ people(first: 5) { nodes { credits { role } } } }")
    assert names == reported == people_credits
