"""Reading the seeded catalog through the API: records, provenance, nodes, filters, search."""

from __future__ import annotations

import pytest

from tests.support.graphql import GraphQL

SEED = "000_14e5cf84a50bc851.txt"


async def test_a_work_with_its_credits_themes_and_provenance(gql: GraphQL) -> None:
    work = (
        await gql(
            """{ work(slug: "the-flower-girl") {
                slug title originalTitle alternativeTitles kind year synopsis
                directors { slug }
                credits { role position person { slug } work { slug } sources { title url } }
                themes { slug name }
                sources { title url }
                attributions { field sources { key } }
            } }"""
        )
    )["work"]
    assert work["title"] == "The Flower Girl"
    assert work["originalTitle"] == "꽃파는 처녀"
    assert "Kotpanun Chonio" in work["alternativeTitles"]
    assert (work["kind"], work["year"]) == ("FILM", 1972)
    assert "Japanese occupation" in work["synopsis"]
    # the seed's director first, then the co-director a reference adds, in billing order
    assert [d["slug"] for d in work["directors"]] == ["choe-ik-kyu", "pak-hak"]
    seed_credit, reference_credit = work["credits"]
    # the seed states it, and the references agree
    assert seed_credit["sources"][0] == {"title": SEED, "url": None}
    assert all(s["url"] for s in seed_credit["sources"][1:])
    assert reference_credit["person"]["slug"] == "pak-hak"
    assert reference_credit["position"] == 1
    assert all(s["url"] for s in reference_credit["sources"])  # attributed to a reference
    assert {c["work"]["slug"] for c in work["credits"]} == {"the-flower-girl"}
    assert {t["slug"] for t in work["themes"]} >= {"japanese-occupation"}
    assert work["sources"][0] == {"title": SEED, "url": None}
    attributed = {a["field"]: [s["key"] for s in a["sources"]] for a in work["attributions"]}
    assert attributed["title"] == ["seed-document"]
    assert attributed["year"] == ["seed-document", "wp-the-flower-girl", "imdb-tt0168937"]
    assert "seed-document" not in attributed["originalTitle"]


async def test_relations_read_this_work_type_that_work(gql: GraphQL) -> None:
    data = await gql(
        '{ work(slug: "the-flower-girls-youth") { kind related { type work { title } } } }'
    )
    assert data["work"]["kind"] == "SERIES"
    assert data["work"]["related"] == [{"type": "EXTENDS", "work": {"title": "The Flower Girl"}}]


async def test_the_seeds_biographical_facts_are_stated_and_attributed(gql: GraphQL) -> None:
    data = await gql(
        """{ shin: person(slug: "shin-sang-ok") { biography attributions { field sources { key } } }
             kim: person(slug: "kim-jong-chul") { biography sources { title } } }"""
    )
    assert "kidnapped" in data["shin"]["biography"]
    bio = [a for a in data["shin"]["attributions"] if a["field"] == "biography"]
    assert bio == [{"field": "biography", "sources": [{"key": "seed-document"}]}]
    assert "Kim Jong-un" in data["kim"]["biography"]
    assert {"title": SEED} in data["kim"]["sources"]


async def test_every_work_of_the_seed_is_there_with_its_kind(gql: GraphQL) -> None:
    data = await gql(
        "{ films: works(filter: {kind: FILM}) { totalCount }"
        " series: works(filter: {kind: SERIES}) { totalCount } all: works { totalCount } }"
    )
    assert (data["films"]["totalCount"], data["series"]["totalCount"]) == (5, 5)
    assert data["all"]["totalCount"] == 10


async def test_disputes_cite_their_reference_and_never_edit_the_record(gql: GraphQL) -> None:
    data = await gql(
        """{ works(first: 100) { nodes { slug kind year
             disputes { field stated reported note source { title url } } } } }"""
    )
    works = {w["slug"]: w for w in data["works"]["nodes"]}
    for work in works.values():
        for dispute in work["disputes"]:
            assert dispute["source"]["url"].startswith("https://")
            if dispute["field"] == "year":
                assert dispute["stated"] == str(work["year"])  # the record keeps what is stated
            if dispute["field"] == "kind":
                assert dispute["stated"] == work["kind"]
    country = works["the-country-i-saw"]
    assert {d["field"] for d in country["disputes"]} == {"kind", "year", "directors"}
    assert works["the-country-i-saw"]["kind"] == "SERIES"  # as the seed states it
    assert works["the-schoolgirls-diary"]["disputes"] == []  # references agree


