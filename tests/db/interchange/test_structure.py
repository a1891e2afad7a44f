"""The interchange format's structure keys and studios (docs/catalog-format-structure.md):
validated by the API's rules, written only where set (older documents read and export as
before), loaded and exported again unchanged."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import Audience, EventKind, PartUnit, Qualifier, WorkForm
from db.interchange.export import export_catalog
from db.interchange.format import (
    KnownNames,
    catalog_to_json,
    check_references,
    dump_catalog,
    parse_catalog,
    work_json,
)
from db.interchange.load import load_catalogs
from seeds import BUNDLED_CATALOG

FILE = "structure.json"


def bundled() -> dict[str, Any]:
    return json.loads(BUNDLED_CATALOG.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def event(**fields: Any) -> dict[str, Any]:
    return {"kind": "MADE", "date": "1988", "sources": ["s"], **fields}


def work(**fields: Any) -> dict[str, Any]:
    return {"slug": "w", "title": "W", "kind": "FILM", **fields}


def problems(document: dict[str, Any]) -> list[tuple[str, str]]:
    document = {"sources": [{"key": "s", "title": "S", "url": None}], **document}
    catalog, found = parse_catalog(document, FILE)
    names = KnownNames(sources=frozenset({"s"}), studios=catalog.declared.studios)
    found += check_references(catalog, FILE, names)
    return [(p.position, p.reason) for p in found]


def test_the_bundled_structure_is_typed() -> None:
    catalog, found = parse_catalog(bundled(), FILE)
    assert found == []
    works = {w.slug: w for w in catalog.works}
    boy = works["boy-commander"]
    assert boy.forms == [WorkForm.ANIMATION, WorkForm.TV_SERIES]
    assert boy.audience is Audience.CHILDREN
    assert [(p.unit, p.first, p.last) for p in boy.parts] == [
        (PartUnit.EPISODE, 1, 50),
        (PartUnit.EPISODE, 51, 100),
    ]
    assert [(e.kind, e.date, e.until) for e in boy.parts[0].events] == [
        (EventKind.BROADCAST, "1982", "1997")
    ]
    [premiere] = works["pulgasari"].events
    assert premiere.qualifier is Qualifier.SOMETIMES
    assert {s.slug for s in catalog.studios} == {
        "korean-art-film-studio",
        "korean-april-26-animation-studio",
    }


def test_a_document_without_the_new_keys_reads_and_writes_as_before() -> None:
    """An older document: no structure keys come out of it, and its records compare equal."""
    old = {"works": [work(credits=[], themes=[], related=[], sources=["s"])]}
    catalog, found = parse_catalog(copy.deepcopy(old), FILE)
    assert found == []
    written = work_json(catalog.works[0])
    assert not {"forms", "audience", "parts", "events", "studios", "basedOn"} & set(written)
    assert "studios" not in catalog_to_json(catalog)


def test_structure_round_trips_through_the_format() -> None:
    document = {
        "sources": [{"key": "s", "title": "S", "url": None}],
        "studios": [{"slug": "st", "name": "Studio", "originalName": None, "sources": ["s"]}],
        "works": [
            work(
                forms=["FEATURE"],
                audience="GENERAL",
                parts=[{"unit": "PART", "first": 2, "title": "Two", "sources": ["s"]}],
                events=[event(date="1971-07-17", until="1971-07-18", place="Pyongyang")],
                studios=[{"studio": "st", "role": "production", "sources": ["s"]}],
                basedOn=[{"title": "T", "form": "opera", "qualifier": "PROBABLY", "sources": []}],
            )
        ],
    }
    catalog, found = parse_catalog(document, FILE)
    assert found == []
    text = dump_catalog(catalog_to_json(catalog))
    again, found = parse_catalog(json.loads(text), FILE)
    assert found == []
    assert dump_catalog(catalog_to_json(again)) == text
    part = json.loads(text)["works"][0]["parts"][0]
    assert (part["first"], part["last"], part["events"]) == (2, 2, [])  # `last` defaults


@pytest.mark.parametrize(
    ("document", "position", "reason"),
    [
        ({"works": [work(events=[event(date="2006-13")])]}, "works[0].events[0].date", "month"),
        ({"works": [work(events=[event(date="2007-02-30")])]}, "works[0].events[0].date", "day"),
        ({"works": [work(events=[event(date="88")])]}, "works[0].events[0].date", "not a date"),
        ({"works": [work(events=[event(date="1850")])]}, "works[0].events[0].date", "between"),
        ({"works": [work(events=[event(date=1988)])]}, "works[0].events[0].date", "string"),
        (
            {"works": [work(events=[event(date="1997", until="1982")])]},
            "works[0].events[0].until",
            "before",
        ),
        ({"works": [work(events=[event(kind="OPENED")])]}, "works[0].events[0].kind", "one of"),
        (
            {"works": [work(events=[event(qualifier="MAYBE")])]},
            "works[0].events[0].qualifier",
            "one of",
        ),
        (
            {"works": [work(parts=[{"unit": "PART", "first": 5, "last": 2}])]},
            "works[0].parts[0].last",
            "less than first",
        ),
        (
            {"works": [work(parts=[{"unit": "PART", "first": 0}])]},
            "works[0].parts[0].first",
            "between",
        ),
        (
            {"works": [work(parts=[{"unit": "REEL", "first": 1}])]},
            "works[0].parts[0].unit",
            "one of",
        ),
        (
            {"works": [work(parts=[{"unit": "PART", "first": 1, "events": [event(day=1)]}])]},
            "works[0].parts[0].events[0]",
            "unknown key",
        ),
        ({"works": [work(forms=["FEATURE", "FEATURE"])]}, "works[0].forms[1]", "duplicate"),
        ({"works": [work(audience="ADULTS")]}, "works[0].audience", "one of"),
        (
            {"works": [work(studios=[{"studio": "nowhere", "role": "production"}])]},
            "works[0].studios[0].studio",
            "unknown studio",
        ),
        (
            {"works": [work(studios=[{"studio": "st", "role": " "}])]},
            "works[0].studios[0].role",
            "blank",
        ),
        (
            {"works": [work(events=[event(sources=["nowhere"])])]},
            "works[0].events[0].sources[0]",
            "unknown source",
        ),
        ({"works": [work(basedOn=[{"title": "T"}])]}, "works[0].basedOn[0].form", "required"),
        (
            {"studios": [{"slug": "Bad Slug", "name": "S"}]},
            "studios[0].slug",
            "not a slug",
        ),
    ],
)
def test_bad_structure_is_reported_where_it_is(
    document: dict[str, Any], position: str, reason: str
) -> None:
    found = problems(document)
    assert any(p == position and reason in r for p, r in found), found


async def test_structure_loads_and_exports_unchanged(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """A changed work's structure is replaced, not added to; the export is the document."""
    document = bundled()
    boy = next(w for w in document["works"] if w["slug"] == "boy-commander")
    boy["parts"] = boy["parts"][:1]
    boy["parts"][0]["events"].append(
        {
            "kind": "PREMIERE",
            "date": "1982-09",
            "until": None,
            "place": "Pyongyang",
            "qualifier": "PROBABLY",
            "note": None,
            "sources": ["seed-document"],
        }
    )
    boy["audience"] = "GENERAL"
    report = await load_catalogs(session, [("changed.json", document)])
    assert report.counts["works"]["updated"] == 1
    await session.flush()
    async with sessions() as other:
        exported = await export_catalog(other)
    assert exported == dump_catalog(catalog_to_json(parse_catalog(document, FILE)[0]))
