"""db.interchange.format: parsing interchange documents (every problem with file and position)
and serialising them canonically."""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

import pytest

from db.enums import CreditRole, WorkKind, WorkRelationType
from db.interchange.format import (
    FORMAT,
    Catalog,
    KnownNames,
    Problem,
    catalog_to_json,
    check_references,
    dump_catalog,
    parse_catalog,
)
from seeds import BUNDLED_CATALOG

FILE = "catalog-under-test.json"


@cache
def _bundled() -> str:
    return BUNDLED_CATALOG.read_text(encoding="utf-8")


def bundled() -> dict[str, Any]:
    """A fresh, mutable copy of the bundled seed catalog."""
    return json.loads(_bundled())  # type: ignore[no-any-return]


def known(catalog: Catalog) -> KnownNames:
    return KnownNames(
        sources=frozenset(s.key for s in catalog.sources),
        themes=frozenset(t.slug for t in catalog.themes),
        people=frozenset(p.slug for p in catalog.people),
        works=frozenset(w.slug for w in catalog.works),
        studios=frozenset(s.slug for s in catalog.studios),
    )


def problems_of(document: Any) -> list[Problem]:
    """Parse problems plus reference problems, resolved against the document's own records
    and the bundled catalog's (as if it were already in the database)."""
    catalog, problems = parse_catalog(document, FILE)
    names = known(parse_catalog(bundled(), "bundled")[0])
    mine = known(catalog)
    names = KnownNames(
        sources=names.sources | mine.sources,
        themes=names.themes | mine.themes,
        people=names.people | mine.people,
        works=names.works | mine.works,
        studios=names.studios | mine.studios,
    )
    return problems + check_references(catalog, FILE, names)


def where(problems: list[Problem]) -> list[tuple[str, str]]:
    return [(p.file, p.position) for p in problems]


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


def minimal_work(slug: str = "new-film", **fields: Any) -> dict[str, Any]:
    return {"slug": slug, "title": "New Film", "kind": "FILM", **fields}


# -- the bundled catalog -----------------------------------------------------------------------


def test_the_bundled_catalog_parses_without_problems() -> None:
    catalog, problems = parse_catalog(bundled(), str(BUNDLED_CATALOG))
    assert problems == []
    assert check_references(catalog, str(BUNDLED_CATALOG), known(catalog)) == []
    assert (len(catalog.sources), len(catalog.themes), len(catalog.studios)) == (21, 16, 2)
    assert (len(catalog.people), len(catalog.works)) == (15, 10)


def test_the_bundled_catalog_records_are_typed() -> None:
    catalog, _ = parse_catalog(bundled(), FILE)
    works = {w.slug: w for w in catalog.works}
    pulgasari = works["pulgasari"]
    assert pulgasari.kind is WorkKind.FILM
    assert pulgasari.year == 1985
    assert pulgasari.original_title == "불가사리"
    assert [(c.person, c.role) for c in pulgasari.credits] == [
        ("shin-sang-ok", CreditRole.DIRECTOR),
        ("chong-gon-jo", CreditRole.DIRECTOR),
    ]
    youth = works["the-flower-girls-youth"]
    assert [(r.type, r.work) for r in youth.related] == [
        (WorkRelationType.EXTENDS, "the-flower-girl")
    ]
    assert works["boy-commander"].kind is WorkKind.SERIES


def test_parsing_then_serialising_the_bundled_catalog_gives_the_file_byte_for_byte() -> None:
    catalog, problems = parse_catalog(bundled(), FILE)
    assert problems == []
    assert dump_catalog(catalog_to_json(catalog)) == _bundled()


def test_serialising_is_canonical_whatever_the_order_of_the_records() -> None:
    document = bundled()
    for kind in ("sources", "themes", "studios", "people", "works"):
        document[kind].reverse()
    for key in ("people", "works"):
        document[key][0] = dict(reversed(document[key][0].items()))
    catalog, problems = parse_catalog(document, FILE)
    assert problems == []
    assert dump_catalog(catalog_to_json(catalog)) == _bundled()


