"""Curators' writes to works: create, update (fields, directors, themes) and delete.

Updates and deletions name the ``version`` they read; a stale one is a ``CONFLICT`` (the
version check is part of the UPDATE/DELETE itself, so two writers racing on one version
cannot both win). An update that would change nothing writes nothing: no new version, no
audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
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
from db.curation.forms import WORK_TITLES, restate_forms
from db.curation.outcome import (
    CONFLICT,
    DUPLICATE,
    NOT_FOUND,
    OUT_OF_RANGE,
    REQUIRED,
    Outcome,
    UserError,
    changed_meanwhile,
    still_referenced,
)
from db.disputes import field_sources, restate_disputes
from db.enums import CreditRole, TitleKind, WorkKind
from db.search_documents import searchable_forms, work_document
from db.text import slugify, sort_key


@dataclass
class WorkChanges:
    """The fields a create or an update sets (None: not given; for an update, unchanged)."""

    title: str | None = None
    kind: WorkKind | None = None
    year: int | None = None
    clear_year: bool = False
    synopsis: str | None = None
    original_title: str | None = None
    directors: list[str] | None = None  # person slugs, in billing order
    themes: list[str] | None = None  # theme slugs


async def _check(
    session: AsyncSession, changes: WorkChanges, errors: list[UserError]
) -> tuple[list[int], list[int]]:
    """Validate field values and references; the director and theme ids."""
    changes.title = checked_text(errors, "title", changes.title, rules.NAME)
    changes.original_title = checked_text(
        errors, "originalTitle", changes.original_title, rules.NAME
    )
    changes.synopsis = checked_text(errors, "synopsis", changes.synopsis, rules.PROSE)
    if changes.year is not None and not m.YEAR_MIN <= changes.year <= m.YEAR_MAX:
        errors.append(
            UserError(
                ("input", "year"),
                OUT_OF_RANGE,
                f"year must be between {m.YEAR_MIN} and {m.YEAR_MAX}",
            )
        )
    director_ids = await _references(
        session, m.Person, changes.directors, "directors", "person", errors
    )
    theme_ids = await _references(session, m.Theme, changes.themes, "themes", "theme", errors)
    return director_ids, theme_ids


async def _references(
    session: AsyncSession,
    entity: Any,
    slugs: list[str] | None,
    name: str,
    what: str,
    errors: list[UserError],
) -> list[int]:
    if not slugs:
        return []
    rows = await session.execute(select(entity.slug, entity.id).where(entity.slug.in_(slugs)))
    found: dict[str, int] = {slug: int(row_id) for slug, row_id in rows.all()}
    seen: set[str] = set()
    ids = []
    for index, slug in enumerate(slugs):
        path = ("input", name, str(index))
        if slug in seen:
            errors.append(UserError(path, DUPLICATE, f"{slug!r} is named twice"))
        elif slug not in found:
            errors.append(UserError(path, NOT_FOUND, f"no {what} with slug {slug!r}"))
        else:
            ids.append(int(found[slug]))
        seen.add(slug)
    return ids


async def _tags(session: AsyncSession, work_id: int) -> list[tuple[int, str]]:
    """The work's themes, in the work's order: (id, slug)."""
    rows = await session.execute(
        select(m.Theme.id, m.Theme.slug)
        .join(m.WorkTheme, m.WorkTheme.theme_id == m.Theme.id)
        .where(m.WorkTheme.work_id == work_id)
        .order_by(m.WorkTheme.position)
    )
    return [(int(theme_id), slug) for theme_id, slug in rows]


async def snapshot(session: AsyncSession, work: m.Work) -> dict[str, Any]:
    """The work as the audit trail records it."""
    themes = [slug for _, slug in await _tags(session, work.id)]
    credits = [
        [person, str(role)]
        for person, role in await session.execute(
            select(m.Person.slug, m.Credit.role)
            .join(m.Credit, m.Credit.person_id == m.Person.id)
            .where(m.Credit.work_id == work.id)
            .order_by(m.Credit.position)
        )
    ]
    directors = [person for person, role in credits if role == CreditRole.DIRECTOR]
    related = m.Work.__table__.alias("related")
    relations = [
        [str(kind), slug]
        for kind, slug in await session.execute(
            select(m.WorkRelation.type, related.c.slug)
            .join(related, related.c.id == m.WorkRelation.related_work_id)
            .where(m.WorkRelation.work_id == work.id)
            .order_by(m.WorkRelation.position)
        )
    ]
    disputes = [
        {"position": position, "field": field, "stated": stated, "reported": reported}
        for position, field, stated, reported in await session.execute(
            select(m.Dispute.position, m.Dispute.field, m.Dispute.stated, m.Dispute.reported)
            .where(m.Dispute.work_id == work.id)
            .order_by(m.Dispute.position)
        )
    ]
    return {
        "slug": work.slug,
        "title": work.title,
        "originalTitle": work.original_title,
        "kind": str(work.kind),
        "year": work.year,
        "synopsis": work.synopsis,
        "directors": directors,
        "themes": themes,
        "credits": credits,
        "related": relations,
        "disputes": disputes,
        "version": work.version,
    }


_FIELD_NAMES = {
    "title": "title",
    "kind": "kind",
    "year": "year",
    "synopsis": "synopsis",
    "original_title": "originalTitle",
}


WORK_SOURCES = Sources(m.WorkFieldSource, m.WorkSource, "work_id")


async def _attribute(
    session: AsyncSession, work_id: int, fields: list[str], source_id: int | None
) -> None:
    """The changed fields are now stated by the cited source (or by no source at all)."""
    names = [_FIELD_NAMES[f] for f in fields if f in _FIELD_NAMES]
    await attribute(session, WORK_SOURCES, work_id, names, source_id)


async def _renumber_credits(session: AsyncSession, work_id: int) -> int:
    """Billing positions 0 … n-1 for the work's credits, in their order (the directors
    just removed left a gap: ``Credit.position`` is documented from 0); n. Two passes, as
    positions are unique per work."""
    keys = (
        await session.execute(
            select(m.Credit.person_id, m.Credit.role)
            .where(m.Credit.work_id == work_id)
            .order_by(m.Credit.position)
        )
    ).all()
    for offset, (person_id, role) in enumerate(keys):
        await session.execute(
            update(m.Credit)
            .where(
                m.Credit.work_id == work_id, m.Credit.person_id == person_id, m.Credit.role == role
            )
            .values(position=-1 - offset)
            .execution_options(synchronize_session=False)
        )
    await session.execute(
        update(m.Credit)
        .where(m.Credit.work_id == work_id)
        .values(position=-1 - m.Credit.position)
        .execution_options(synchronize_session=False)
    )
    return len(keys)


async def _set_links(
    session: AsyncSession, work_id: int, director_ids: list[int] | None, theme_ids: list[int] | None
) -> None:
    if director_ids is not None:
        await session.execute(
            delete(m.Credit).where(
                m.Credit.work_id == work_id, m.Credit.role == CreditRole.DIRECTOR
            )
        )
        await session.flush()
        first = await _renumber_credits(session, work_id)
        for offset, person_id in enumerate(director_ids):
            session.add(
                m.Credit(
                    work_id=work_id,
                    person_id=person_id,
                    role=CreditRole.DIRECTOR,
                    position=int(first or 0) + offset,
                )
            )
    if theme_ids is not None:
        await session.execute(delete(m.WorkTheme).where(m.WorkTheme.work_id == work_id))
        for position, theme_id in enumerate(theme_ids):
            session.add(m.WorkTheme(work_id=work_id, theme_id=theme_id, position=position))
    await session.flush()


async def create_work(
    session: AsyncSession,
    actor: str,
    changes: WorkChanges,
    *,
    slug: str | None = None,
    source: str | None = None,
) -> Outcome:
    errors: list[UserError] = []
    if changes.title is None:
        errors.append(UserError(("input", "title"), REQUIRED, "a work needs a title"))
    if changes.kind is None:
        errors.append(UserError(("input", "kind"), REQUIRED, "a work needs a kind"))
    director_ids, theme_ids = await _check(session, changes, errors)
    source_id = await cited_source(session, source, errors)
    if slug is not None:
        await check_new_slug(session, m.Work, slug, f"a work has slug {slug!r}", errors)
    if errors:
        return Outcome(errors=errors)
    assert changes.title is not None and changes.kind is not None
    values = {f: getattr(changes, f) for f in _FIELD_NAMES}

    def new_work(work_slug: str) -> m.Work:
        work = m.Work(slug=work_slug, **values, version=1)
        work.search_text = work_document(work.title, work.original_title, (), work.synopsis)
        return work

    work = await add_new(session, m.Work, slug, slugify(changes.title) or "work", new_work)
    await _set_links(session, work.id, director_ids, theme_ids)
    given = [f for f in _FIELD_NAMES if getattr(changes, f) is not None]
    if source_id is None:  # what no source states, the curator does
        source_id, source = await curator_source(session, actor)
    await _attribute(session, work.id, given, source_id)
    await record(
        session, actor, "createWork", work.slug, source, None, await snapshot(session, work)
    )
    return Outcome(record=work)


async def work_search_text(
    session: AsyncSession, work_id: int, title: str, original: str | None, synopsis: str | None
) -> str:
    """The search document of a work with these names and synopsis and its stored alternative
    titles and disputes (``db.search_documents.work_document``, as the catalog import makes it)."""
    alternatives = await session.scalars(
        select(m.WorkAlternativeTitle.title)
        .where(m.WorkAlternativeTitle.work_id == work_id)
        .order_by(m.WorkAlternativeTitle.position)
    )
    disputes = await session.execute(
        select(m.Dispute.reported, m.Dispute.note)
        .where(m.Dispute.work_id == work_id)
        .order_by(m.Dispute.position)
    )
    forms = await session.execute(
        select(m.WorkTitle.text, m.WorkTitle.kind, m.WorkTitle.qualifier)
        .where(m.WorkTitle.work_id == work_id)
        .order_by(m.WorkTitle.position)
    )
    return work_document(
        title,
        original,
        list(alternatives),
        synopsis,
        [(reported, note) for reported, note in disputes],
        searchable_forms((text, form, qualifier) for text, form, qualifier in forms),
    )


async def refresh_search_text(session: AsyncSession, work: m.Work) -> None:
    """Rebuild a work's search document after its disputes changed (they are searched)."""
    document = await work_search_text(
        session, work.id, work.title, work.original_title, work.synopsis
    )
    await session.execute(
        update(m.Work)
        .where(m.Work.id == work.id)
        .values(search_text=document)
        .execution_options(synchronize_session=False)
    )


