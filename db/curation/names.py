"""Curators' writes to people and themes (named records), one ``Kind`` describing each: the
same rules as works — validated, atomic, versioned, audited — and deletion only of what
nothing uses (a person with credits, a theme tagging works: ``REFERENCED``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import models as m
from db import rules
from db.curation.common import (
    Sources,
    add_new,
    attribute,
    attributed_to,
    check_new_slug,
    checked_text,
    cited_source,
    curator_source,
    delete_versioned,
    record,
    update_versioned,
)
from db.curation.forms import PERSON_NAMES, restate_forms
from db.curation.outcome import (
    NOT_FOUND,
    REQUIRED,
    Outcome,
    UserError,
    changed_meanwhile,
    still_referenced,
)
from db.enums import TitleKind
from db.search_documents import person_document, searchable_forms, theme_document
from db.text import slugify, sort_key


@dataclass(frozen=True)
class Kind:
    """How one kind of named record is stored and described."""

    entity: Any
    subject: str  # "person" | "theme"
    texts: tuple[tuple[str, str, rules.Rule], ...]  # (attribute, input name, rule), name first
    used_by: Any  # the link table whose rows keep a record from being deleted
    used_column: Any
    used_what: str


PERSON = Kind(
    m.Person,
    "person",
    (
        ("name", "name", rules.NAME),
        ("original_name", "originalName", rules.NAME),
        ("biography", "biography", rules.PROSE),
    ),
    m.Credit,
    m.Credit.person_id,
    "credits",
)
THEME = Kind(
    m.Theme,
    "theme",
    (("name", "name", rules.NAME), ("description", "description", rules.PROSE)),
    m.WorkTheme,
    m.WorkTheme.theme_id,
    "works tagged with it",
)


PERSON_SOURCES = Sources(m.PersonFieldSource, m.PersonSource, "person_id")
_PERSON_FIELDS = {"name": "name", "original_name": "originalName", "biography": "biography"}


async def _attribute_person(
    session: AsyncSession,
    kind: Kind,
    actor: str,
    person_id: int,
    attributes: list[str],
    source_id: int | None,
) -> None:
    """People carry field-level sources: what a write changes is attributed to the source it
    cites, or to the curator (themes have no sources to keep)."""
    fields = [_PERSON_FIELDS[a] for a in attributes if a in _PERSON_FIELDS]
    if kind is not PERSON or not fields:
        return
    if source_id is None:
        source_id, _ = await curator_source(session, actor)
    await attribute(session, PERSON_SOURCES, person_id, fields, source_id)


def snapshot(kind: Kind, row: Any) -> dict[str, Any]:
    """The record as the audit trail records it."""
    return {
        "slug": row.slug,
        **{name: getattr(row, attribute) for attribute, name, _ in kind.texts},
        "version": row.version,
    }


def _search_text(
    kind: Kind, values: dict[str, Any], alternatives: Sequence[str] = (), forms: Sequence[str] = ()
) -> str:
    """As the catalog import makes it (``db.search_documents``): alternative names and the
    typed names' texts (``searchable_forms``) too."""
    if kind is PERSON:
        return person_document(
            values.get("name") or "",
            values.get("original_name"),
            alternatives,
            values.get("biography"),
            forms,
        )
    return theme_document(values.get("name") or "")


async def create(
    session: AsyncSession,
    kind: Kind,
    actor: str,
    fields: dict[str, str | None],
    slug: str | None,
    source: str | None = None,
) -> Outcome:
    errors: list[UserError] = []
    source_id = await cited_source(session, source, errors)
    values = {a: checked_text(errors, n, fields.get(a), rule) for a, n, rule in kind.texts}
    if fields.get("name") is None:
        errors.append(UserError(("input", "name"), REQUIRED, f"a {kind.subject} needs a name"))
    entity = kind.entity
    if slug is not None:
        await check_new_slug(session, entity, slug, f"{slug!r} is taken", errors)
    if errors:
        return Outcome(errors=errors)

    def new_row(row_slug: str) -> Any:
        row = entity(slug=row_slug, version=1, **values)
        row.search_text = _search_text(kind, values)
        return row

    base = slugify(values["name"] or "") or kind.subject
    row = await add_new(session, entity, slug, base, new_row)
    given = [a for a, v in values.items() if v]
    await _attribute_person(session, kind, actor, row.id, given, source_id)
    operation, after = f"create{kind.subject.title()}", snapshot(kind, row)
    await record(session, actor, operation, row.slug, source, None, after, kind.subject)
    return Outcome(record=row)


