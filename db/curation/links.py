"""Curators' writes to what hangs off a work — credits, theme tags, relations, disputes.

Each names the work's ``version`` (the work changes with them: it gets a new version),
validates every reference, and writes nothing on error; each is audited.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db import models as m
from db import rules
from db.curation.common import (
    checked_text,
    cited_source,
    curator_source,
    next_position,
    record,
    rowcount,
)
from db.curation.outcome import (
    DUPLICATE,
    INVALID_ORDER,
    NOT_FOUND,
    SELF_RELATION,
    Outcome,
    UserError,
    changed_meanwhile,
)
from db.curation.works import current_work, snapshot
from db.disputes import restate_disputes
from db.enums import CreditRole, WorkRelationType

DISPUTE_FIELDS = ("title", "originalTitle", "kind", "year", "directors", "synopsis", "themes")


async def _id(session: AsyncSession, entity: Any, slug: str) -> int | None:
    found = await session.scalar(select(entity.id).where(entity.slug == slug))
    return int(found) if found is not None else None


async def _source(session: AsyncSession, key: str) -> int | None:
    found = await session.scalar(select(m.Source.id).where(m.Source.key == key))
    return int(found) if found is not None else None


async def _commit_change(
    session: AsyncSession,
    actor: str,
    operation: str,
    work: m.Work,
    version: int,
    before: dict[str, Any],
    source: str | None = None,
) -> Outcome:
    """Give the work its new version (if still at ``version``) and record the change."""
    bumped = await session.execute(
        update(m.Work)
        .where(m.Work.id == work.id, m.Work.version == version)
        .values(version=m.Work.version + 1)
        .execution_options(synchronize_session=False)
    )
    if rowcount(bumped) != 1:
        return Outcome(errors=[changed_meanwhile()])
    await session.refresh(work)
    after = await snapshot(session, work)
    if await restate_disputes(session, work.id, before, after, {}):  # e.g. directors changed
        after = await snapshot(session, work)
    await record(session, actor, operation, work.slug, source, before, after)
    return Outcome(record=work)


async def _close_gap(session: AsyncSession, entity: Any, work_id: int, removed: int) -> None:
    """Move the work's rows after the ``removed`` position up by one: positions are what
    clients see (a credit's billing position, a dispute's index) and stay 0 … n-1. Two
    passes, as positions are unique per work and PostgreSQL checks each row as it goes."""
    of_work = entity.work_id == work_id
    for where, value in (
        (entity.position > removed, -entity.position),  # out of the way (no position < 0)
        (entity.position < 0, -entity.position - 1),  # then one up
    ):
        await session.execute(
            update(entity)
            .where(of_work, where)
            .values(position=value)
            .execution_options(synchronize_session=False)
        )


async def add_credit(
    session: AsyncSession,
    actor: str,
    slug: str,
    version: int,
    person: str,
    role: CreditRole,
    source: str | None = None,
) -> Outcome:
    work, errors = await current_work(session, slug, version)
    cited = await cited_source(session, source, errors)
    person_id = await _id(session, m.Person, person)
    if person_id is None:
        errors.append(UserError(("input", "person"), NOT_FOUND, f"no person {person!r}"))
    if work is not None and person_id is not None and not errors:
        exists = await session.scalar(
            select(m.Credit.position).where(
                m.Credit.work_id == work.id, m.Credit.person_id == person_id, m.Credit.role == role
            )
        )
        if exists is not None:
            errors.append(UserError(("input", "person"), DUPLICATE, f"{person} is credited {role}"))
    if errors or work is None or person_id is None:
        return Outcome(errors=errors)
    before = await snapshot(session, work)
    position = await next_position(session, m.Credit.position, m.Credit.work_id == work.id)
    session.add(m.Credit(work_id=work.id, person_id=person_id, role=role, position=position))
    await session.flush()
    if cited is not None and source is not None:
        source_id, key = cited, source
    else:  # no source cited: the credit is the curator's word
        source_id, key = await curator_source(session, actor)
    session.add(
        m.CreditSource(
            work_id=work.id, person_id=person_id, role=role, source_id=source_id, position=0
        )
    )
    await session.flush()
    return await _commit_change(session, actor, "addCredit", work, version, before, key)


async def remove_credit(
    session: AsyncSession, actor: str, slug: str, version: int, person: str, role: CreditRole
) -> Outcome:
    work, errors = await current_work(session, slug, version)
    person_id = await _id(session, m.Person, person)
    if work is None or errors:
        return Outcome(errors=errors)
    before = await snapshot(session, work)
    where = (
        (m.Credit.work_id == work.id) & (m.Credit.person_id == person_id) & (m.Credit.role == role)
    )
    position = await session.scalar(select(m.Credit.position).where(where))
    removed = await session.execute(
        delete(m.Credit).where(where).execution_options(synchronize_session=False)
    )
    if rowcount(removed) != 1 or position is None:
        return Outcome(
            errors=[UserError(("input", "person"), NOT_FOUND, f"{person} is not credited {role}")]
        )
    await _close_gap(session, m.Credit, work.id, position)
    return await _commit_change(session, actor, "removeCredit", work, version, before)


async def reorder_credits(
    session: AsyncSession, actor: str, slug: str, version: int, order: list[tuple[str, CreditRole]]
) -> Outcome:
    """Put the work's credits in billing ``order``: every credit, each once."""
    work, errors = await current_work(session, slug, version)
    if work is None or errors:
        return Outcome(errors=errors)
    rows = (
        await session.execute(
            select(m.Person.slug, m.Credit.role, m.Credit.person_id)
            .join(m.Person, m.Person.id == m.Credit.person_id)
            .where(m.Credit.work_id == work.id)
            .order_by(m.Credit.position)
        )
    ).all()
    current = {(s, role): pid for s, role, pid in rows}
    if sorted(order) != sorted(current) or len(set(order)) != len(order):
        return Outcome(
            errors=[
                UserError(
                    ("input", "order"),
                    INVALID_ORDER,
                    "name every credit of the work exactly once (person and role)",
                )
            ]
        )
    if order == list(current):  # the billing order already: nothing to write
        return Outcome(record=work)
    before = await snapshot(session, work)
    for offset, key in enumerate(order):  # two passes: positions are unique per work
        await session.execute(
            update(m.Credit)
            .where(
                m.Credit.work_id == work.id,
                m.Credit.person_id == current[key],
                m.Credit.role == key[1],
            )
            .values(position=-1 - offset)
            .execution_options(synchronize_session=False)
        )
    await session.execute(
        update(m.Credit)
        .where(m.Credit.work_id == work.id)
        .values(position=-1 - m.Credit.position)
        .execution_options(synchronize_session=False)
    )
    return await _commit_change(session, actor, "reorderCredits", work, version, before)


