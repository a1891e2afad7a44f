"""Curators' writes to works: validated, atomic, versioned, attributed and audited.

Each function runs inside the caller's transaction and either applies the whole change —
the record, its attributions, one ``changes`` row (who, when, what, before and after) and a
bump of the catalog version — or returns user errors and writes nothing. Updates and
deletions name the ``version`` they read; a stale one is a ``CONFLICT`` (the version check is
part of the UPDATE/DELETE itself, so two writers racing on one version cannot both win).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db import models as m
from db import races, rules
from db.catalog_version import bump_catalog_version
from db.disputes import field_sources, restate_disputes
from db.enums import CreditRole, WorkKind
from db.text import search_document, slugify, sort_key
from db.tokens import curator_source_key

REQUIRED = rules.REQUIRED
TOO_LONG = rules.TOO_LONG
OUT_OF_RANGE = "OUT_OF_RANGE"
INVALID_SLUG = rules.INVALID_SLUG
SLUG_TAKEN = "SLUG_TAKEN"
NOT_FOUND = "NOT_FOUND"
DUPLICATE = "DUPLICATE"
CONFLICT = "CONFLICT"
REFERENCED = "REFERENCED"


@dataclass(frozen=True)
class UserError:
    """What is wrong with one input field (``field`` is its path in the input)."""

    field: tuple[str, ...]
    code: str
    message: str


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


@dataclass
class Outcome:
    work: m.Work | None = None
    errors: list[UserError] = field(default_factory=list)


def race_error(error: BaseException) -> UserError | None:
    """The user error for a write that lost a race with another (``db.races``), or None if
    ``error`` is no such failure."""
    race = races.answer(error)
    return UserError(race.field, race.code, race.message) if race is not None else None


def _changed_meanwhile() -> UserError:
    return UserError(("input", "version"), CONFLICT, "the work changed meanwhile: read it again")


def _rowcount(result: Any) -> int:
    """Rows an UPDATE or DELETE matched (the version check is in its WHERE)."""
    return int(result.rowcount)


def _text(errors: list[UserError], name: str, value: str | None, rule: rules.Rule) -> str | None:
    """``value`` normalised by ``rule`` (``db.rules``), or None with the problem in ``errors``."""
    if value is None:
        return None
    checked = rule(value)
    if isinstance(checked, rules.Problem):
        errors.append(UserError(("input", name), checked.code, f"{name} {checked.message}"))
        return None
    return checked


async def _check(
    session: AsyncSession, changes: WorkChanges, errors: list[UserError]
) -> tuple[list[int], list[int]]:
    """Validate field values and references; the director and theme ids."""
    changes.title = _text(errors, "title", changes.title, rules.NAME)
    changes.original_title = _text(errors, "originalTitle", changes.original_title, rules.NAME)
    changes.synopsis = _text(errors, "synopsis", changes.synopsis, rules.PROSE)
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


async def _source_id(session: AsyncSession, key: str | None, errors: list[UserError]) -> int | None:
    if key is None:
        return None
    source_id = await session.scalar(select(m.Source.id).where(m.Source.key == key))
    if source_id is None:
        errors.append(UserError(("input", "source"), NOT_FOUND, f"no source with key {key!r}"))
    return source_id


async def curator_source(session: AsyncSession, actor: str) -> tuple[int, str]:
    """The source standing for a curator's own statements (a write that cites no source):
    ``curator-<name>``, created on the curator's first such write."""
    key = curator_source_key(actor)
    found = await session.scalar(select(m.Source.id).where(m.Source.key == key))
    if found is None:
        # Insert-or-get: a curator's first writes may run at once (PostgreSQL); the one that
        # inserts second waits for the first and inserts nothing, then reads the first's row.
        dialect = session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        title = f"Curator {actor} (statements made through the API)"[: m.TEXT_LENGTH]
        await session.execute(
            insert(m.Source)
            .values(key=key, title=title)
            .on_conflict_do_nothing(index_elements=[m.Source.key])
        )
        found = (await session.execute(select(m.Source.id).where(m.Source.key == key))).scalar_one()
    return int(found), key


SLUG_ATTEMPTS = 50