def test_a_minimal_document_is_valid_and_every_top_level_key_is_optional() -> None:
    assert problems_of({}) == []
    assert problems_of({"format": FORMAT}) == []
    catalog, problems = parse_catalog({"works": [minimal_work()]}, FILE)
    assert problems == []
    (work,) = catalog.works
    assert (work.year, work.synopsis, work.credits, work.themes) == (None, None, [], [])


def test_null_lists_and_optional_fields_are_accepted() -> None:
    work = minimal_work(
        originalTitle=None, year=None, credits=None, themes=None, related=None, attributions=None
    )
    assert problems_of({"works": [work], "people": None}) == []


# -- one problem at a time: file, exact position, reason ---------------------------------------


def test_unknown_person_in_a_credit() -> None:
    document = bundled()
    document["works"][3]["credits"][0]["person"] = "kim-nobody"
    problem = only(problems_of(document))
    assert problem == Problem(FILE, "works[3].credits[0].person", "unknown person 'kim-nobody'")


@pytest.mark.parametrize(
    ("mutate", "position", "reason"),
    [
        (
            lambda d: d["works"][1]["themes"].append("comedy"),
            "works[1].themes[2]",
            "unknown theme 'comedy'",
        ),
        (
            lambda d: d["works"][6]["related"][0].update(work="the-flower-woman"),
            "works[6].related[0].work",
            "unknown work 'the-flower-woman'",
        ),
        (
            lambda d: d["works"][2]["sources"].append("wp-nowhere"),
            "works[2].sources[4]",
            "unknown source 'wp-nowhere'",
        ),
        (
            lambda d: d["works"][2]["credits"][1]["sources"].append("wp-nowhere"),
            "works[2].credits[1].sources[1]",
            "unknown source 'wp-nowhere'",
        ),
        (
            lambda d: d["people"][0]["sources"].append("wp-nowhere"),
            "people[0].sources[4]",
            "unknown source 'wp-nowhere'",
        ),
        (
            lambda d: d["people"][0]["attributions"].update(biography=["wp-nowhere"]),
            "people[0].attributions.biography[0]",
            "unknown source 'wp-nowhere'",
        ),
    ],
    ids=["theme", "related-work", "work-source", "credit-source", "person-source", "attribution"],
)
def test_unknown_references(mutate: Any, position: str, reason: str) -> None:
    document = bundled()
    mutate(document)
    assert only(problems_of(document)) == Problem(FILE, position, reason)


def test_references_may_point_at_names_known_from_elsewhere() -> None:
    document = {"works": [minimal_work(credits=[{"person": "kim-ki-nam", "role": "ACTOR"}])]}
    catalog, problems = parse_catalog(document, FILE)
    assert problems == []
    assert where(check_references(catalog, FILE, KnownNames())) == [
        (FILE, "works[0].credits[0].person")
    ]
    assert check_references(catalog, FILE, KnownNames(people=frozenset({"kim-ki-nam"}))) == []


@pytest.mark.parametrize(
    ("mutate", "position", "reason"),
    [
        (
            lambda d: d["works"][0].update(kind="MOVIE"),
            "works[0].kind",
            "must be one of FILM, SERIES; got 'MOVIE'",
        ),
        (
            lambda d: d["works"][0].update(kind="film"),
            "works[0].kind",
            "must be one of FILM, SERIES; got 'film'",
        ),
        (
            lambda d: d["works"][0].pop("kind"),
            "works[0].kind",
            "must be one of FILM, SERIES; got None",
        ),
        (
            lambda d: d["works"][2]["credits"][1].update(role="STAR"),
            "works[2].credits[1].role",
            "must be one of DIRECTOR, WRITER, ACTOR, COMPOSER, PRODUCER, CREATOR, OTHER, "
            "PRODUCTION_LEAD, SUBJECT;"
            " got 'STAR'",
        ),
        (
            lambda d: d["works"][6]["related"][0].update(type="INSPIRED_BY"),
            "works[6].related[0].type",
            "must be one of EXTENDS, ADAPTS, REMAKES, SEQUEL_OF, PART_OF; got 'INSPIRED_BY'",
        ),
    ],
    ids=["kind", "kind-lowercase", "kind-missing", "role", "relation-type"],
)
def test_bad_enum_values(mutate: Any, position: str, reason: str) -> None:
    document = bundled()
    mutate(document)
    assert only(problems_of(document)) == Problem(FILE, position, reason)