async def current_work(
    session: AsyncSession, slug: str, version: int
) -> tuple[m.Work | None, list[UserError]]:
    """The work at ``slug`` and, unless it is at ``version``, why it cannot be written."""
    work = await session.scalar(select(m.Work).where(m.Work.slug == slug))
    if work is None:
        return None, [UserError(("input", "slug"), NOT_FOUND, f"no work with slug {slug!r}")]
    if work.version != version:
        return work, [
            UserError(
                ("input", "version"),
                CONFLICT,
                f"the work is at version {work.version}, not {version}: read it again",
            )
        ]
    return work, []


async def update_work(
    session: AsyncSession,
    actor: str,
    slug: str,
    version: int,
    changes: WorkChanges,
    *,
    source: str | None = None,
) -> Outcome:
    work, errors = await current_work(session, slug, version)
    director_ids, theme_ids = await _check(session, changes, errors)
    source_id = await cited_source(session, source, errors)
    if errors or work is None:
        return Outcome(errors=errors)
    if await _unchanged(session, work, changes, director_ids, theme_ids, source_id):
        return Outcome(record=work)  # nothing to write: no new version, no audit entry
    before = await snapshot(session, work)
    prior_sources = await field_sources(session, work.id) if before["disputes"] else {}
    values: dict[str, Any] = {
        f: getattr(changes, f) for f in _FIELD_NAMES if getattr(changes, f) is not None
    }
    if changes.clear_year:
        values["year"] = None
    if "title" in values:
        values["title_key"] = sort_key(values["title"])
    title = values.get("title", work.title)
    original = values.get("original_title", work.original_title)
    synopsis = values.get("synopsis", work.synopsis)
    # as the catalog import makes it (db.interchange.load): the alternative titles stay findable
    values["search_text"] = await work_search_text(session, work.id, title, original, synopsis)
    if not await update_versioned(session, m.Work, work.id, version, values):
        return Outcome(errors=[changed_meanwhile()])
    await _set_links(
        session,
        work.id,
        director_ids if changes.directors is not None else None,
        theme_ids if changes.themes is not None else None,
    )
    changed_fields = [f for f in values if f in _FIELD_NAMES]
    if source_id is None and changed_fields:  # what no source states, the curator does
        source_id, source = await curator_source(session, actor)
    await _attribute(session, work.id, changed_fields, source_id)
    forms = {TitleKind.MAIN: "title", TitleKind.ORIGINAL: "original_title"}
    texts = {kind: values[f] for kind, f in forms.items() if f in values}
    if texts:
        await restate_forms(session, WORK_TITLES, work.id, texts, source_id)
    await session.refresh(work)
    after = await snapshot(session, work)
    if await restate_disputes(session, work.id, before, after, prior_sources):
        after = await snapshot(session, work)
    await record(session, actor, "updateWork", work.slug, source, before, after)
    return Outcome(record=work)


