"""db.interchange.format: the keys of statements with their own sources (issue #22) — typed
title and name forms, credits' notes, qualifiers and episodes, relations' sources, disputes'
qualifiers and reported people: valid ones round-trip, bad ones are reported where they are,
and documents without them load and serialise as before."""

from __future__ import annotations

import json
from typing import Any

import pytest

from db.enums import CreditRole, Qualifier, RomanizationSystem, TitleKind
from db.interchange.format import (
    Catalog,
    KnownNames,
    Problem,
    catalog_to_json,
    check_references,
    dump_catalog,
    parse_catalog,
)
from seeds import BUNDLED_CATALOG

FILE = "statements.json"


def bundled() -> dict[str, Any]:
    return json.loads(BUNDLED_CATALOG.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _known(catalog: Catalog) -> KnownNames:
    return KnownNames(
        sources=frozenset(s.key for s in catalog.sources),
        themes=frozenset(t.slug for t in catalog.themes),
        people=frozenset(p.slug for p in catalog.people),
        works=frozenset(w.slug for w in catalog.works),
    )


def problems_of(document: Any) -> list[tuple[str, str]]:
    catalog, problems = parse_catalog(document, FILE)
    found: list[Problem] = problems + check_references(catalog, FILE, _known(catalog))
    return [(p.position, p.reason) for p in found]


def document(work: dict[str, Any] | None = None, person: dict[str, Any] | None = None) -> Any:
    return {
        "sources": [{"key": "ref", "title": "A reference", "url": "https://example.org/a"}],
        "people": [{"slug": "kim", "name": "Kim", "originalName": "김", **(person or {})}],
        "works": [
            {"slug": "other", "title": "Other", "kind": "FILM"},
            {
                "slug": "film",
                "title": "Film",
                "originalTitle": "영화",
                "kind": "FILM",
                **(work or {}),
            },
        ],
    }


def form(text: str, kind: str = "ALTERNATIVE", **more: Any) -> dict[str, Any]:
    return {"text": text, "kind": kind, **more, "sources": more.pop("sources", ["ref"])}


def test_the_bundled_catalog_carries_typed_titles_names_and_reported_people() -> None:
    catalog, problems = parse_catalog(bundled(), "bundled")
    assert problems == []
    sea = next(w for w in catalog.works if w.slug == "sea-of-blood")
    hyeolhae = next(t for t in sea.titles if t.text == "혈해")
    assert (hyeolhae.kind, hyeolhae.language, hyeolhae.script) == (
        TitleKind.ALTERNATIVE,
        "ko",
        "Hang",
    )
    assert hyeolhae.sources == ["wp-sea-of-blood"]
    directors = next(d for d in sea.disputes if d.field == "directors")
    assert [(r.person, r.role) for r in directors.reported_people] == [
        ("choe-ik-kyu", CreditRole.DIRECTOR)
    ]
    boy = next(w for w in catalog.works if w.slug == "boy-commander")
    writer = next(c for c in boy.credits if c.person == "ri-yong-chun")
    assert (writer.role, writer.episodes) == (CreditRole.WRITER, (51, 100))
    choe = next(p for p in catalog.people if p.slug == "choe-ik-kyu")
    mr = next(n for n in choe.names if n.text == "Ch'oe Ik-kyu")
    assert mr.romanization == RomanizationSystem.MR


def test_every_new_key_round_trips_canonically() -> None:
    doc = document(
        work={
            "titles": [
                form("Film", "MAIN"),
                form("영화", "ORIGINAL", language="ko", script="Hang"),
                form(
                    "Yeonghwa", "TRANSLITERATION", language="ko", script="Latn", romanization="RR"
                ),
                form("다른 영화", "ORIGINAL", qualifier="PROBABLY"),
            ],
            "credits": [
                {
                    "person": "kim",
                    "role": "WRITER",
                    "sources": ["ref"],
                    "note": "Episodes 51–100 only.",
                    "qualifier": "UNCONFIRMED",
                    "episodes": {"first": 51, "last": 100},
                },
                {"person": "kim", "role": "PRODUCTION_LEAD", "sources": ["ref"]},
            ],
            "related": [{"type": "EXTENDS", "work": "other", "sources": ["ref"]}],
            "disputes": [
                {
                    "field": "directors",
                    "stated": "Nobody",
                    "reported": "Kim",
                    "source": "ref",
                    "qualifier": "SOMETIMES",
                    "reportedPeople": [{"person": "kim", "role": "DIRECTOR"}],
                }
            ],
        },
        person={"names": [form("Kim", "MAIN"), form("김", "ORIGINAL")]},
    )
    assert problems_of(doc) == []
    catalog, _ = parse_catalog(doc, FILE)
    text = dump_catalog(catalog_to_json(catalog))
    again, problems = parse_catalog(json.loads(text), FILE)
    assert problems == []
    assert dump_catalog(catalog_to_json(again)) == text
    film = next(w for w in again.works if w.slug == "film")
    assert film.titles[3].qualifier == Qualifier.PROBABLY
    assert film.credits[0].episodes == (51, 100)
    assert film.related[0].sources == ["ref"]
    assert film.disputes[0].reported_people[0].person == "kim"


def test_documents_without_the_new_keys_serialise_without_them() -> None:
    catalog, problems = parse_catalog(document(), FILE)
    assert problems == []
    serialised = catalog_to_json(catalog)
    work = serialised["works"][0]
    assert "titles" not in work and "names" not in serialised["people"][0]


@pytest.mark.parametrize(
    ("work", "position", "reason"),
    [
        (
            {"titles": [form("Film", "MAIN", sources=[])]},
            "works[1].titles[0].sources",
            "a stated form needs the sources stating it",
        ),
        (
            {"titles": [form("Another", "MAIN")]},
            "works[1].titles[0].text",
            "MAIN form must be the record's own ('Film')",
        ),
        (
            {"titles": [form("다른", "ORIGINAL")]},
            "works[1].titles[0].text",
            "ORIGINAL form must be the record's own ('영화')",
        ),
        (
            {"titles": [form("Yeonghwa", romanization="RR", script="Hang")]},
            "works[1].titles[0].romanization",
            "only a Latin-script form (script 'Latn') has one",
        ),
        (
            {"titles": [form("X", language="Korean")]},
            "works[1].titles[0].language",
            '\'Korean\' is not a BCP 47 language tag ("ko", "en", "ko-Latn")',
        ),
        (
            {"titles": [form("X", script="hang")]},
            "works[1].titles[0].script",
            "'hang' is not an ISO 15924 script (\"Hang\")",
        ),
        (
            {"titles": [form("X", qualifier="MAYBE")]},
            "works[1].titles[0].qualifier",
            "must be one of PROBABLY, SOMETIMES, UNCONFIRMED; got 'MAYBE'",
        ),
        (
            {"titles": [form("X"), form("X")]},
            "works[1].titles[1]",
            "duplicate ALTERNATIVE form 'X'",
        ),
        (
            {"titles": [form("X", sources=["nowhere"])]},
            "works[1].titles[0].sources[0]",
            "unknown source 'nowhere'",
        ),
        (
            {
                "credits": [
                    {"person": "kim", "role": "WRITER", "episodes": {"first": 10, "last": 2}}
                ]
            },
            "works[1].credits[0].episodes.last",
            "must not be before first (10)",
        ),
        (
            {"credits": [{"person": "kim", "role": "WRITER", "episodes": {"first": 0, "last": 2}}]},
            "works[1].credits[0].episodes.first",
            "must be between 1 and 100000",
        ),
        (
            {"related": [{"type": "EXTENDS", "work": "other", "sources": ["nowhere"]}]},
            "works[1].related[0].sources[0]",
            "unknown source 'nowhere'",
        ),
        (
            {
                "disputes": [
                    {
                        "field": "directors",
                        "stated": "A",
                        "reported": "B",
                        "source": "ref",
                        "reportedPeople": [{"person": "nobody", "role": "DIRECTOR"}],
                    }
                ]
            },
            "works[1].disputes[0].reportedPeople[0].person",
            "unknown person 'nobody'",
        ),
    ],
)
def test_bad_statements_are_reported_where_they_are(
    work: dict[str, Any], position: str, reason: str
) -> None:
    assert (position, reason) in problems_of(document(work=work))


def test_a_qualified_original_title_need_not_be_the_records_own() -> None:
    doc = document(work={"titles": [form("네거리 초병", "ORIGINAL", qualifier="PROBABLY")]})
    assert problems_of(doc) == []


def test_a_persons_names_are_checked_like_a_works_titles() -> None:
    doc = document(person={"names": [form("Lee", "MAIN")]})
    assert ("people[0].names[0].text", "MAIN form must be the record's own ('Kim')") in (
        problems_of(doc)
    )