async def tag(
    session: AsyncSession, actor: str, slug: str, version: int, theme: str, *, add: bool
) -> Outcome:
    work, errors = await current_work(session, slug, version)
    theme_id = await _id(session, m.Theme, theme)
    if theme_id is None:
        errors.append(UserError(("input", "theme"), NOT_FOUND, f"no theme {theme!r}"))
    if work is None or theme_id is None or errors:
        return Outcome(errors=errors)
    tagged = await session.scalar(
        select(m.WorkTheme.position).where(
            m.WorkTheme.work_id == work.id, m.WorkTheme.theme_id == theme_id
        )
    )
    if add and tagged is not None:
        return Outcome(errors=[UserError(("input", "theme"), DUPLICATE, f"already {theme}")])
    if not add and tagged is None:
        return Outcome(errors=[UserError(("input", "theme"), NOT_FOUND, f"not tagged {theme}")])
    before = await snapshot(session, work)
    if add:
        position = await next_position(
            session, m.WorkTheme.position, m.WorkTheme.work_id == work.id
        )
        session.add(m.WorkTheme(work_id=work.id, theme_id=theme_id, position=position))
        await session.flush()
    else:
        await session.execute(
            delete(m.WorkTheme).where(
                m.WorkTheme.work_id == work.id, m.WorkTheme.theme_id == theme_id
            )
        )
    return await _commit_change(
        session, actor, "tagWork" if add else "untagWork", work, version, before
    )


