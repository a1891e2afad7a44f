"""The seed catalog (seeds/catalog.json) must hold every statement of the seed document.

The seed document's own text is parsed here, independently of the catalog, so that any entry
whose title, year, kind or director is missing or altered in the catalog fails the suite.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

SEEDS_DIR = Path(__file__).resolve().parents[2] / "seeds"
SEED_DOCUMENT = SEEDS_DIR / "000_14e5cf84a50bc851.txt"
CATALOG = SEEDS_DIR / "catalog.json"
SEED_KEY = "seed-document"

SECTIONS = {"North Korean Movies:": "FILM", "North Korean Series:": "SERIES"}
SECTION_RE = re.compile(r"^(North Korean (?:Movies|Series):)\s*$", re.MULTILINE)
ENTRY_RE = re.compile(r'^"(?P<title>[^"]+)" \((?P<year>\d{4})\) - (?P<text>.+)$', re.MULTILINE)
# A romanized Korean name: "Choe Ik-kyu", "Kim Jong-chul", "Shin Sang-ok".
NAME = r"[A-Z][a-z]+(?: [A-Z][a-z]+(?:-[a-z]+)?)+"
# "Directed by X", "directed by X", and "Directed by Kim Jong-un's brother, X" (the name is X).
DIRECTOR_RE = re.compile(rf"[Dd]irected by (?:[^,.]*'s [a-z]+, )?(?P<name>{NAME})")

WORK_SEED_FIELDS = ("title", "kind", "year", "synopsis", "themes")
WORK_ATTRIBUTABLE = (
    "title",
    "originalTitle",
    "alternativeTitles",
    "kind",
    "forms",
    "audience",
    "year",
    "synopsis",
    "themes",
    "related",
)
PERSON_ATTRIBUTABLE = ("name", "originalName", "alternativeNames", "biography")


@dataclass(frozen=True)
class SeedEntry:
    title: str
    year: int
    kind: str
    director: str | None


def slugify(text: str) -> str:
    """The catalog's slug rule: apostrophes dropped, other non-alphanumeric runs -> '-'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower().replace("'", "")).strip("-")


def parse_director(text: str) -> str | None:
    match = DIRECTOR_RE.search(text)
    return match.group("name") if match else None


def parse_seed_document(text: str) -> list[SeedEntry]:
    entries: list[SeedEntry] = []
    parts = SECTION_RE.split(text)
    # parts = [preamble, heading, body, heading, body, ...]
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        kind = SECTIONS[heading]
        for match in ENTRY_RE.finditer(body):
            entries.append(
                SeedEntry(
                    title=match.group("title"),
                    year=int(match.group("year")),
                    kind=kind,
                    director=parse_director(match.group("text")),
                )
            )
    return entries


@cache
def seed_entries() -> tuple[SeedEntry, ...]:
    return tuple(parse_seed_document(SEED_DOCUMENT.read_text(encoding="utf-8")))


@cache
def load_catalog() -> dict[str, Any]:
    catalog: dict[str, Any] = json.loads(CATALOG.read_text(encoding="utf-8"))
    return catalog


def works_by_slug() -> dict[str, dict[str, Any]]:
    return {work["slug"]: work for work in load_catalog()["works"]}


def people_by_slug() -> dict[str, dict[str, Any]]:
    return {person["slug"]: person for person in load_catalog()["people"]}


def source_keys() -> set[str]:
    return {source["key"] for source in load_catalog()["sources"]}


def director_credits(work: dict[str, Any]) -> list[dict[str, Any]]:
    return [credit for credit in work["credits"] if credit["role"] == "DIRECTOR"]


def has_value(value: Any) -> bool:
    return value is not None and value != []


def referenced_source_keys(catalog: dict[str, Any]) -> set[str]:
    keys: set[str] = set()
    for person in catalog["people"]:
        keys.update(person["sources"])
        for attributed in person["attributions"].values():
            keys.update(attributed)
    for work in catalog["works"]:
        keys.update(work["sources"])
        for attributed in work["attributions"].values():
            keys.update(attributed)
        for credit in work["credits"]:
            keys.update(credit["sources"])
        keys.update(dispute["source"] for dispute in work["disputes"])
    return keys


