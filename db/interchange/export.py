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
from db.enums import Statement
from db.interchange.format import (
    PERSON_FIELDS,
    WORK_FIELDS,
    Attributions,
    Catalog,
    CreditRecord,
    DisputeRecord,
    EventRecord,
    ExternalIdRecord,
    FormRecord,
    KnownNames,
    OriginRecord,
    PartRecord,
    PersonRecord,
    RelationRecord,
    ReportedPersonRecord,
    SourceRecord,
    StudioCreditRecord,
    StudioRecord,
    ThemeRecord,
    WorkRecord,
    catalog_to_json,
    dump_catalog,
)
from db.rules import partial_date_text


@dataclass
class StoredCatalog:
    """The catalog as stored, with the database ids of its records."""

    catalog: Catalog
    source_ids: dict[str, int] = field(default_factory=dict)
    theme_ids: dict[str, int] = field(default_factory=dict)
    person_ids: dict[str, int] = field(default_factory=dict)
    work_ids: dict[str, int] = field(default_factory=dict)
    studio_ids: dict[str, int] = field(default_factory=dict)

    def known_names(self) -> KnownNames:
        return KnownNames(
            sources=frozenset(self.source_ids),
            themes=frozenset(self.theme_ids),
            people=frozenset(self.person_ids),
            works=frozenset(self.work_ids),
            studios=frozenset(self.studio_ids),
        )


def _grouped(rows: Any) -> defaultdict[Any, list[Any]]:
    """Group ``(parent, value)`` rows (already in order) into ``{parent: [value, ...]}``."""
    groups: defaultdict[Any, list[Any]] = defaultdict(list)
    for parent, value in rows:
        groups[parent].append(value)
    return groups


async def _lists(
    session: AsyncSession, parent: Any, value: Any, order: Any
) -> defaultdict[Any, list[Any]]:
    """``{parent: [value, ...]}`` from a table of ordered lists (names, citations, credits...),
    each list in ``order``."""
    return _grouped(await session.execute(select(parent, value).order_by(parent, order)))


async def _attributions(
    session: AsyncSession, model: Any, parent: Any, key_of: dict[int, str], fields: tuple[str, ...]
) -> defaultdict[int, Attributions]:
    """``{parent: {field: [source key, ...]}}``, the sources stating each field of a record;
    fields in the format's order."""
    found: defaultdict[int, Attributions] = defaultdict(dict)
    rows = await session.execute(
        select(parent, model.field, model.source_id).order_by(parent, model.position)
    )
    for parent_id, field_name, source_id in rows:
        found[parent_id].setdefault(field_name, []).append(key_of[source_id])
    ordered = {p: {f: keys[f] for f in fields if f in keys} for p, keys in found.items()}
    return defaultdict(dict, ordered)