async def _unchanged(
    session: AsyncSession,
    work: m.Work,
    changes: WorkChanges,
    director_ids: list[int],
    theme_ids: list[int],
    source_id: int | None,
) -> bool:
    """Whether an update would change nothing: every value given is the stored one, the
    directors and themes given are the work's (in order), and a source cited already states
    every field given."""
    given = [f for f in _FIELD_NAMES if getattr(changes, f) is not None]
    if any(getattr(changes, f) != getattr(work, f) for f in given):
        return False
    if changes.clear_year and work.year is not None:
        return False
    if changes.directors is not None:
        current = await session.scalars(
            select(m.Credit.person_id)
            .where(m.Credit.work_id == work.id, m.Credit.role == CreditRole.DIRECTOR)
            .order_by(m.Credit.position)
        )
        if list(current) != director_ids:
            return False
    if changes.themes is not None and [i for i, _ in await _tags(session, work.id)] != theme_ids:
        return False
    if changes.clear_year:
        given.append("year")
    if source_id is None:
        return True
    names = [_FIELD_NAMES[f] for f in given]
    return await attributed_to(session, WORK_SOURCES, work.id, names, source_id)


async def delete_work(session: AsyncSession, actor: str, slug: str, version: int) -> Outcome:
    work, errors = await current_work(session, slug, version)
    if work is not None and not errors:
        referrers = list(
            await session.scalars(
                select(m.Work.slug)
                .join(m.WorkRelation, m.WorkRelation.work_id == m.Work.id)
                .where(m.WorkRelation.related_work_id == work.id)
                .order_by(m.Work.slug)
            )
        )
        if referrers:
            relating = ", ".join(referrers)
            errors.append(
                still_referenced(f"{relating} relate to this work: remove those relations first")
            )
    if errors or work is None:
        return Outcome(errors=errors)
    before = await snapshot(session, work)
    if not await delete_versioned(session, m.Work, work.id, version):
        return Outcome(errors=[changed_meanwhile()])
    session.expunge(work)
    await record(session, actor, "deleteWork", slug, None, before, None)
    return Outcome(record=work)