def test_seed_document_parses_into_ten_entries() -> None:
    entries = seed_entries()
    kinds = [entry.kind for entry in entries]
    assert len(entries) == 10, entries
    assert kinds.count("FILM") == 5
    assert kinds.count("SERIES") == 5
    assert len({slugify(entry.title) for entry in entries}) == 10


def test_director_parsing() -> None:
    assert parse_director("Directed by Choe Ik-kyu, this classic film") == "Choe Ik-kyu"
    assert parse_director("This series, directed by Choe Ik-kyu, is") == "Choe Ik-kyu"
    assert (
        parse_director("Directed by Kim Jong-un's brother, Kim Jong-chul, this series")
        == "Kim Jong-chul"
    )
    assert (
        parse_director("Directed by Shin Sang-ok, a South Korean director kidnapped")
        == "Shin Sang-ok"
    )
    assert parse_director("This series is an extension of the original film") is None


def test_catalog_has_exactly_the_seed_works() -> None:
    assert load_catalog()["format"] == "nkcinema-catalog/1"
    assert set(works_by_slug()) == {slugify(entry.title) for entry in seed_entries()}


@pytest.mark.parametrize("entry", seed_entries(), ids=lambda entry: entry.title)
def test_seed_entry_is_in_catalog_as_stated(entry: SeedEntry) -> None:
    work = works_by_slug().get(slugify(entry.title))
    assert work is not None, f"{entry.title!r} missing from catalog.json"
    assert work["title"] == entry.title
    assert work["year"] == entry.year
    assert work["kind"] == entry.kind

    directors = director_credits(work)
    if entry.director is None:
        assert not [c for c in directors if SEED_KEY in c["sources"]]
        return
    assert directors, f"{entry.title!r} has no DIRECTOR credit"
    first = directors[0]
    assert SEED_KEY in first["sources"]
    person = people_by_slug().get(first["person"])
    assert person is not None, f"unknown person {first['person']!r}"
    assert person["name"] == entry.director


def test_every_work_has_a_theme_and_every_theme_is_used() -> None:
    catalog = load_catalog()
    vocabulary = {theme["slug"] for theme in catalog["themes"]}
    used: set[str] = set()
    for work in catalog["works"]:
        assert work["themes"], f"{work['slug']} has no theme"
        assert set(work["themes"]) <= vocabulary, work["slug"]
        used.update(work["themes"])
    assert used == vocabulary


def test_every_referenced_source_exists() -> None:
    catalog = load_catalog()
    assert referenced_source_keys(catalog) <= source_keys()
    seed = next(s for s in catalog["sources"] if s["key"] == SEED_KEY)
    assert seed == {"key": SEED_KEY, "title": SEED_DOCUMENT.name, "url": None}


def test_every_credited_person_exists() -> None:
    people = people_by_slug()
    for work in load_catalog()["works"]:
        for credit in work["credits"]:
            assert credit["person"] in people, (work["slug"], credit["person"])


def test_seed_stated_fields_are_attributed_to_the_seed() -> None:
    people = people_by_slug()
    for work in load_catalog()["works"]:
        attributions = work["attributions"]
        for field in WORK_SEED_FIELDS:
            assert SEED_KEY in attributions.get(field, []), (work["slug"], field)
        if work["related"]:
            assert SEED_KEY in attributions.get("related", []), work["slug"]
        for credit in director_credits(work):
            if SEED_KEY in credit["sources"]:
                person = people[credit["person"]]
                assert SEED_KEY in person["attributions"].get("name", []), person["slug"]


@pytest.mark.parametrize(
    ("collection", "fields"), [("works", WORK_ATTRIBUTABLE), ("people", PERSON_ATTRIBUTABLE)]
)
def test_attributions_cover_exactly_the_fields_with_values(
    collection: str, fields: tuple[str, ...]
) -> None:
    for record in load_catalog()[collection]:
        expected = {field for field in fields if has_value(record.get(field))}
        attributed = set(record["attributions"])
        assert attributed == expected, record["slug"]
        assert all(record["attributions"][field] for field in attributed), record["slug"]


def test_every_dispute_cites_a_reference_with_a_url() -> None:
    urls = {source["key"]: source["url"] for source in load_catalog()["sources"]}
    for work in load_catalog()["works"]:
        for dispute in work["disputes"]:
            assert urls.get(dispute["source"]), (work["slug"], dispute)