async def _forms(
    session: AsyncSession, form: Any, link: Any, owner: str, key: str, key_of: dict[int, str]
) -> defaultdict[int, list[FormRecord]]:
    """``{owner id: [form, ...]}`` of a table of title or name forms (``form``) whose sources
    ``link`` cites by (owner, ``key``): two statements."""
    cited: defaultdict[tuple[int, int], list[str]] = defaultdict(list)
    link_owner, link_key = getattr(link, owner), getattr(link, key)
    for parent, position, source_id in await session.execute(
        select(link_owner, link_key, link.source_id).order_by(link_owner, link_key, link.position)
    ):
        cited[(parent, position)].append(key_of[source_id])
    form_owner = getattr(form, owner)
    found: defaultdict[int, list[FormRecord]] = defaultdict(list)
    for row in (await session.execute(select(form).order_by(form_owner, form.position))).scalars():
        parent = getattr(row, owner)
        found[parent].append(
            FormRecord(
                text=row.text,
                kind=row.kind,
                language=row.language,
                script=row.script,
                romanization=row.romanization,
                qualifier=row.qualifier,
                sources=cited[(parent, row.position)],
            )
        )
    return found


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

    studio_sources = await _lists(
        session, m.StudioSource.studio_id, m.StudioSource.source_id, m.StudioSource.position
    )
    studios = (await session.execute(select(m.Studio).order_by(m.Studio.slug))).scalars().all()
    for studio in studios:
        stored.studio_ids[studio.slug] = studio.id
        catalog.studios.append(
            StudioRecord(
                studio.slug,
                studio.name,
                studio.original_name,
                [key_of[k] for k in studio_sources[studio.id]],
            )
        )
    slug_of_studio = {v: k for k, v in stored.studio_ids.items()}

    alt_names = await _lists(
        session,
        m.PersonAlternativeName.person_id,
        m.PersonAlternativeName.name,
        m.PersonAlternativeName.position,
    )
    person_sources = await _lists(
        session, m.PersonSource.person_id, m.PersonSource.source_id, m.PersonSource.position
    )
    person_attributions = await _attributions(
        session, m.PersonFieldSource, m.PersonFieldSource.person_id, key_of, PERSON_FIELDS
    )
    person_external_ids = await _lists(
        session, m.PersonExternalId.person_id, m.PersonExternalId, m.PersonExternalId.system
    )
    person_names = await _forms(
        session, m.PersonName, m.PersonNameSource, "person_id", "name_position", key_of
    )
    people = (await session.execute(select(m.Person).order_by(m.Person.slug))).scalars().all()
    slug_of_person = {p.id: p.slug for p in people}
    for p in people:
        stored.person_ids[p.slug] = p.id
        catalog.people.append(
            PersonRecord(
                slug=p.slug,
                name=p.name,
                original_name=p.original_name,
                alternative_names=alt_names[p.id],
                biography=p.biography,
                sources=[key_of[s] for s in person_sources[p.id]],
                attributions=person_attributions[p.id],
                external_ids=[
                    ExternalIdRecord(e.system, e.value) for e in person_external_ids[p.id]
                ],
                names=person_names[p.id],
            )
        )

    works = (await session.execute(select(m.Work).order_by(m.Work.slug))).scalars().all()
    slug_of_work = {w.id: w.slug for w in works}
    theme_slug = {v: k for k, v in stored.theme_ids.items()}
    alt_titles = await _lists(
        session,
        m.WorkAlternativeTitle.work_id,
        m.WorkAlternativeTitle.title,
        m.WorkAlternativeTitle.position,
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
    credits = await _lists(session, m.Credit.work_id, m.Credit, m.Credit.position)
    themes = await _lists(session, m.WorkTheme.work_id, m.WorkTheme.theme_id, m.WorkTheme.position)
    related = await _lists(session, m.WorkRelation.work_id, m.WorkRelation, m.WorkRelation.position)
    work_sources = await _lists(
        session, m.WorkSource.work_id, m.WorkSource.source_id, m.WorkSource.position
    )
    disputes = await _lists(session, m.Dispute.work_id, m.Dispute, m.Dispute.position)
    dispute_people = await _lists(
        session, m.DisputePerson.dispute_id, m.DisputePerson, m.DisputePerson.position
    )
    relation_sources: defaultdict[tuple[int, int, str], list[str]] = defaultdict(list)
    rs = m.WorkRelationSource
    for work_id, related_id, type_, source_id in await session.execute(
        select(rs.work_id, rs.related_work_id, rs.type, rs.source_id).order_by(
            rs.work_id, rs.related_work_id, rs.type, rs.position
        )
    ):
        relation_sources[(work_id, related_id, type_)].append(key_of[source_id])
    work_titles = await _forms(
        session, m.WorkTitle, m.WorkTitleSource, "work_id", "title_position", key_of
    )
    work_attributions = await _attributions(
        session, m.WorkFieldSource, m.WorkFieldSource.work_id, key_of, WORK_FIELDS
    )
    work_external_ids = await _lists(
        session, m.WorkExternalId.work_id, m.WorkExternalId, m.WorkExternalId.system
    )
    structure = await _structures(session, key_of, slug_of_studio)
    for w in works:
        stored.work_ids[w.slug] = w.id
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
                        note=c.note,
                        qualifier=c.qualifier,
                        episodes=None
                        if c.episodes_first is None or c.episodes_last is None
                        else (c.episodes_first, c.episodes_last),
                    )
                    for c in credits[w.id]
                ],
                themes=[theme_slug[t] for t in themes[w.id]],
                related=[
                    RelationRecord(
                        r.type,
                        slug_of_work[r.related_work_id],
                        sources=relation_sources[(r.work_id, r.related_work_id, r.type)],
                    )
                    for r in related[w.id]
                ],
                sources=[key_of[s] for s in work_sources[w.id]],
                disputes=[
                    DisputeRecord(
                        d.field,
                        d.stated,
                        d.reported,
                        key_of[d.source_id],
                        d.note,
                        qualifier=d.qualifier,
                        reported_people=[
                            ReportedPersonRecord(slug_of_person[r.person_id], r.role)
                            for r in dispute_people[d.id]
                        ],
                    )
                    for d in disputes[w.id]
                ],
                attributions=work_attributions[w.id],
                external_ids=[ExternalIdRecord(e.system, e.value) for e in work_external_ids[w.id]],
                **structure.get(w.id, {}),
                titles=work_titles[w.id],
            )
        )
    return stored