async def _current(
    session: AsyncSession, kind: Kind, slug: str, version: int
) -> tuple[Any, list[UserError]]:
    row = await session.scalar(select(kind.entity).where(kind.entity.slug == slug))
    if row is None:
        return None, [UserError(("input", "slug"), NOT_FOUND, f"no {kind.subject} {slug!r}")]
    if row.version != version:
        return row, [changed_meanwhile()]
    return row, []


async def change(
    session: AsyncSession,
    kind: Kind,
    actor: str,
    slug: str,
    version: int,
    fields: dict[str, str | None],
    source: str | None = None,
) -> Outcome:
    row, errors = await _current(session, kind, slug, version)
    source_id = await cited_source(session, source, errors)
    values = {
        a: checked_text(errors, n, fields[a], rule)
        for a, n, rule in kind.texts
        if fields.get(a) is not None
    }
    if errors or row is None:
        return Outcome(errors=errors)
    if all(getattr(row, a) == v for a, v in values.items()) and (
        kind is not PERSON
        or source_id is None
        or await attributed_to(
            session,
            PERSON_SOURCES,
            row.id,
            [_PERSON_FIELDS[a] for a in values],
            source_id,
        )
    ):
        return Outcome(record=row)  # nothing to write: no new version, no audit
    before = snapshot(kind, row)
    merged = {a: values.get(a, getattr(row, a)) for a, _, _ in kind.texts}
    alternatives: list[str] = []
    typed: list[str] = []
    if kind is PERSON:
        alternatives = list(
            await session.scalars(
                select(m.PersonAlternativeName.name)
                .where(m.PersonAlternativeName.person_id == row.id)
                .order_by(m.PersonAlternativeName.position)
            )
        )
        rows = await session.execute(
            select(m.PersonName.text, m.PersonName.kind, m.PersonName.qualifier)
            .where(m.PersonName.person_id == row.id)
            .order_by(m.PersonName.position)
        )
        typed = searchable_forms((text, form, qualifier) for text, form, qualifier in rows)
    extra: dict[str, Any] = {"search_text": _search_text(kind, merged, alternatives, typed)}
    if "name" in values:
        extra["name_key"] = sort_key(values["name"] or "")
    if not await update_versioned(session, kind.entity, row.id, version, {**values, **extra}):
        return Outcome(errors=[changed_meanwhile()])
    await _attribute_person(session, kind, actor, row.id, list(values), source_id)
    forms = {TitleKind.MAIN: "name", TitleKind.ORIGINAL: "original_name"}
    texts = {form: values[a] for form, a in forms.items() if a in values}
    if kind is PERSON and texts:
        if source_id is None:
            source_id, _ = await curator_source(session, actor)
        await restate_forms(session, PERSON_NAMES, row.id, texts, source_id)
    await session.refresh(row)
    operation, after = f"update{kind.subject.title()}", snapshot(kind, row)
    await record(session, actor, operation, row.slug, source, before, after, kind.subject)
    return Outcome(record=row)


async def remove(session: AsyncSession, kind: Kind, actor: str, slug: str, version: int) -> Outcome:
    row, errors = await _current(session, kind, slug, version)
    if row is not None and not errors:
        uses = await session.scalar(
            select(func.count()).select_from(kind.used_by).where(kind.used_column == row.id)
        )
        if uses:
            what = f"{uses} {kind.used_what}"
            errors.append(still_referenced(f"{slug} has {what}: remove or reassign them first"))
    if errors or row is None:
        return Outcome(errors=errors)
    before = snapshot(kind, row)
    if not await delete_versioned(session, kind.entity, row.id, version):
        return Outcome(errors=[changed_meanwhile()])
    session.expunge(row)
    operation = f"delete{kind.subject.title()}"
    await record(session, actor, operation, slug, None, before, None, kind.subject)
    return Outcome(record=row)
