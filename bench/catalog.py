"""A deterministic synthetic catalog of N works, built as plain rows for Core bulk inserts.

Shape: about N/2 people, 300 themes, 1-3 directors and 0-4 other credits per work, 1-5
themes per work (a few themes are very common), a skewed works-per-director distribution
(a dozen directors with 100+ works at N = 100,000, most with a handful), years 1945-2020
with about 5% unknown, titles from a word list (so searches hit), Hangul original titles
and names, and alternative titles on about 20% of works.

Derived columns are filled exactly as ``db.catalog_io`` fills them: ``title_key``/``name_key``
with ``sort_key`` and ``search_text`` with ``search_document`` over all of a record's names.
"""

from __future__ import annotations

import functools
import itertools
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table

from db import models as m
from db import text
from db.base import Base
from db.enums import CreditRole, WorkKind
from seeds.synthetic import (
    PROLIFIC_CAREERS,
    REGULAR_CAREER_MAX,
    SURNAME_VARIANTS,
    SURNAMES,
    SYLLABLES,
    THEME_QUALITIES,
    THEME_SUBJECTS,
    alternative_title,
    random_hangul_title,
    random_title,
)

# The word lists, career sizes and title generators above are the seed generator's
# (nkcinema seed --synthetic), so both catalogs are drawn the same way.

Row = dict[str, Any]

THEME_COUNT = 300
PEOPLE_PER_WORK = 0.5
YEAR_FIRST, YEAR_LAST, YEAR_MODE = 1945, 2020, 1978
UNKNOWN_YEAR_SHARE = 0.05
ALTERNATIVE_TITLE_SHARE = 0.20
ORIGINAL_TITLE_SHARE = 0.40
HANGUL_TITLE_SHARE = 0.05

# Titles and names repeat a lot, so their derived keys are computed once each.
slugify = functools.cache(text.slugify)
sort_key = functools.cache(text.sort_key)


@functools.cache
def _search_document(names: tuple[str, ...]) -> str:
    return text.search_document(list(names))


def search_document(names: list[str]) -> str:
    """``db.text.search_document``, memoized."""
    return _search_document(tuple(names))


OTHER_ROLES = (
    CreditRole.WRITER,
    CreditRole.ACTOR,
    CreditRole.ACTOR,
    CreditRole.COMPOSER,
    CreditRole.PRODUCER,
)


@dataclass(frozen=True)
class TableRows:
    table: Table
    rows: list[Row]


@dataclass
class Catalog:
    """The rows to insert (parents before children) and what the workloads need to know."""

    seed: int
    tables: list[TableRows] = field(default_factory=list)
    directors_by_works: list[tuple[str, int]] = field(default_factory=list)
    themes_by_works: list[tuple[str, int]] = field(default_factory=list)

    @property
    def works(self) -> int:
        return self.counts()["works"]

    def counts(self) -> dict[str, int]:
        return {t.table.name: len(t.rows) for t in self.tables}


def build_catalog(works: int, seed: int = 3) -> Catalog:
    """A catalog of ``works`` works; the same ``works`` and ``seed`` give the same rows."""
    rng = random.Random(seed)
    themes = _themes()
    people, alternative_names = _people(rng, max(round(works * PEOPLE_PER_WORK), 10))
    director_slots = [rng.choices((1, 2, 3), weights=(70, 22, 8))[0] for _ in range(works)]
    careers = _director_careers(rng, works, sum(director_slots), len(people))
    work_rows, alternative_titles = _works(rng, works, [p["name"] for p in people])
    credits = _credits(rng, director_slots, careers, len(people))
    tags = _tags(rng, works)
    # The array migration 0010's triggers keep on each work's row, stored with the work so
    # that the tags' statements find it right and rewrite nothing (db.catalog_io does so too).
    for work, tagged in zip(work_rows, _tag_arrays(tags, works), strict=True):
        work["theme_ids"] = tagged

    catalog = Catalog(seed=seed)
    for model, rows in (
        (m.Theme, themes),
        (m.Person, people),
        (m.PersonAlternativeName, alternative_names),
        (m.Work, work_rows),
        (m.WorkAlternativeTitle, alternative_titles),
        (m.WorkTheme, tags),  # before credits, which copy the tags (db.catalog_io says why)
        (m.Credit, credits),
    ):
        catalog.tables.append(TableRows(Base.metadata.tables[model.__tablename__], rows))
    catalog.directors_by_works = _most_works(
        (c["person_id"] for c in credits if c["role"] == CreditRole.DIRECTOR),
        {p["id"]: p["slug"] for p in people},
    )
    catalog.themes_by_works = _most_works(
        (t["theme_id"] for t in tags), {t["id"]: t["slug"] for t in themes}
    )
    return catalog


def _themes() -> list[Row]:
    names = [f"{q} {s}" for q, s in itertools.product(THEME_QUALITIES, THEME_SUBJECTS)]
    return [
        {
            "id": i,
            "slug": slugify(name),
            "name": name,
            "name_key": sort_key(name),
            "description": None,
            "search_text": search_document([name]),
        }
        for i, name in enumerate(names[:THEME_COUNT], start=1)
    ]