@pytest.mark.parametrize(
    ("year", "reason"),
    [
        (1800, "must be between 1888 and 2100; got 1800"),
        (1887, "must be between 1888 and 2100; got 1887"),
        (2101, "must be between 1888 and 2100; got 2101"),
        (2200, "must be between 1888 and 2100; got 2200"),
        ("1971", "expected an integer year, got a string"),
        (1971.0, "expected an integer year, got a number"),
        (True, "expected an integer year, got a boolean"),
    ],
)
def test_bad_years(year: Any, reason: str) -> None:
    document = bundled()
    document["works"][4]["year"] = year
    assert only(problems_of(document)) == Problem(FILE, "works[4].year", reason)


@pytest.mark.parametrize("year", [1888, 2100])
def test_years_at_the_bounds_are_valid(year: int) -> None:
    document = bundled()
    document["works"][4]["year"] = year
    assert problems_of(document) == []


@pytest.mark.parametrize(
    ("mutate", "position", "reason"),
    [
        (lambda d: d["works"][0].update(title="   "), "works[0].title", "must not be blank"),
        (lambda d: d["works"][0].update(title=""), "works[0].title", "must not be blank"),
        (lambda d: d["works"][0].pop("title"), "works[0].title", "is required"),
        (
            lambda d: d["works"][0].update(title=42),
            "works[0].title",
            "expected a string, got a number",
        ),
        (
            lambda d: d["works"][0].update(title="x" * 501),
            "works[0].title",
            "is longer than 500 characters",
        ),
        (lambda d: d["people"][2].update(name="\t\n"), "people[2].name", "must not be blank"),
        (
            lambda d: d["works"][1]["alternativeTitles"].append(" "),
            "works[1].alternativeTitles[4]",
            "must not be blank",
        ),
        (lambda d: d["themes"][3].update(name=None), "themes[3].name", "is required"),
        (
            lambda d: d["sources"][0].update(url="ftp://example.com/x"),
            "sources[0].url",
            "must be an http(s) URL",
        ),
    ],
    ids=[
        "blank-title",
        "empty-title",
        "missing-title",
        "number-title",
        "long-title",
        "blank-name",
        "blank-alternative",
        "null-theme-name",
        "bad-url",
    ],
)
def test_bad_text(mutate: Any, position: str, reason: str) -> None:
    document = bundled()
    mutate(document)
    assert only(problems_of(document)) == Problem(FILE, position, reason)


@pytest.mark.parametrize(
    ("mutate", "position"),
    [
        (lambda d: d["works"][5].update(synopsis="A girl\x00sells flowers."), "works[5].synopsis"),
        (lambda d: d["works"][5].update(title="The Flower\x00Girl"), "works[5].title"),
        (lambda d: d["people"][1].update(name="Chong\x00Gon-jo"), "people[1].name"),
        (lambda d: d["works"][5]["alternativeTitles"].__setitem__(1, "\x00"), None),
    ],
    ids=["synopsis", "title", "person-name", "alternative-title"],
)
def test_nul_characters_are_rejected(mutate: Any, position: str | None) -> None:
    document = bundled()
    mutate(document)
    problem = only(problems_of(document))
    assert problem.position == (position or "works[5].alternativeTitles[1]")
    assert problem.reason == "must not contain NUL characters"