async def test_node_round_trips_for_every_type(gql: GraphQL) -> None:
    ids = await gql(
        """{ work(slug: "pulgasari") { id } person(slug: "shin-sang-ok") { id }
             theme(slug: "fantasy") { id } }"""
    )
    for key, typename, field, value in (
        ("work", "Work", "slug", "pulgasari"),
        ("person", "Person", "slug", "shin-sang-ok"),
        ("theme", "Theme", "slug", "fantasy"),
    ):
        node = (
            await gql(
                "query($id: ID!) { node(id: $id) { __typename id"
                " ... on Work { slug } ... on Person { slug } ... on Theme { slug } } }",
                {"id": ids[key]["id"]},
            )
        )["node"]
        assert node == {"__typename": typename, "id": ids[key]["id"], field: value}


async def test_nodes_keeps_order_and_answers_null_for_missing(gql: GraphQL) -> None:
    ids = await gql('{ a: work(slug: "sea-of-blood") { id } b: person(slug: "pak-hak") { id } }')
    missing = "V29yazo5OTk5OTk="  # Work:999999
    data = await gql(
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename"
        " ... on Work { slug } ... on Person { slug } } }",
        {"ids": [ids["b"]["id"], missing, ids["a"]["id"]]},
    )
    assert data["nodes"] == [
        {"__typename": "Person", "slug": "pak-hak"},
        None,
        {"__typename": "Work", "slug": "sea-of-blood"},
    ]


async def test_missing_slugs_answer_null(gql: GraphQL) -> None:
    data = await gql(
        '{ work(slug: "nope") { id } person(slug: "nope") { id } theme(slug: "x") { id } }'
    )
    assert data == {"work": None, "person": None, "theme": None}


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        (
            "{kind: FILM, yearFrom: 1980}",
            ["Pulgasari", "The Schoolgirl's Diary", "The Tale of Chun Hyang"],
        ),
        (
            "{yearFrom: 1985, yearTo: 1989}",
            ["A Traffic Controller on Crossroads", "Pulgasari", "The Country I Saw"],
        ),
        (
            '{director: "choe-ik-kyu"}',
            ["A Traffic Controller on Crossroads", "The Country I Saw", "The Flower Girl"],
        ),
        ('{director: "pak-hak"}', ["The Flower Girl"]),
        ('{theme: "fantasy"}', ["Pulgasari"]),
        ('{theme: "japanese-occupation", kind: SERIES}', ["The Country I Saw"]),
        ('{search: "chunhyang"}', ["The Tale of Chun Hyang"]),
        ('{search: "꽃파는"}', ["The Flower Girl"]),
        ('{search: "bulgasari"}', ["Pulgasari"]),
        ('{search: "flower girl"}', ["The Flower Girl", "The Flower Girl's Youth"]),
        ('{director: "no-such-person"}', []),
        ('{search: "!!!"}', []),
        ('{search: "   "}', None),  # blank search: no condition
    ],
)
async def test_work_filters_combine(gql: GraphQL, filter_: str, expected: list[str] | None) -> None:
    data = await gql(
        f"{{ works(first: 100, filter: {filter_}) {{ totalCount nodes {{ title }} }} }}"
    )
    titles = [w["title"] for w in data["works"]["nodes"]]
    if expected is None:
        assert data["works"]["totalCount"] == 10
    else:
        assert titles == expected
        assert data["works"]["totalCount"] == len(expected)


async def test_ordering_by_several_keys(gql: GraphQL) -> None:
    data = await gql(
        "{ works(first: 100, orderBy: [{field: YEAR, direction: DESC}, {field: TITLE}]) {"
        " nodes { title year } } }"
    )
    rows = [(w["year"], w["title"]) for w in data["works"]["nodes"]]
    assert rows[:3] == [
        (2012, "The Respected Mother"),
        (2006, "Boy Commander"),
        (2006, "The Schoolgirl's Diary"),
    ]
    assert rows == sorted(rows, key=lambda r: (-r[0], r[1].casefold()))


async def test_default_orders(gql: GraphQL) -> None:
    data = await gql(
        '{ works(first: 3) { nodes { title } } person(slug: "choe-ik-kyu") {'
        " works { nodes { year } } } }"
    )
    assert [w["title"] for w in data["works"]["nodes"]] == [
        "A Traffic Controller on Crossroads",
        "Boy Commander",
        "Pulgasari",
    ]
    years = [w["year"] for w in data["person"]["works"]["nodes"]]
    assert years == sorted(years)


