"""Reading the whole catalog out of the database: the export, and what a load compares with.

``read_catalog`` reads every record in a fixed number of statements whatever the catalog's
size, with the database ids a load needs; ``export_catalog`` serialises it canonically
(``db.interchange.format``), so export -> seed into an empty database -> export is
byte-identical.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import models as m
from db.interchange.format import (
    PERSON_FIELDS,
    WORK_FIELDS,
    Catalog,
    CreditRecord,
    DisputeRecord,
    ExternalIdRecord,
    KnownNames,
    PersonRecord,
    RelationRecord,
    SourceRecord,
    ThemeRecord,
    WorkRecord,
    catalog_to_json,
    dump_catalog,
)


@dataclass
class StoredCatalog:
    """The catalog as stored, with the database ids of its records."""

    catalog: Catalog
    source_ids: dict[str, int] = field(default_factory=dict)
    theme_ids: dict[str, int] = field(default_factory=dict)
    person_ids: dict[str, int] = field(default_factory=dict)
    work_ids: dict[str, int] = field(default_factory=dict)

    def known_names(self) -> KnownNames:
        return KnownNames(
            sources=frozenset(self.source_ids),
            themes=frozenset(self.theme_ids),
            people=frozenset(self.person_ids),
            works=frozenset(self.work_ids),
        )


def _grouped(rows: Any) -> defaultdict[Any, list[Any]]:
    """Group ``(parent, value)`` rows (already in order) into ``{parent: [value, ...]}``."""
    groups: defaultdict[Any, list[Any]] = defaultdict(list)
    for parent, value in rows:
        groups[parent].append(value)
    return groups


def _field_groups(rows: Any) -> defaultdict[int, dict[str, list[int]]]:
    """Group ``(parent, field, source id)`` rows into ``{parent: {field: [source id, ...]}}``."""
    groups: defaultdict[int, dict[str, list[int]]] = defaultdict(dict)
    for parent, field_name, key in rows:
        groups[parent].setdefault(field_name, []).append(key)
    return groups


def _ordered_attributions(
    found: dict[str, list[str]], fields: tuple[str, ...]
) -> dict[str, list[str]]:
    return {name: found[name] for name in fields if name in found}


async def read_catalog(session: AsyncSession) -> StoredCatalog:
    """The whole catalog, in a fixed number of statements whatever its size."""
    stored = StoredCatalog(Catalog())
    catalog = stored.catalog
    sources = (await session.execute(select(m.Source).order_by(m.Source.key))).scalars().all()
    for s in sources:
        stored.source_ids[s.key] = s.id
        catalog.sources.append(SourceRecord(s.key, s.title, s.url))
    key_of = {s.id: s.key for s in sources}

    for t in (await session.execute(select(m.Theme).order_by(m.Theme.slug))).scalars():
        stored.theme_ids[t.slug] = t.id
        catalog.themes.append(ThemeRecord(t.slug, t.name, t.description))

    alt_names = _grouped(
        await session.execute(
            select(m.PersonAlternativeName.person_id, m.PersonAlternativeName.name).order_by(
                m.PersonAlternativeName.person_id, m.PersonAlternativeName.position
            )
        )
    )
    person_sources = _grouped(
        await session.execute(
            select(m.PersonSource.person_id, m.PersonSource.source_id).order_by(
                m.PersonSource.person_id, m.PersonSource.position
            )
        )
    )
    person_fields = _field_groups(
        await session.execute(
            select(
                m.PersonFieldSource.person_id,
                m.PersonFieldSource.field,
                m.PersonFieldSource.source_id,
            ).order_by(m.PersonFieldSource.person_id, m.PersonFieldSource.position)
        )
    )
    person_external_ids = _grouped(
        (e.person_id, ExternalIdRecord(e.system, e.value))
        for e in (
            await session.execute(
                select(m.PersonExternalId).order_by(
                    m.PersonExternalId.person_id, m.PersonExternalId.system
                )
            )
        ).scalars()
    )
    people = (await session.execute(select(m.Person).order_by(m.Person.slug))).scalars().all()
    slug_of_person = {p.id: p.slug for p in people}
    for p in people:
        stored.person_ids[p.slug] = p.id
        fields = {f: [key_of[s] for s in ids] for f, ids in person_fields[p.id].items()}
        catalog.people.append(
            PersonRecord(
                slug=p.slug,
                name=p.name,
                original_name=p.original_name,
                alternative_names=alt_names[p.id],
                biography=p.biography,
                sources=[key_of[s] for s in person_sources[p.id]],
                attributions=_ordered_attributions(fields, PERSON_FIELDS),
                external_ids=person_external_ids[p.id],
            )
        )

    works = (await session.execute(select(m.Work).order_by(m.Work.slug))).scalars().all()
    slug_of_work = {w.id: w.slug for w in works}
    theme_slug = {v: k for k, v in stored.theme_ids.items()}
    alt_titles = _grouped(
        await session.execute(
            select(m.WorkAlternativeTitle.work_id, m.WorkAlternativeTitle.title).order_by(
                m.WorkAlternativeTitle.work_id, m.WorkAlternativeTitle.position
            )
        )
    )
    credit_sources: defaultdict[tuple[int, int, str], list[str]] = defaultdict(list)
    for row in await session.execute(
        select(m.CreditSource).order_by(
            m.CreditSource.work_id,
            m.CreditSource.person_id,
            m.CreditSource.role,
            m.CreditSource.position,
        )
    ):
        cs = row[0]
        credit_sources[(cs.work_id, cs.person_id, cs.role)].append(key_of[cs.source_id])
    credits = _grouped(
        (c.work_id, c)
        for c in (
            await session.execute(select(m.Credit).order_by(m.Credit.work_id, m.Credit.position))
        ).scalars()
    )
    themes = _grouped(
        await session.execute(
            select(m.WorkTheme.work_id, m.WorkTheme.theme_id).order_by(
                m.WorkTheme.work_id, m.WorkTheme.position
            )
        )
    )
    related = _grouped(
        (r.work_id, r)
        for r in (
            await session.execute(
                select(m.WorkRelation).order_by(m.WorkRelation.work_id, m.WorkRelation.position)
            )
        ).scalars()
    )
    work_sources = _grouped(
        await session.execute(
            select(m.WorkSource.work_id, m.WorkSource.source_id).order_by(
                m.WorkSource.work_id, m.WorkSource.position
            )
        )
    )
    disputes = _grouped(
        (d.work_id, d)
        for d in (
            await session.execute(select(m.Dispute).order_by(m.Dispute.work_id, m.Dispute.position))
        ).scalars()
    )
    work_fields = _field_groups(
        await session.execute(
            select(
                m.WorkFieldSource.work_id, m.WorkFieldSource.field, m.WorkFieldSource.source_id
            ).order_by(m.WorkFieldSource.work_id, m.WorkFieldSource.position)
        )
    )
    work_external_ids = _grouped(
        (e.work_id, ExternalIdRecord(e.system, e.value))
        for e in (
            await session.execute(
                select(m.WorkExternalId).order_by(m.WorkExternalId.work_id, m.WorkExternalId.system)
            )
        ).scalars()
    )
    for w in works:
        stored.work_ids[w.slug] = w.id
        fields = {f: [key_of[s] for s in ids] for f, ids in work_fields[w.id].items()}
        catalog.works.append(
            WorkRecord(
                slug=w.slug,
                title=w.title,
                original_title=w.original_title,
                alternative_titles=alt_titles[w.id],
                kind=w.kind,
                year=w.year,
                synopsis=w.synopsis,
                credits=[
                    CreditRecord(
                        slug_of_person[c.person_id],
                        c.role,
                        credit_sources[(c.work_id, c.person_id, c.role)],
                    )
                    for c in credits[w.id]
                ],
                themes=[theme_slug[t] for t in themes[w.id]],
                related=[
                    RelationRecord(r.type, slug_of_work[r.related_work_id]) for r in related[w.id]
                ],
                sources=[key_of[s] for s in work_sources[w.id]],
                disputes=[
                    DisputeRecord(d.field, d.stated, d.reported, key_of[d.source_id], d.note)
                    for d in disputes[w.id]
                ],
                attributions=_ordered_attributions(fields, WORK_FIELDS),
                external_ids=work_external_ids[w.id],
            )
        )
    return stored


async def export_catalog(session: AsyncSession) -> str:
    """The whole catalog as canonical interchange JSON text."""
    return dump_catalog(catalog_to_json((await read_catalog(session)).catalog))