@pytest.mark.parametrize(
    ("mutate", "position", "reason"),
    [
        (lambda d: d["works"][0].update(tittle="Typo"), "works[0]", "unknown key(s): tittle"),
        (
            lambda d: d["works"][0].update(directors=[], Year=1),
            "works[0]",
            "unknown key(s): Year, directors",
        ),
        (
            lambda d: d["works"][2]["credits"][0].update(name="x"),
            "works[2].credits[0]",
            "unknown key(s): name",
        ),
        (lambda d: d["people"][4].update(bio="x"), "people[4]", "unknown key(s): bio"),
        (lambda d: d["themes"][0].update(desc="x"), "themes[0]", "unknown key(s): desc"),
        (lambda d: d["sources"][0].update(link="x"), "sources[0]", "unknown key(s): link"),
        (
            lambda d: d["works"][3]["attributions"].update(director=["seed-document"]),
            "works[3].attributions",
            "unknown key(s): director",
        ),
        (lambda d: d.update(film=[]), "", "unknown key(s): film"),
    ],
    ids=["work", "work-two", "credit", "person", "theme", "source", "attributions", "top-level"],
)
def test_unknown_keys_are_rejected(mutate: Any, position: str, reason: str) -> None:
    document = bundled()
    mutate(document)
    problem = only(problems_of(document))
    assert problem.position == position
    assert reason in problem.reason


@pytest.mark.parametrize(
    ("mutate", "position", "reason"),
    [
        (
            lambda d: d["works"].append(copy.deepcopy(d["works"][0])),
            "works[10]",
            "duplicate work slug 'a-traffic-controller-on-crossroads'",
        ),
        (
            lambda d: d["people"].append(copy.deepcopy(d["people"][12])),
            "people[15]",
            "duplicate person slug 'shin-sang-ok'",
        ),
        (
            lambda d: d["themes"].insert(0, copy.deepcopy(d["themes"][2])),
            "themes[3]",
            "duplicate theme slug 'folklore'",
        ),
        (
            lambda d: d["sources"].append(
                copy.deepcopy(next(s for s in d["sources"] if s["key"] == "seed-document"))
            ),
            "sources[21]",
            "duplicate source key 'seed-document'",
        ),
        (
            lambda d: d["works"][3]["themes"].append("family"),
            "works[3].themes[4]",
            "duplicate theme 'family'",
        ),
        (
            lambda d: d["works"][3]["sources"].append(d["works"][3]["sources"][0]),
            "works[3].sources[4]",
            "duplicate source 'seed-document'",
        ),
    ],
    ids=["work", "person", "theme", "source", "work-theme", "work-source"],
)
def test_duplicates_are_rejected(mutate: Any, position: str, reason: str) -> None:
    document = bundled()
    mutate(document)
    assert only(problems_of(document)) == Problem(FILE, position, reason)


def test_a_duplicate_credit_is_rejected_but_another_role_is_not() -> None:
    document = bundled()
    credits = document["works"][2]["credits"]
    credits.append({"person": "shin-sang-ok", "role": "WRITER"})
    assert problems_of(document) == []
    credits.append({"person": "shin-sang-ok", "role": "DIRECTOR", "sources": []})
    problem = only(problems_of(document))
    assert problem.position == "works[2].credits[3]"
    assert problem.reason == "duplicate credit: shin-sang-ok is already credited DIRECTOR"


def test_a_work_cannot_relate_to_itself() -> None:
    document = bundled()
    document["works"][6]["related"][0]["work"] = "the-flower-girls-youth"
    assert only(problems_of(document)) == Problem(
        FILE, "works[6].related[0].work", "a work cannot relate to itself"
    )


@pytest.mark.parametrize(
    ("slug", "reason"),
    [
        ("Sea-of-Blood", "'Sea-of-Blood' is not a slug (lowercase a-z, 0-9 and hyphens)"),
        ("sea of blood", "'sea of blood' is not a slug (lowercase a-z, 0-9 and hyphens)"),
        ("-sea", "'-sea' is not a slug (lowercase a-z, 0-9 and hyphens)"),
        ("sea--blood", "'sea--blood' is not a slug (lowercase a-z, 0-9 and hyphens)"),
        ("피바다", "'피바다' is not a slug (lowercase a-z, 0-9 and hyphens)"),
        ("a" * 201, "is longer than 200 characters"),
    ],
)
def test_bad_slugs(slug: str, reason: str) -> None:
    document = bundled()
    document["works"][3]["slug"] = slug
    assert only(problems_of(document)) == Problem(FILE, "works[3].slug", reason)