async def test_people_and_directors(gql: GraphQL) -> None:
    data = await gql(
        """{ directors(first: 100) { totalCount nodes { slug } }
             people(filter: {role: DIRECTOR, search: "choe ik gyu"}) { nodes { slug } }
             writers: people(filter: {role: WRITER}) { totalCount } }"""
    )
    slugs = [p["slug"] for p in data["directors"]["nodes"]]
    assert "choe-ik-kyu" in slugs and "pak-hak" in slugs
    assert data["directors"]["totalCount"] == len(slugs) == 9
    assert data["people"]["nodes"] == [{"slug": "choe-ik-kyu"}]
    assert data["writers"]["totalCount"] == 1  # Ri Yong-chun, episodes 51–100 of Boy General


async def test_person_works_filters_by_role_and_kind(gql: GraphQL) -> None:
    data = await gql(
        """{ person(slug: "choe-ik-kyu") {
             films: works(role: DIRECTOR, kind: FILM) { totalCount nodes { title } }
             series: works(kind: SERIES) { totalCount }
             writing: works(role: WRITER) { totalCount }
             credits { role work { title } } } }"""
    )
    person = data["person"]
    assert person["films"] == {"totalCount": 1, "nodes": [{"title": "The Flower Girl"}]}
    assert person["series"]["totalCount"] == 2
    assert person["writing"]["totalCount"] == 0
    assert [c["work"]["title"] for c in person["credits"]] == [
        "The Flower Girl",
        "The Country I Saw",
        "A Traffic Controller on Crossroads",
    ]


async def test_theme_works(gql: GraphQL) -> None:
    data = await gql(
        """{ themes(first: 100) { totalCount nodes { slug } }
             theme(slug: "japanese-occupation") { name description
               films: works(kind: FILM) { totalCount nodes { title } } } }"""
    )
    assert data["themes"]["totalCount"] == len(data["themes"]["nodes"]) == 16
    films = data["theme"]["films"]
    assert [w["title"] for w in films["nodes"]] == ["Sea of Blood", "The Flower Girl"]
    assert films["totalCount"] == 2


@pytest.mark.parametrize(
    ("query", "typename", "name"),
    [
        ("choe ik gyu", "Person", "Choe Ik-kyu"),
        ("Ch'oe Ik-kyu", "Person", "Choe Ik-kyu"),
        ("choi ik kyu", "Person", "Choe Ik-kyu"),
        ("bulgasari", "Work", "Pulgasari"),
        ("pulgasary", "Work", "Pulgasari"),
        ("chunhyang", "Work", "The Tale of Chun Hyang"),
        ("꽃파는", "Work", "The Flower Girl"),
        ("최익규", "Person", "Choe Ik-kyu"),
        ("fantasy", "Theme", "Fantasy"),
    ],
)
async def test_search_finds_the_expected_hit_first(
    gql: GraphQL, query: str, typename: str, name: str
) -> None:
    data = await gql(
        "query($q: String!) { search(query: $q) { __typename"
        " ... on Work { title } ... on Person { name } ... on Theme { name } } }",
        {"q": query},
    )
    first = data["search"][0]
    assert first["__typename"] == typename
    assert first.get("title", first.get("name")) == name


async def test_search_ranks_whole_names_before_prefixes_before_substrings(gql: GraphQL) -> None:
    data = await gql('{ search(query: "the flower girl", first: 5) { ... on Work { title } } }')
    assert [h["title"] for h in data["search"]] == ["The Flower Girl", "The Flower Girl's Youth"]
    assert (await gql('{ search(query: "zzzz") { __typename } }'))["search"] == []
    limited = await gql('{ search(query: "the", first: 2) { __typename } }')
    assert len(limited["search"]) == 2


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        ("{kinds: [FILM, SERIES]}", 10),
        ("{kinds: []}", 0),
        ('{themes: ["fantasy", "love"]}', 2),
        ('{themes: ["japanese-occupation", "sacrifice"], themesMatch: ALL}', 1),
        ('{themes: ["japanese-occupation", "sacrifice"], themesMatch: ANY}', 4),
        ('{directors: ["shin-sang-ok", "kim-ki-nam"]}', 2),
        ("{hasDisputes: true}", 6),  # The Respected Mother's closest match disagrees too
        ("{hasDisputes: false}", 4),
        ('{hasDisputes: true, kinds: [SERIES], themes: ["youth", "pyongyang"]}', 2),
    ],
)
async def test_list_filters(gql: GraphQL, filter_: str, expected: int) -> None:
    data = await gql(f"{{ works(filter: {filter_}) {{ totalCount nodes {{ slug }} }} }}")
    assert data["works"]["totalCount"] == expected == len(data["works"]["nodes"])


