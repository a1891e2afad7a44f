"""Curators' writes to what hangs off a work — credits, theme tags, relations, disputes.

Each names the work's ``version`` (the work changes with them: it gets a new version),
validates every reference, and writes nothing on error; each is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db import models as m
from db import rules
from db.curation.common import (
    add_last,
    checked_text,
    cited_source,
    curator_source,
    record,
    rowcount,
    update_versioned,
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
from db.curation.works import current_work, refresh_search_text, snapshot
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
    if not await update_versioned(session, m.Work, work.id, version, {}):
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


def _link(entity: Any, work: m.Work, link: dict[str, Any]) -> Any:
    """The work's row of a link table (``entity``) with the values ``link`` gives."""
    return and_(entity.work_id == work.id, *(getattr(entity, k) == v for k, v in link.items()))


@dataclass(frozen=True)
class _LinkKind:
    """A link table of works that curators add rows to and remove rows from one at a time."""

    entity: Any
    field: str  # the input field naming what the work is linked to
    operations: tuple[str, str]  # the audit trail's names for adding and for removing


_TAG = _LinkKind(m.WorkTheme, "theme", ("tagWork", "untagWork"))
_RELATION = _LinkKind(m.WorkRelation, "work", ("relateWorks", "unrelateWorks"))


async def _set_link(
    session: AsyncSession,
    actor: str,
    work: m.Work,
    version: int,
    kind: _LinkKind,
    link: dict[str, Any],
    messages: tuple[str, str],
    *,
    add: bool,
) -> Outcome:
    """Add the work's row of ``kind`` with the values ``link`` gives (after the last), or
    remove it: one change to the work. Adding a row that is there, or removing one that is
    not, is refused with ``messages`` (for each case)."""
    entity, where = kind.entity, _link(kind.entity, work, link)
    present = await session.scalar(select(entity.position).where(where)) is not None
    if add and present:
        return Outcome(errors=[UserError(("input", kind.field), DUPLICATE, messages[0])])
    if not add and not present:
        return Outcome(errors=[UserError(("input", kind.field), NOT_FOUND, messages[1])])
    before = await snapshot(session, work)
    if add:
        await add_last(session, entity, work_id=work.id, **link)
    else:
        await session.execute(delete(entity).where(where))
    operation = kind.operations[0] if add else kind.operations[1]
    return await _commit_change(session, actor, operation, work, version, before)


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
    await add_last(session, m.Credit, work_id=work.id, person_id=person_id, role=role)
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
    link = {"theme_id": theme_id}
    messages = (f"already {theme}", f"not tagged {theme}")
    return await _set_link(session, actor, work, version, _TAG, link, messages, add=add)


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
    link = {"related_work_id": other_id, "type": kind}
    messages = ("related so already", "no such relation")
    return await _set_link(session, actor, work, version, _RELATION, link, messages, add=add)


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
    await add_last(
        session,
        m.Dispute,
        work_id=work.id,
        field=field,
        stated=stated,
        reported=reported,
        source_id=source_id,
        note=note,
    )
    await refresh_search_text(session, work)  # what a dispute reports and notes is searched
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
    await refresh_search_text(session, work)
    return await _commit_change(session, actor, "removeDispute", work, version, before)