@pytest.mark.parametrize(
    ("works", "reason"),
    [
        ({}, "expected a list, got an object"),
        ("sea-of-blood", "expected a list, got a string"),
        (3, "expected a list, got a number"),
    ],
)
def test_works_must_be_a_list(works: Any, reason: str) -> None:
    document = bundled()
    document["works"] = works
    catalog, problems = parse_catalog(document, FILE)
    assert only(problems) == Problem(FILE, "works", reason)
    assert catalog.works == []
    assert len(catalog.people) == 15  # the other sections are still read


def test_a_record_that_is_not_an_object_is_reported_and_the_rest_read() -> None:
    document = bundled()
    document["works"][2] = "pulgasari"
    catalog, problems = parse_catalog(document, FILE)
    assert only(problems) == Problem(FILE, "works[2]", "expected an object, got a string")
    assert len(catalog.works) == 9


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ([], "the document must be one JSON object (expected an object, got a list)"),
        ("catalog", "the document must be one JSON object (expected an object, got a string)"),
        (None, "the document must be one JSON object (expected an object, got null)"),
    ],
)
def test_the_top_level_must_be_an_object(document: Any, reason: str) -> None:
    catalog, problems = parse_catalog(document, FILE)
    assert problems == [Problem(FILE, "", reason)]
    assert catalog == Catalog()
    assert str(problems[0]) == f"{FILE}: {reason}"


@pytest.mark.parametrize("value", ["nkcinema-catalog/2", "nkcinema-catalog", None, 1])
def test_the_format_must_be_the_supported_one(value: Any) -> None:
    document = bundled()
    document["format"] = value
    assert only(problems_of(document)) == Problem(
        FILE, "format", f"must be 'nkcinema-catalog/1'; got {value!r}"
    )


# -- several problems --------------------------------------------------------------------------


def test_every_problem_in_a_file_is_reported() -> None:
    document = bundled()
    document["format"] = "other/1"
    document["sources"][1]["url"] = "not a url"
    document["themes"][0]["name"] = ""
    document["people"][3]["typo"] = True
    document["works"][1]["slug"] = document["works"][0]["slug"]
    document["works"][2]["credits"][1]["person"] = "nobody-here"
    document["works"][3]["kind"] = "MOVIE"
    document["works"][4]["year"] = 1800
    document["works"][5]["credits"][1]["role"] = "STAR"
    document["works"][6]["related"][0]["work"] = "the-flower-girls-youth"
    document["works"][7]["synopsis"] = "\x00"
    document["works"][8]["themes"].append("loyalty")
    problems = problems_of(document)
    assert sorted(where(problems)) == sorted(
        (FILE, position)
        for position in [
            "format",
            "sources[1].url",
            "themes[0].name",
            "people[3]",
            "works[1]",
            "works[2].credits[1].person",
            "works[3].kind",
            "works[4].year",
            "works[5].credits[1].role",
            "works[6].related[0].work",
            "works[7].synopsis",
            "works[8].themes[4]",
        ]
    )


def test_problems_in_different_records_of_one_section_are_all_reported() -> None:
    document = {
        "works": [
            minimal_work("one", kind="MOVIE"),
            minimal_work("two", title=" "),
            minimal_work("three", year=3000),
        ]
    }
    catalog, problems = parse_catalog(document, FILE)
    assert where(problems) == [
        (FILE, "works[0].kind"),
        (FILE, "works[1].title"),
        (FILE, "works[2].year"),
    ]
    assert catalog.works == []


def test_problems_name_their_own_file() -> None:
    good, bad = bundled(), bundled()
    bad["works"][0]["kind"] = "MOVIE"
    assert parse_catalog(good, "a.json")[1] == []
    assert where(parse_catalog(bad, "b.json")[1]) == [("b.json", "works[0].kind")]


def test_str_of_a_problem_has_file_position_and_reason() -> None:
    document = bundled()
    document["works"][3]["credits"][0]["person"] = "kim-nobody"
    problem = only(problems_of(document))
    assert str(problem) == f"{FILE}: works[3].credits[0].person: unknown person 'kim-nobody'"
    assert str(Problem("x.json", "", "cannot read the file")) == "x.json: cannot read the file"


# -- regressions: positions survive dropped records; whole-string patterns; all field problems