async def relate(
    session: AsyncSession,
    actor: str,
    slug: str,
    version: int,
    kind: WorkRelationType,
    other: str,
    *,
    add: bool,
) -> Outcome:
    work, errors = await current_work(session, slug, version)
    other_id = await _id(session, m.Work, other)
    if other_id is None:
        errors.append(UserError(("input", "work"), NOT_FOUND, f"no work {other!r}"))
    elif work is not None and other_id == work.id:
        errors.append(UserError(("input", "work"), SELF_RELATION, "a work cannot relate to itself"))
    if work is None or other_id is None or errors:
        return Outcome(errors=errors)
    where = (
        (m.WorkRelation.work_id == work.id)
        & (m.WorkRelation.related_work_id == other_id)
        & (m.WorkRelation.type == kind)
    )
    present = await session.scalar(select(m.WorkRelation.position).where(where))
    if add and present is not None:
        return Outcome(errors=[UserError(("input", "work"), DUPLICATE, "related so already")])
    if not add and present is None:
        return Outcome(errors=[UserError(("input", "work"), NOT_FOUND, "no such relation")])
    before = await snapshot(session, work)
    if add:
        position = await next_position(
            session, m.WorkRelation.position, m.WorkRelation.work_id == work.id
        )
        session.add(
            m.WorkRelation(work_id=work.id, related_work_id=other_id, type=kind, position=position)
        )
        await session.flush()
    else:
        await session.execute(delete(m.WorkRelation).where(where))
    return await _commit_change(
        session, actor, "relateWorks" if add else "unrelateWorks", work, version, before
    )


async def add_dispute(
    session: AsyncSession,
    actor: str,
    slug: str,
    version: int,
    field: str,
    stated: str,
    reported: str,
    source: str,
    note: str | None,
) -> Outcome:
    work, errors = await current_work(session, slug, version)
    if field not in DISPUTE_FIELDS:
        errors.append(
            UserError(("input", "field"), NOT_FOUND, f"field is one of {', '.join(DISPUTE_FIELDS)}")
        )
    stated = checked_text(errors, "stated", stated, rules.PROSE) or ""
    reported = checked_text(errors, "reported", reported, rules.PROSE) or ""
    if note is not None:
        note = checked_text(errors, "note", note, rules.PROSE)
    source_id = await _source(session, source)
    if source_id is None:
        errors.append(UserError(("input", "source"), NOT_FOUND, f"no source {source!r}"))
    if work is None or source_id is None or errors:
        return Outcome(errors=errors)
    before = await snapshot(session, work)
    position = await next_position(session, m.Dispute.position, m.Dispute.work_id == work.id)
    session.add(
        m.Dispute(
            work_id=work.id,
            position=position,
            field=field,
            stated=stated,
            reported=reported,
            source_id=source_id,
            note=note,
        )
    )
    await session.flush()
    return await _commit_change(session, actor, "addDispute", work, version, before, source)


async def remove_dispute(
    session: AsyncSession, actor: str, slug: str, version: int, position: int
) -> Outcome:
    work, errors = await current_work(session, slug, version)
    if work is None or errors:
        return Outcome(errors=errors)
    before = await snapshot(session, work)
    removed = await session.execute(
        delete(m.Dispute)
        .where(m.Dispute.work_id == work.id, m.Dispute.position == position)
        .execution_options(synchronize_session=False)
    )
    if rowcount(removed) != 1:
        return Outcome(errors=[UserError(("input", "position"), NOT_FOUND, "no such dispute")])
    await _close_gap(session, m.Dispute, work.id, position)
    return await _commit_change(session, actor, "removeDispute", work, version, before)