async def _structures(
    session: AsyncSession, key_of: dict[int, str], slug_of_studio: dict[int, str]
) -> dict[int, dict[str, Any]]:
    """Every work's structure (forms, audience, parts with their events, events, studio
    credits, origins) as ``WorkRecord`` keyword arguments, in a fixed number of statements."""
    cited: defaultdict[tuple[int, Statement, int], list[str]] = defaultdict(list)
    s = m.WorkStatementSource
    for work_id, statement, item, source_id in await session.execute(
        select(s.work_id, s.statement, s.item, s.source_id).order_by(
            s.work_id, s.statement, s.item, s.position
        )
    ):
        cited[(work_id, statement, item)].append(key_of[source_id])
    forms = await _lists(session, m.WorkFormRow.work_id, m.WorkFormRow.form, m.WorkFormRow.position)
    audiences = dict(
        (await session.execute(select(m.WorkAudience.work_id, m.WorkAudience.audience))).all()
    )
    parts = await _lists(session, m.WorkPart.work_id, m.WorkPart, m.WorkPart.position)
    events = await _lists(session, m.WorkEvent.work_id, m.WorkEvent, m.WorkEvent.position)
    origins = await _lists(session, m.WorkOrigin.work_id, m.WorkOrigin, m.WorkOrigin.position)
    studios = await _lists(session, m.WorkStudio.work_id, m.WorkStudio, m.WorkStudio.position)

    def event(e: m.WorkEvent) -> EventRecord:
        return EventRecord(
            kind=e.kind,
            date=partial_date_text(e.year, e.month, e.day),
            until=None
            if e.until_year is None
            else partial_date_text(e.until_year, e.until_month, e.until_day),
            place=e.place,
            qualifier=e.qualifier,
            note=e.note,
            sources=cited[(e.work_id, Statement.EVENT, e.position)],
        )

    found: dict[int, dict[str, Any]] = {}
    for work_id in {*forms, *audiences, *parts, *events, *origins, *studios}:
        found[work_id] = {
            "forms": forms[work_id],
            "audience": audiences.get(work_id),
            "parts": [
                PartRecord(
                    unit=p.unit,
                    first=p.first_number,
                    last=p.last_number,
                    title=p.title,
                    events=[event(e) for e in events[work_id] if e.part_position == p.position],
                    sources=cited[(work_id, Statement.PART, p.position)],
                )
                for p in parts[work_id]
            ],
            "events": [event(e) for e in events[work_id] if e.part_position is None],
            "studios": [
                StudioCreditRecord(
                    slug_of_studio[c.studio_id],
                    c.role,
                    cited[(work_id, Statement.STUDIO, c.position)],
                )
                for c in studios[work_id]
            ],
            "based_on": [
                OriginRecord(
                    title=o.title,
                    original_title=o.original_title,
                    form=o.form,
                    note=o.note,
                    qualifier=o.qualifier,
                    sources=cited[(work_id, Statement.ORIGIN, o.position)],
                )
                for o in origins[work_id]
            ],
        }
    return found


async def export_catalog(session: AsyncSession) -> str:
    """The whole catalog as canonical interchange JSON text."""
    return dump_catalog(catalog_to_json((await read_catalog(session)).catalog))