async def add_with_free_slug(
    session: AsyncSession, entity: Any, base: str, make: Callable[[str], Any]
) -> Any:
    """Add ``make(slug)`` under the first free slug made from ``base`` (``free_slug``).

    A concurrent writer may take that slug between the look-up and the insert (PostgreSQL
    runs writers at once): the insert, in a savepoint, then fails alone and the next free
    slug is looked up, so racing writers that asked for no slug all succeed, each under its
    own. Every retry follows another writer's commit, so this ends; ``SLUG_ATTEMPTS`` bounds
    it all the same (then the collision is the caller's race to answer)."""
    for attempt in range(1, SLUG_ATTEMPTS + 1):
        row = make(await free_slug(session, entity, base))
        try:
            async with session.begin_nested():
                session.add(row)
                await session.flush()
        except IntegrityError as error:
            if attempt == SLUG_ATTEMPTS or not races.is_taken(
                error, f"{entity.__tablename__}.slug"
            ):
                raise
            continue
        return row
    raise AssertionError("unreachable")  # the last attempt returned or raised


async def free_slug(session: AsyncSession, entity: Any, base: str) -> str:
    """``base``, or ``base-2``, ``base-3`` … whichever no record of ``entity`` has; a long
    ``base`` is first cut at a word boundary, so that even suffixed it fits the slug column."""
    base = rules.bounded_slug(base)
    taken = set(
        await session.scalars(
            select(entity.slug).where((entity.slug == base) | entity.slug.like(f"{base}-%"))
        )
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


async def snapshot(session: AsyncSession, work: m.Work) -> dict[str, Any]:
    """The work as the audit trail records it."""
    directors = list(
        await session.scalars(
            select(m.Person.slug)
            .join(m.Credit, m.Credit.person_id == m.Person.id)
            .where(m.Credit.work_id == work.id, m.Credit.role == CreditRole.DIRECTOR)
            .order_by(m.Credit.position)
        )
    )
    themes = list(
        await session.scalars(
            select(m.Theme.slug)
            .join(m.WorkTheme, m.WorkTheme.theme_id == m.Theme.id)
            .where(m.WorkTheme.work_id == work.id)
            .order_by(m.WorkTheme.position)
        )
    )
    credits = [
        [person, str(role)]
        for person, role in await session.execute(
            select(m.Person.slug, m.Credit.role)
            .join(m.Credit, m.Credit.person_id == m.Person.id)
            .where(m.Credit.work_id == work.id)
            .order_by(m.Credit.position)
        )
    ]
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


async def _record(
    session: AsyncSession,
    actor: str,
    operation: str,
    slug: str,
    source: str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    subject_type: str = "work",
) -> None:
    session.add(
        m.Change(
            at=datetime.now(UTC),
            actor=actor,
            operation=operation,
            subject_type=subject_type,
            subject_slug=slug,
            source_key=source,
            before=json.dumps(before, ensure_ascii=False) if before is not None else None,
            after=json.dumps(after, ensure_ascii=False) if after is not None else None,
        )
    )
    await session.flush()
    await bump_catalog_version(session)


_FIELD_NAMES = {
    "title": "title",
    "kind": "kind",
    "year": "year",
    "synopsis": "synopsis",
    "original_title": "originalTitle",
}


async def _attribute(
    session: AsyncSession, work_id: int, fields: list[str], source_id: int | None
) -> None:
    """The changed fields are now stated by the cited source (or by no source at all)."""
    names = [_FIELD_NAMES[f] for f in fields if f in _FIELD_NAMES]
    if not names:
        return
    await session.execute(
        delete(m.WorkFieldSource).where(
            m.WorkFieldSource.work_id == work_id, m.WorkFieldSource.field.in_(names)
        )
    )
    if source_id is not None:
        for name in names:
            session.add(
                m.WorkFieldSource(work_id=work_id, field=name, source_id=source_id, position=0)
            )
        cited = await session.scalar(
            select(m.WorkSource.work_id).where(
                m.WorkSource.work_id == work_id, m.WorkSource.source_id == source_id
            )
        )
        if cited is None:
            position = await session.scalar(
                select(func.coalesce(func.max(m.WorkSource.position) + 1, 0)).where(
                    m.WorkSource.work_id == work_id
                )
            )
            session.add(m.WorkSource(work_id=work_id, source_id=source_id, position=position))
    await session.flush()


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
    source_id = await _source_id(session, source, errors)
    if slug is not None:
        if isinstance(problem := rules.SLUG(slug), rules.Problem):
            errors.append(UserError(("input", "slug"), problem.code, f"slug {problem.message}"))
        elif await session.scalar(select(m.Work.id).where(m.Work.slug == slug)) is not None:
            errors.append(UserError(("input", "slug"), SLUG_TAKEN, f"a work has slug {slug!r}"))
    if errors:
        return Outcome(errors=errors)
    assert changes.title is not None and changes.kind is not None
    title, kind = changes.title, changes.kind

    def new_work(work_slug: str) -> m.Work:
        work = m.Work(
            slug=work_slug,
            title=title,
            kind=kind,
            year=changes.year,
            synopsis=changes.synopsis,
            original_title=changes.original_title,
            version=1,
        )
        work.search_text = search_document([n for n in (work.title, work.original_title) if n])
        return work

    if slug is not None:
        work = new_work(slug)
        session.add(work)
        await session.flush()
    else:
        work = await add_with_free_slug(session, m.Work, slugify(title) or "work", new_work)
    await _set_links(session, work.id, director_ids, theme_ids)
    given = [f for f in _FIELD_NAMES if getattr(changes, f) is not None]
    if source_id is None:  # what no source states, the curator does
        source_id, source = await curator_source(session, actor)
    await _attribute(session, work.id, given, source_id)
    await _record(
        session, actor, "createWork", work.slug, source, None, await snapshot(session, work)
    )
    return Outcome(work=work)


async def _stale(
    session: AsyncSession, slug: str, version: int
) -> tuple[m.Work | None, list[UserError]]:
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
    work, errors = await _stale(session, slug, version)
    director_ids, theme_ids = await _check(session, changes, errors)
    source_id = await _source_id(session, source, errors)
    if errors or work is None:
        return Outcome(errors=errors)
    if await _unchanged(session, work, changes, director_ids, theme_ids, source_id):
        return Outcome(work=work)  # nothing to write: no new version, no audit entry
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
    alternatives = await session.scalars(
        select(m.WorkAlternativeTitle.title)
        .where(m.WorkAlternativeTitle.work_id == work.id)
        .order_by(m.WorkAlternativeTitle.position)
    )
    # as the catalog import makes it (db.catalog_io): the alternative titles stay findable
    values["search_text"] = search_document([*(n for n in (title, original) if n), *alternatives])
    updated = await session.execute(
        update(m.Work)
        .where(m.Work.id == work.id, m.Work.version == version)
        .values(**values, version=m.Work.version + 1)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(updated) != 1:  # another writer got there first, between our read and write
        return Outcome(errors=[_changed_meanwhile()])
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
    await session.refresh(work)
    after = await snapshot(session, work)
    if await restate_disputes(session, work.id, before, after, prior_sources):
        after = await snapshot(session, work)
    await _record(session, actor, "updateWork", work.slug, source, before, after)
    return Outcome(work=work)


async def attributed_to(
    session: AsyncSession, table: Any, owner: Any, owner_id: int, fields: list[str], source_id: int
) -> bool:
    """Whether each of ``fields`` is attributed to ``source_id`` alone (``table``: a
    ``*_field_sources`` table, ``owner`` its column naming the record)."""
    if not fields:
        return True
    rows = set(
        (await session.execute(select(table.field, table.source_id).where(owner == owner_id))).all()
    )
    wanted = {(f, source_id) for f in fields}
    return {row for row in rows if row[0] in fields} == wanted


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
    if changes.themes is not None:
        current = await session.scalars(
            select(m.WorkTheme.theme_id)
            .where(m.WorkTheme.work_id == work.id)
            .order_by(m.WorkTheme.position)
        )
        if list(current) != theme_ids:
            return False
    if changes.clear_year:
        given.append("year")
    if source_id is None:
        return True
    names = [_FIELD_NAMES[f] for f in given]
    return await attributed_to(
        session, m.WorkFieldSource, m.WorkFieldSource.work_id, work.id, names, source_id
    )


async def delete_work(session: AsyncSession, actor: str, slug: str, version: int) -> Outcome:
    work, errors = await _stale(session, slug, version)
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
            errors.append(
                UserError(
                    ("input", "slug"),
                    REFERENCED,
                    f"{', '.join(referrers)} relate to this work: remove those relations first",
                )
            )
    if errors or work is None:
        return Outcome(errors=errors)
    before = await snapshot(session, work)
    deleted = await session.execute(
        delete(m.Work)
        .where(m.Work.id == work.id, m.Work.version == version)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(deleted) != 1:
        return Outcome(errors=[_changed_meanwhile()])
    session.expunge(work)
    await _record(session, actor, "deleteWork", slug, None, before, None)
    return Outcome()
