"""Reads of statements with their own sources (issue #22): typed title and name forms, the
people disputes report, and the sources of relations. Each batch function issues one
statement for all its keys and returns one result per key, in key order (DataLoader-ready).

Generated romanizations are not stored here: ``generated_forms`` computes them from the
stated Hangul forms (``db.romanization``) when they are read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import models as m
from db.enums import CreditRole, Qualifier, RomanizationSystem, TitleKind, WorkRelationType
from db.queries import per_key
from db.romanization import has_hangul, romanize

# The order generated forms come in: Revised Romanization, then McCune–Reischauer.
GENERATED_SYSTEMS = (RomanizationSystem.RR, RomanizationSystem.MR)


@dataclass(frozen=True)
class FormRow:
    """A title or name form as read: stated (with its sources) or generated (with none)."""

    text: str
    kind: TitleKind
    language: str | None = None
    script: str | None = None
    romanization: RomanizationSystem | None = None
    qualifier: Qualifier | None = None
    generated: bool = False
    sources: list[m.Source] = field(default_factory=list)


def _readable(text: str) -> str:
    """A romanization as a title reads: each word capitalised ("Kkotpaneun Cheonyeo")."""
    return " ".join(word[:1].upper() + word[1:] for word in text.split(" "))


def generated_forms(
    stated: Sequence[FormRow], romanizer: Callable[[str], dict[str, str]] = romanize
) -> list[FormRow]:
    """The RR and MR romanizations of every stated Hangul form that no stated form already
    spells (case aside): search keys and reading aids, stated by no source. A person's names
    take ``romanize_name`` (family name apart, given-name syllables hyphenated)."""
    known = {f.text.casefold() for f in stated}
    forms: list[FormRow] = []
    for form in stated:
        if form.generated or not has_hangul(form.text):
            continue
        romanized = romanizer(form.text)
        for system in GENERATED_SYSTEMS:
            text = _readable(romanized[system])
            if text.casefold() in known:
                continue
            known.add(text.casefold())
            forms.append(
                FormRow(
                    text=text,
                    kind=TitleKind.TRANSLITERATION,
                    language=form.language,
                    script="Latn",
                    romanization=system,
                    qualifier=form.qualifier,
                    generated=True,
                )
            )
    return forms


def forms_of_fields(main: str, original: str | None, alternatives: Sequence[str]) -> list[FormRow]:
    """The forms of a record without stated ones, read off its fields (``gql.types.titles``):
    the main one, the original if any, then the alternatives; Hangul ones marked Korean. No
    sources: ``FIELD_OF_KIND`` says which field's sources each takes."""

    def form(text: str, kind: TitleKind) -> FormRow:
        script = "Hang" if has_hangul(text) else None
        return FormRow(text=text, kind=kind, language="ko" if script else None, script=script)

    forms = [form(main, TitleKind.MAIN)]
    if original:
        forms.append(form(original, TitleKind.ORIGINAL))
    forms.extend(form(text, TitleKind.ALTERNATIVE) for text in alternatives)
    return forms


# Which of a record's fields (main, original, alternatives: their index) a form of
# ``forms_of_fields`` is read off, by its kind.
FIELD_OF_KIND = {TitleKind.MAIN: 0, TitleKind.ORIGINAL: 1, TitleKind.ALTERNATIVE: 2}


async def _forms(
    session: AsyncSession, form: Any, link: Any, owner: str, key: str, keys: Sequence[int]
) -> list[list[FormRow]]:
    """Each owner's stated forms with their sources, in order: one statement (the forms
    outer-joined to their citations)."""
    form_owner, link_owner, link_key = (
        getattr(form, owner),
        getattr(link, owner),
        getattr(link, key),
    )
    rows = await session.execute(
        select(form, m.Source)
        .outerjoin(link, (link_owner == form_owner) & (link_key == form.position))
        .outerjoin(m.Source, m.Source.id == link.source_id)
        .where(form_owner.in_(keys))
        .order_by(form_owner, form.position, link.position)
    )
    grouped: dict[tuple[int, int], FormRow] = {}
    for row, source in rows:
        at = (getattr(row, owner), row.position)
        if at not in grouped:
            grouped[at] = FormRow(
                text=row.text,
                kind=row.kind,
                language=row.language,
                script=row.script,
                romanization=row.romanization,
                qualifier=row.qualifier,
            )
        if source is not None:
            grouped[at].sources.append(source)
    return per_key(keys, ((parent, form) for (parent, _), form in grouped.items()))


async def titles_of_works(session: AsyncSession, work_ids: Sequence[int]) -> list[list[FormRow]]:
    return await _forms(
        session, m.WorkTitle, m.WorkTitleSource, "work_id", "title_position", work_ids
    )


async def names_of_people(session: AsyncSession, person_ids: Sequence[int]) -> list[list[FormRow]]:
    return await _forms(
        session, m.PersonName, m.PersonNameSource, "person_id", "name_position", person_ids
    )


async def people_of_disputes(
    session: AsyncSession, dispute_ids: Sequence[int]
) -> list[list[m.Person]]:
    """The people each dispute's reported side names, in the dispute's order."""
    dp = m.DisputePerson
    rows = await session.execute(
        select(dp.dispute_id, m.Person)
        .join(m.Person, m.Person.id == dp.person_id)
        .where(dp.dispute_id.in_(dispute_ids))
        .order_by(dp.dispute_id, dp.position)
    )
    return per_key(dispute_ids, rows)


@dataclass(frozen=True)
class ReportedRow:
    """A work a reference attributes to a person against the record: the dispute that says so."""

    person_id: int
    role: CreditRole
    dispute: m.Dispute
    source: m.Source


async def reported_of_people(
    session: AsyncSession, person_ids: Sequence[int]
) -> list[list[ReportedRow]]:
    """Each person's reported credits, by work (its id) and the dispute's order."""
    dp, d = m.DisputePerson, m.Dispute
    rows = await session.execute(
        select(dp.person_id, dp.role, d, m.Source)
        .join(d, d.id == dp.dispute_id)
        .join(m.Source, m.Source.id == d.source_id)
        .where(dp.person_id.in_(person_ids))
        .order_by(dp.person_id, d.work_id, d.position, dp.role)
    )
    return per_key(person_ids, ((r[0], ReportedRow(*r)) for r in rows))


RelationKey = tuple[int, int, WorkRelationType]


async def sources_of_relations(
    session: AsyncSession, keys: Sequence[RelationKey]
) -> list[list[m.Source]]:
    """The sources stating each relation (work, related work, type)."""
    rs = m.WorkRelationSource
    work_ids = sorted({k[0] for k in keys})
    rows = await session.execute(
        select(rs.work_id, rs.related_work_id, rs.type, m.Source)
        .join(m.Source, m.Source.id == rs.source_id)
        .where(rs.work_id.in_(work_ids))
        .order_by(rs.work_id, rs.related_work_id, rs.type, rs.position)
    )
    return per_key(keys, (((r[0], r[1], r[2]), r[3]) for r in rows))