def problems_at(document: Any) -> list[tuple[str, str]]:
    """(position, reason) of every problem, references resolved as the loader resolves them:
    against the bundled catalog and every name the document declares."""
    catalog, problems = parse_catalog(document, FILE)
    names = known(parse_catalog(bundled(), "bundled")[0])
    names = KnownNames(
        sources=names.sources | catalog.declared.sources,
        themes=names.themes | catalog.declared.themes,
        people=names.people | catalog.declared.people,
        works=names.works | catalog.declared.works,
    )
    found = problems + check_references(catalog, FILE, names)
    return [(p.position, p.reason) for p in found]


def test_positions_count_from_the_document_even_after_a_dropped_record() -> None:
    document = {
        "works": [
            {"slug": "a", "title": "A", "kind": "MOVIE"},
            {"slug": "x", "title": "X", "kind": "FILM"},
            {"slug": "x", "title": "X2", "kind": "FILM"},
            {
                "slug": "b",
                "title": "B",
                "kind": "FILM",
                "credits": [
                    {"person": "p", "role": "STAR"},
                    {"person": "nobody", "role": "DIRECTOR"},
                    {"person": "nobody", "role": "DIRECTOR"},
                ],
            },
        ]
    }
    found = problems_at(document)
    assert ("works[0].kind", "must be one of FILM, SERIES; got 'MOVIE'") in found
    assert ("works[2]", "duplicate work slug 'x'") in found
    assert ("works[3].credits[0].role", reason_at(found, "works[3].credits[0].role")) in found
    assert (
        "works[3].credits[2]",
        "duplicate credit: nobody is already credited DIRECTOR",
    ) in found


def reason_at(found: list[tuple[str, str]], position: str) -> str:
    reasons = [reason for at, reason in found if at == position]
    assert reasons, f"no problem reported at {position}: {found}"
    return reasons[0]


def test_references_of_a_later_record_keep_their_own_position() -> None:
    document = {
        "works": [
            {"slug": "a", "title": "A", "kind": "MOVIE"},
            {
                "slug": "b",
                "title": "B",
                "kind": "FILM",
                "credits": [{"person": "nobody", "role": "DIRECTOR"}],
                "related": [{"type": "EXTENDS", "work": "a"}],
            },
        ]
    }
    found = problems_at(document)
    assert ("works[1].credits[0].person", "unknown person 'nobody'") in found
    # `a` failed validation but is declared: no second, misleading "unknown work" problem
    assert not [at for at, _ in found if at == "works[1].related[0].work"]


@pytest.mark.parametrize("slug", ["abc\n", "abc\r\n", " abc", "abc-"])
def test_slugs_must_match_as_a_whole(slug: str) -> None:
    found = problems_at({"works": [minimal_work(slug)]})
    assert [at for at, _ in found] == ["works[0].slug"]


def test_source_keys_and_urls_must_match_as_a_whole() -> None:
    document = {
        "sources": [
            {"key": "ok\n", "title": "T", "url": None},
            {"key": "fine", "title": "T", "url": "https://example.org/a\n"},
        ]
    }
    assert [at for at, _ in problems_at(document)] == ["sources[0].key", "sources[1].url"]


def test_duplicate_relations_are_a_validation_problem() -> None:
    document = {
        "works": [
            minimal_work("x"),
            {
                **minimal_work("y"),
                "related": [{"type": "EXTENDS", "work": "x"}, {"type": "EXTENDS", "work": "x"}],
            },
        ]
    }
    assert problems_at(document) == [
        ("works[1].related[1]", "duplicate relation: already EXTENDS x")
    ]


def test_every_bad_field_of_a_record_is_reported() -> None:
    document = {"works": [{"slug": "w", "title": " ", "kind": "MOVIE", "year": 1700}]}
    assert [at for at, _ in problems_at(document)] == [
        "works[0].title",
        "works[0].kind",
        "works[0].year",
    ]


@pytest.mark.parametrize("attributions", [[], "", 0])
def test_attributions_must_be_an_object(attributions: Any) -> None:
    document = {"works": [{**minimal_work("w"), "attributions": attributions}]}
    assert [at for at, _ in problems_at(document)] == ["works[0].attributions"]
