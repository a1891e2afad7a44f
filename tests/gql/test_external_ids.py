"""``externalIds`` on works and people, and the root lookups ``workByExternalId`` and
``personByExternalId``: values, URLs, errors and batching."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from db.interchange.load import load_catalogs
from seeds import BUNDLED_CATALOG
from settings import Settings
from tests.support.graphql import GraphQL
from tests.support.sql import StatementCounter

CITED = {  # the IMDb ids shared/reference/fact-check.md cites
    "the-flower-girl": "tt0168937",
    "sea-of-blood": "tt0862677",
    "a-traffic-controller-on-crossroads": "tt4309644",
}


@pytest.fixture
def settings(catalog_url: str) -> Settings:
    """The resolver path: its batching is counted here (the compiled path answers lookups in
    one statement per root field: tests/gql/test_compiled.py)."""
    return Settings(database_url=catalog_url, compiled=False)


async def add_ids(session: AsyncSession) -> None:
    """Give Choe Ik-kyu an IMDb and a Wikidata id and Pulgasari a Wikidata one (synthetic
    values; the records are otherwise the bundled ones)."""
    bundled = json.loads(BUNDLED_CATALOG.read_text(encoding="utf-8"))
    choe = next(p for p in bundled["people"] if p["slug"] == "choe-ik-kyu")
    choe["externalIds"] = [
        {"system": "WIKIDATA", "value": "Q1000002"},
        {"system": "IMDB", "value": "nm1000001"},
    ]
    pulgasari = next(w for w in bundled["works"] if w["slug"] == "pulgasari")
    pulgasari["externalIds"] = [{"system": "WIKIDATA", "value": "Q1000003"}]
    report = await load_catalogs(session, [("ids.json", {"people": [choe], "works": [pulgasari]})])
    assert report.counts["people"]["updated"] == report.counts["works"]["updated"] == 1


async def test_works_carry_the_imdb_ids_the_references_cite(gql: GraphQL) -> None:
    data = await gql("{ works(first: 100) { nodes { slug externalIds { system value url } } } }")
    found = {w["slug"]: w["externalIds"] for w in data["works"]["nodes"]}
    assert {slug: ids for slug, ids in found.items() if ids} == {
        slug: [{"system": "IMDB", "value": tt, "url": f"https://www.imdb.com/title/{tt}"}]
        for slug, tt in CITED.items()
    }
    assert found["pulgasari"] == []


async def test_a_person_s_ids_link_to_their_pages(gql: GraphQL, session: AsyncSession) -> None:
    await add_ids(session)
    data = await gql(
        """{ person(slug: "choe-ik-kyu") { externalIds { system value url } }
             work(slug: "pulgasari") { externalIds { system value url } } }"""
    )
    assert data["person"]["externalIds"] == [
        {"system": "IMDB", "value": "nm1000001", "url": "https://www.imdb.com/name/nm1000001"},
        {
            "system": "WIKIDATA",
            "value": "Q1000002",
            "url": "https://www.wikidata.org/wiki/Q1000002",
        },
    ]
    assert data["work"]["externalIds"] == [
        {
            "system": "WIKIDATA",
            "value": "Q1000003",
            "url": "https://www.wikidata.org/wiki/Q1000003",
        }
    ]


async def test_work_by_external_id(gql: GraphQL, session: AsyncSession) -> None:
    await add_ids(session)
    data = await gql(
        """{ girl: workByExternalId(system: IMDB, value: "tt0168937") { slug title }
             sea: workByExternalId(system: IMDB, value: "tt0862677") { slug }
             puls: workByExternalId(system: WIKIDATA, value: "Q1000003") { slug }
             unknown: workByExternalId(system: IMDB, value: "tt9999999") { slug }
             other: workByExternalId(system: WIKIDATA, value: "Q1000002") { slug } }"""
    )
    assert data == {
        "girl": {"slug": "the-flower-girl", "title": "The Flower Girl"},
        "sea": {"slug": "sea-of-blood"},
        "puls": {"slug": "pulgasari"},
        "unknown": None,
        "other": None,  # a person's id names no work
    }


async def test_person_by_external_id(gql: GraphQL, session: AsyncSession) -> None:
    await add_ids(session)
    query = "query($s: ExternalSystem!, $v: String!) { personByExternalId(system: $s, value: $v)"
    query += " { slug name externalIds { value } } }"
    found = await gql(query, {"s": "IMDB", "v": "nm1000001"})
    assert found["personByExternalId"] == {
        "slug": "choe-ik-kyu",
        "name": "Choe Ik-kyu",
        "externalIds": [{"value": "nm1000001"}, {"value": "Q1000002"}],
    }
    assert (await gql(query, {"s": "WIKIDATA", "v": "Q1000002"}))["personByExternalId"][
        "slug"
    ] == "choe-ik-kyu"
    assert (await gql(query, {"s": "IMDB", "v": "nm9999999"})) == {"personByExternalId": None}


@pytest.mark.parametrize(
    ("field", "system", "value"),
    [
        ("workByExternalId", "IMDB", "nm0000001"),  # a name id where a title id belongs
        ("workByExternalId", "IMDB", "tt123"),
        ("workByExternalId", "IMDB", "https://www.imdb.com/title/tt0168937"),
        ("workByExternalId", "WIKIDATA", "tt0168937"),
        ("workByExternalId", "WIKIDATA", ""),
        ("personByExternalId", "IMDB", "tt0168937"),
        ("personByExternalId", "WIKIDATA", "Q1\x00"),
        ("personByExternalId", "WIKIDATA", "Q" + "1" * 100_000),
    ],
)
async def test_an_invalid_value_is_bad_user_input(
    gql: GraphQL, field: str, system: str, value: str
) -> None:
    query = (
        f"query($s: ExternalSystem!, $v: String!) {{ {field}(system: $s, value: $v) {{ slug }} }}"
    )
    errors = await gql.errors(query, {"s": system, "v": value})
    assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"]
    assert errors[0]["extensions"]["argument"] == "value"
    assert len(errors[0]["message"]) < 400  # never echoes a huge value back


async def test_the_expected_shape_is_in_the_message(gql: GraphQL) -> None:
    (error,) = await gql.errors('{ workByExternalId(system: IMDB, value: "tt1") { slug } }')
    assert error["message"] == (
        "'tt1' is not a valid IMDB identifier of a work (expected tt followed by 7 or 8 "
        "digits, e.g. tt0168937)"
    )
    assert error["path"] == ["workByExternalId"]


@pytest.mark.parametrize(
    "query",
    [
        '{ workByExternalId(system: TMDB, value: "1") { slug } }',
        '{ workByExternalId(value: "tt0168937") { slug } }',
        "{ personByExternalId(system: IMDB) { slug } }",
        '{ work(slug: "pulgasari") { externalIds { system value link } } }',
    ],
)
async def test_malformed_queries_are_validation_errors(gql: GraphQL, query: str) -> None:
    assert await gql.error_codes(query) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_an_invalid_lookup_leaves_its_siblings_answered(gql: GraphQL) -> None:
    response = await gql.response(
        """{ bad: workByExternalId(system: IMDB, value: "x") { slug }
             good: workByExternalId(system: IMDB, value: "tt4309644") { slug } }"""
    )
    body = response.json()
    assert body["data"] == {"bad": None, "good": {"slug": "a-traffic-controller-on-crossroads"}}
    assert [e["path"] for e in body["errors"]] == [["bad"]]


async def test_lookups_and_lists_of_ids_are_batched(
    gql: GraphQL, session: AsyncSession, statements: StatementCounter
) -> None:
    await add_ids(session)
    lookups = " ".join(
        f'w{i}: workByExternalId(system: IMDB, value: "{tt}") {{ slug }}'
        for i, tt in enumerate([*CITED.values(), "tt9999999"])
    )
    lookups += ' p: personByExternalId(system: IMDB, value: "nm1000001") { slug }'
    lookups += ' q: personByExternalId(system: WIKIDATA, value: "Q1000002") { slug }'
    statements.reset()
    data: dict[str, Any] = await gql(f"{{ {lookups} }}")
    assert [data[f"w{i}"] for i in range(4)] == [
        {"slug": "the-flower-girl"},
        {"slug": "sea-of-blood"},
        {"slug": "a-traffic-controller-on-crossroads"},
        None,
    ]
    assert data["p"] == data["q"] == {"slug": "choe-ik-kyu"}
    assert statements.count == 1 + 2, statements.statements  # version; works; people

    statements.reset()
    data = await gql(
        """{ works(first: 100) { nodes { externalIds { value }
                                          directors { externalIds { url } } } } }"""
    )
    # the page, the works' ids, the credits, the directors, the directors' ids
    assert statements.count == 1 + 5, "\n".join(statements.statements)  # 1: the version
    urls = {
        d["externalIds"][0]["url"]
        for w in data["works"]["nodes"]
        for d in w["directors"]
        if d["externalIds"]
    }
    assert urls == {"https://www.imdb.com/name/nm1000001"}
