"""The queries issue #2 names as its acceptance checks, answered as the seed document states."""

from __future__ import annotations

from tests.support.graphql import GraphQL


async def test_director_works_as_the_seed_states_them(gql: GraphQL) -> None:
    data = await gql(
        '{ person(slug: "choe-ik-kyu") { originalName '
        "works(role: DIRECTOR) { nodes { title year kind } } } }"
    )
    person = data["person"]
    assert person["originalName"] == "최익규"
    assert person["works"]["nodes"] == [
        {"title": "The Flower Girl", "year": 1972, "kind": "FILM"},
        {"title": "The Country I Saw", "year": 1987, "kind": "SERIES"},
        {"title": "A Traffic Controller on Crossroads", "year": 1989, "kind": "SERIES"},
    ]


async def test_sea_of_blood_keeps_its_year_and_shows_the_dispute(gql: GraphQL) -> None:
    data = await gql(
        '{ work(slug: "sea-of-blood") { year disputes { field stated reported source { url } } } }'
    )
    work = data["work"]
    assert work["year"] == 1971
    year_disputes = [d for d in work["disputes"] if d["field"] == "year"]
    assert year_disputes == [
        {
            "field": "year",
            "stated": "1971",
            "reported": "1969",
            "source": {"url": "https://en.wikipedia.org/wiki/Sea_of_Blood"},
        },
        {  # "some say 1968": Choe Ik-gyu's page
            "field": "year",
            "stated": "1971",
            "reported": "1968",
            "source": {"url": "https://en.wikipedia.org/wiki/Choe_Ik-gyu"},
        },
    ]