async def test_has_disputes_splits_the_catalog_by_its_disputes(gql: GraphQL) -> None:
    data = await gql(
        "{ yes: works(filter: {hasDisputes: true}) { nodes { disputes { field } } }"
        " no: works(filter: {hasDisputes: false}) { nodes { disputes { field } } } }"
    )
    assert all(w["disputes"] for w in data["yes"]["nodes"])
    assert not any(w["disputes"] for w in data["no"]["nodes"])


async def test_nested_lists_take_the_same_filters(gql: GraphQL) -> None:
    data = await gql(
        """{ person(slug: "choe-ik-kyu") {
               disputed: works(role: DIRECTOR, filter: {hasDisputes: true}) { nodes { title } }
               oldSeries: works(kind: SERIES, filter: {yearTo: 1987}) { nodes { title } }
               clash: works(kind: FILM, filter: {kinds: [SERIES]}) { totalCount } }
             theme(slug: "japanese-occupation") {
               works(filter: {themes: ["sacrifice"], kinds: [FILM]}) { nodes { title } } } }"""
    )
    person = data["person"]
    assert [w["title"] for w in person["disputed"]["nodes"]] == [
        "The Country I Saw",
        "A Traffic Controller on Crossroads",
    ]
    assert [w["title"] for w in person["oldSeries"]["nodes"]] == ["The Country I Saw"]
    assert person["clash"]["totalCount"] == 0  # `kind` and `filter` must both hold
    assert [w["title"] for w in data["theme"]["works"]["nodes"]] == ["The Flower Girl"]


async def test_filter_lists_are_bounded(gql: GraphQL) -> None:
    themes = ", ".join(f'"t{i}"' for i in range(51))
    assert await gql.error_codes(
        f"{{ works(filter: {{themes: [{themes}]}}) {{ totalCount }} }}"
    ) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("pulgasri", "Pulgasari"),  # a letter missing
        ("kotpanum", "The Flower Girl"),  # a letter wrong (its romanized title, Kotpanun)
    ],
)
async def test_search_tolerates_typos_in_longer_words(
    gql: GraphQL, query: str, expected: str
) -> None:
    data = await gql(
        "query($q: String!) { searchHits(query: $q) { score matchedText"
        " node { ... on Work { title } } } }",
        {"q": query},
    )
    first = data["searchHits"][0]
    assert first["node"]["title"] == expected
    assert 0 < first["score"] < 0.75  # ranked below any exact, prefix or substring match


@pytest.mark.parametrize("query", ["pulgasarri", "bulgassari", "PULGASARI"])
async def test_doubled_letters_and_case_fold_to_a_whole_name(gql: GraphQL, query: str) -> None:
    data = await gql(
        "query($q: String!) { searchHits(query: $q, first: 1) { score matchedText } }", {"q": query}
    )
    assert data["searchHits"] == [{"score": 1.0, "matchedText": "Pulgasari"}]


async def test_search_hits_say_what_matched(gql: GraphQL) -> None:
    data = await gql(
        """{ a: searchHits(query: "kotpanun chonio") { score matchedText node { __typename } }
             b: searchHits(query: "최익규", first: 1) { score matchedText }
             c: searchHits(query: "choi ik kyu", first: 1) {
               matchedText node { ... on Person { name } } }
             d: searchHits(query: "flower", first: 2) { score matchedText } }"""
    )
    assert data["a"][0] == {
        "score": 1.0,
        "matchedText": "Kotpanun Chonio",
        "node": {"__typename": "Work"},
    }
    assert data["b"] == [{"score": 1.0, "matchedText": "최익규"}]
    assert data["c"] == [{"matchedText": "Choe Ik-kyu", "node": {"name": "Choe Ik-kyu"}}]
    assert [h["matchedText"] for h in data["d"]] == ["The Flower Girl", "The Flower Girl's Youth"]
    assert all(h["score"] == 0.75 for h in data["d"])


async def test_search_and_search_hits_agree(gql: GraphQL) -> None:
    for query in ("choe", "the", "pulgasri", "꽃"):
        ids = "... on Work { id } ... on Person { id } ... on Theme { id }"
        data = await gql(
            f"query($q: String!) {{ search(query: $q, first: 20) {{ {ids} }}"
            f" searchHits(query: $q, first: 20) {{ node {{ {ids} }} }} }}",
            {"q": query},
        )
        assert data["search"] == [h["node"] for h in data["searchHits"]]
