"""Synthetic catalogs for tests, written straight into the tables in a few bulk statements."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncSession

from db import models as m
from db.catalog_version import bump_catalog_version
from db.enums import (
    Audience,
    CreditRole,
    EventKind,
    ExternalSystem,
    PartUnit,
    Statement,
    WorkForm,
    WorkKind,
)
from db.text import search_document, sort_key

ALL_TABLES = (
    m.WorkStatementSource,
    m.WorkEvent,
    m.WorkPart,
    m.WorkFormRow,
    m.WorkAudience,
    m.WorkOrigin,
    m.WorkStudio,
    m.StudioSource,
    m.Studio,
    m.WorkTitleSource,
    m.PersonNameSource,
    m.WorkTitle,
    m.PersonName,
    m.DisputePerson,
    m.WorkRelationSource,
    m.WorkExternalId,
    m.PersonExternalId,
    m.WorkFieldSource,
    m.PersonFieldSource,
    m.Dispute,
    m.WorkSource,
    m.PersonSource,
    m.WorkRelation,
    m.WorkTheme,
    m.CreditSource,
    m.Credit,
    m.WorkAlternativeTitle,
    m.PersonAlternativeName,
    m.Work,
    m.Person,
    m.Theme,
    m.Source,
)


async def wipe(session: AsyncSession) -> None:
    """Empty every table (inside the test's transaction, so it is rolled back afterwards)."""
    for table in ALL_TABLES:
        await session.execute(delete(table))
    await bump_catalog_version(session)  # a write like any other: cached answers are stale


@dataclass
class Built:
    director_ids: list[int]
    work_ids: list[int]
    theme_ids: list[int]


async def build_catalog(
    session: AsyncSession,
    directors: int,
    *,
    works_per_director: int = 12,
    themes: int = 7,
    structure: bool = False,
) -> Built:
    """A catalog of ``directors`` directors; director i directs ((i % works_per_director) + 1)
    works, each tagged with two themes, credited with a writer too (one writer per ten
    directors), and linked to a source.
    Every third work has an IMDb id, every other director a Wikidata id. With ``structure``
    every work also has forms, an audience, two parts (the first with an event), an event
    of its own, a studio credit (one studio per ten directors) and an origin, each value
    citing the source."""
    base = 100_000
    source_id = base
    await session.execute(
        insert(m.Source), [{"id": source_id, "key": "synthetic", "title": "Synthetic", "url": None}]
    )
    theme_rows = [
        {
            "id": base + t,
            "slug": f"theme-{t}",
            "name": f"Theme {t}",
            "name_key": sort_key(f"Theme {t}"),
            "description": None,
            "search_text": search_document([f"Theme {t}"]),
        }
        for t in range(themes)
    ]
    await session.execute(insert(m.Theme), theme_rows)
    people, works, credits, tags, work_sources = [], [], [], [], []
    work_ids, person_ids = [], []
    writers = (directors + 9) // 10  # each writer is credited on ten directors' works
    for d in range(directors + writers):
        name = f"Director {d:04d}" if d < directors else f"Writer {d - directors:03d}"
        people.append(
            {
                "id": base + d,
                "slug": f"person-{d}",
                "name": name,
                "name_key": sort_key(name),
                "original_name": None,
                "biography": None,
                "search_text": search_document([name]),
            }
        )
    work_id = base
    for d in range(directors):
        for k in range(d % works_per_director + 1):
            title = f"Work {d:04d}-{k:02d}"
            works.append(
                {
                    "id": work_id,
                    "slug": f"work-{d}-{k}",
                    "title": title,
                    "title_key": sort_key(title),
                    "original_title": None,
                    "kind": WorkKind.FILM if k % 2 else WorkKind.SERIES,
                    "year": None if k % 5 == 4 else 1950 + (d + k) % 60,
                    "synopsis": None,
                    "search_text": search_document([title]),
                }
            )
            credits.append(
                {
                    "work_id": work_id,
                    "person_id": base + d,
                    "role": CreditRole.DIRECTOR,
                    "position": 0,
                }
            )
            credits.append(
                {
                    "work_id": work_id,
                    "person_id": base + directors + d // 10,
                    "role": CreditRole.WRITER,
                    "position": 1,
                }
            )
            for position, theme in enumerate({(d + k) % themes, (d + 2 * k + 1) % themes}):
                tags.append({"work_id": work_id, "theme_id": base + theme, "position": position})
            work_sources.append({"work_id": work_id, "source_id": source_id, "position": 0})
            if k % 3 == 0:
                work_ids.append(
                    {"work_id": work_id, "system": ExternalSystem.IMDB, "value": f"tt{work_id:07d}"}
                )
            work_id += 1
        if d % 2 == 0:
            person_ids.append(
                {"person_id": base + d, "system": ExternalSystem.WIKIDATA, "value": f"Q{base + d}"}
            )
    await session.execute(insert(m.Person), people)
    await session.execute(insert(m.Work), works)
    await session.execute(insert(m.Credit), credits)
    await session.execute(insert(m.WorkTheme), tags)
    await session.execute(insert(m.WorkSource), work_sources)
    await session.execute(insert(m.WorkExternalId), work_ids)
    await session.execute(insert(m.PersonExternalId), person_ids)
    if structure:
        await _build_structure(session, [w["id"] for w in works], directors, base, source_id)
    await session.flush()
    await bump_catalog_version(session)
    return Built(
        director_ids=[base + d for d in range(directors)],
        work_ids=[w["id"] for w in works],
        theme_ids=[t["id"] for t in theme_rows],
    )


async def _build_structure(
    session: AsyncSession, work_ids: list[int], directors: int, base: int, source_id: int
) -> None:
    studios = (directors + 9) // 10
    await session.execute(
        insert(m.Studio),
        [
            {
                "id": base + s,
                "slug": f"studio-{s}",
                "name": f"Studio {s:03d}",
                "name_key": sort_key(f"Studio {s:03d}"),
                "original_name": None,
            }
            for s in range(studios)
        ],
    )
    await session.execute(
        insert(m.StudioSource),
        [{"studio_id": base + s, "source_id": source_id, "position": 0} for s in range(studios)],
    )
    forms, audiences, parts, events, credits, origins, cited = [], [], [], [], [], [], []
    for i, work_id in enumerate(work_ids):
        forms += [
            {"work_id": work_id, "position": 0, "form": WorkForm.FEATURE},
            {"work_id": work_id, "position": 1, "form": WorkForm.MULTI_PART_FILM},
        ]
        audiences.append({"work_id": work_id, "audience": Audience.GENERAL})
        for p, (first, last) in enumerate(((1, 1), (2, 5))):
            parts.append(
                {
                    "work_id": work_id,
                    "position": p,
                    "unit": PartUnit.PART,
                    "first_number": first,
                    "last_number": last,
                    "title": None,
                }
            )
            cited.append((work_id, Statement.PART, p))
        for position, part in enumerate((None, 0)):
            events.append(
                {
                    "work_id": work_id,
                    "position": position,
                    "part_position": part,
                    "kind": EventKind.MADE,
                    "year": 1960 + i % 40,
                    "month": 1 + i % 12,
                }
            )
            cited.append((work_id, Statement.EVENT, position))
        credits.append(
            {
                "work_id": work_id,
                "position": 0,
                "studio_id": base + i % studios,
                "role": "production",
            }
        )
        cited.append((work_id, Statement.STUDIO, 0))
        origins.append({"work_id": work_id, "position": 0, "title": f"Tale {i}", "form": "tale"})
        cited.append((work_id, Statement.ORIGIN, 0))
    await session.execute(insert(m.WorkFormRow), forms)
    await session.execute(insert(m.WorkAudience), audiences)
    await session.execute(insert(m.WorkPart), parts)
    await session.execute(insert(m.WorkEvent), events)
    await session.execute(insert(m.WorkStudio), credits)
    await session.execute(insert(m.WorkOrigin), origins)
    await session.execute(
        insert(m.WorkStatementSource),
        [
            {"work_id": w, "statement": s, "item": item, "source_id": source_id, "position": 0}
            for w, s, item in cited
        ],
    )