def _people(rng: random.Random, count: int) -> tuple[list[Row], list[Row]]:
    """People (half with a Hangul name) and the other spellings of some of their names."""
    people: list[Row] = []
    alternatives: list[Row] = []
    for person_id in range(1, count + 1):
        (surname, hangul_surname), (a, ha), (b, hb) = (
            rng.choice(SURNAMES),
            rng.choice(SYLLABLES),
            rng.choice(SYLLABLES),
        )
        name = f"{surname} {a.capitalize()}-{b}"
        original = f"{hangul_surname}{ha}{hb}" if rng.random() < 0.5 else None
        variants: list[str] = []
        if rng.random() < 0.15:
            variants.append(f"{SURNAME_VARIANTS.get(surname, surname)} {a.capitalize()}{b}")
            alternatives.append({"person_id": person_id, "position": 0, "name": variants[0]})
        people.append(
            {
                "id": person_id,
                "slug": f"{slugify(name)}-{person_id}",
                "name": name,
                "name_key": sort_key(name),
                "original_name": original,
                "biography": None,
                "search_text": search_document(
                    [name, *([original] if original else []), *variants]
                ),
            }
        )
    return people, alternatives


def _director_careers(rng: random.Random, works: int, slots: int, people: int) -> list[int]:
    """Director person ids, one per director credit, in random order: a few prolific
    directors (hundreds of works at 100,000 works), most with a handful (log-normal)."""
    scale = works / 100_000
    careers: list[int] = []
    person_id = 1
    for size in PROLIFIC_CAREERS:
        careers.extend([person_id] * max(3, round(size * scale)))
        person_id += 1
    while len(careers) < slots:
        size = min(REGULAR_CAREER_MAX, 1 + int(rng.lognormvariate(1.2, 0.9)))
        careers.extend([(person_id - 1) % people + 1] * size)
        person_id += 1
    rng.shuffle(careers)
    return careers[:slots]


def _works(rng: random.Random, count: int, names: list[str]) -> tuple[list[Row], list[Row]]:
    works: list[Row] = []
    alternatives: list[Row] = []
    for work_id in range(1, count + 1):
        original: str | None = None
        if rng.random() < HANGUL_TITLE_SHARE:
            title = random_hangul_title(rng)
        else:
            title = random_title(rng, names)
            if rng.random() < ORIGINAL_TITLE_SHARE:
                original = random_hangul_title(rng)
        others: list[str] = []
        if rng.random() < ALTERNATIVE_TITLE_SHARE:
            for position in range(rng.choice((1, 1, 2))):
                other = alternative_title(rng, title, names)
                others.append(other)
                alternatives.append({"work_id": work_id, "position": position, "title": other})
        known = rng.random() >= UNKNOWN_YEAR_SHARE
        year = round(rng.triangular(YEAR_FIRST, YEAR_LAST, YEAR_MODE)) if known else None
        works.append(
            {
                "id": work_id,
                "slug": "-".join(filter(None, (slugify(title), str(work_id)))),
                "title": title,
                "title_key": sort_key(title),
                "original_title": original,
                "kind": WorkKind.SERIES if rng.random() < 0.2 else WorkKind.FILM,
                "year": year,
                "synopsis": None,
                "search_text": search_document([title, *([original] if original else []), *others]),
            }
        )
    return works, alternatives


def _credits(
    rng: random.Random, director_slots: list[int], careers: list[int], people: int
) -> list[Row]:
    """Directors first (from the shuffled careers), then 0-4 other credits, in billing order."""
    credits: list[Row] = []
    taken = iter(careers)
    for work_id, directors in enumerate(director_slots, start=1):
        seen: set[tuple[int, CreditRole]] = set()
        chosen = [(next(taken), CreditRole.DIRECTOR) for _ in range(directors)]
        chosen += [(rng.randrange(1, people + 1), rng.choice(OTHER_ROLES)) for _ in range(4)]
        chosen = chosen[: directors + rng.randrange(5)]
        for person_id, role in chosen:
            if (person_id, role) in seen:
                continue
            credits.append(
                {"work_id": work_id, "person_id": person_id, "role": role, "position": len(seen)}
            )
            seen.add((person_id, role))
    return credits


def _tags(rng: random.Random, works: int) -> list[Row]:
    """1-5 themes per work; theme popularity falls off as 1/rank (Zipf)."""
    weights = list(itertools.accumulate(1 / rank for rank in range(1, THEME_COUNT + 1)))
    themes = range(1, THEME_COUNT + 1)
    tags: list[Row] = []
    for work_id in range(1, works + 1):
        wanted = rng.randrange(1, 6)
        chosen: dict[int, None] = {}
        while len(chosen) < wanted:
            chosen[rng.choices(themes, cum_weights=weights)[0]] = None
        for position, theme_id in enumerate(chosen):
            tags.append({"work_id": work_id, "theme_id": theme_id, "position": position})
    return tags


def _tag_arrays(tags: list[Row], works: int) -> list[list[list[int]]]:
    arrays: list[list[list[int]]] = [[] for _ in range(works)]
    for tag in tags:
        arrays[tag["work_id"] - 1].append([tag["position"], tag["theme_id"]])
    return arrays


def _most_works(ids: Iterable[int], slugs: dict[int, str]) -> list[tuple[str, int]]:
    counts: dict[int, int] = {}
    for key in ids:
        counts[key] = counts.get(key, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [(slugs[key], count) for key, count in ranked]
