"""Disputes follow the record: a dispute's ``stated`` is what the record states now.

A dispute says "the record states X; this source reports Y". When a write changes the field
a dispute is about, the dispute is restated in the same transaction:

* the record now states something else that is still not what the source reports: ``stated``
  becomes the new value;
* the record now states what the source reports (the curator took the reference's side, as
  the README's ``updateWork`` of *Sea of Blood* to 1969 does): the disagreement is now with
  the source that stated the old value, so the dispute turns round — ``stated`` is the new
  value, ``reported`` the old one, its source the one the old value was attributed to, and
  the note stays. When that source is unknown (directors and themes carry no field
  attribution) or is the same source, the dispute is settled and removed.

The audit entry's ``before`` and ``after`` keep both versions. Both read paths read the
stored rows, so they agree.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import models as m
from db.enums import CreditRole

# What a dispute can be about: the names ``db.curation.works.snapshot`` gives these fields.
FIELDS = ("title", "originalTitle", "kind", "year", "directors", "synopsis", "themes")
_LISTS = {"directors", "themes"}
NOT_STATED = "not stated"


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _scalar(value: Any) -> str:
    return NOT_STATED if value is None or value == "" else str(value)


async def _list_statement(session: AsyncSession, work_id: int, field: str) -> str:
    if field == "directors":
        names = await session.scalars(
            select(m.Person.name)
            .join(m.Credit, m.Credit.person_id == m.Person.id)
            .where(m.Credit.work_id == work_id, m.Credit.role == CreditRole.DIRECTOR)
            .order_by(m.Credit.position)
        )
    else:
        names = await session.scalars(
            select(m.Theme.name)
            .join(m.WorkTheme, m.WorkTheme.theme_id == m.Theme.id)
            .where(m.WorkTheme.work_id == work_id)
            .order_by(m.WorkTheme.position)
        )
    return ", ".join(names) or NOT_STATED


async def field_sources(session: AsyncSession, work_id: int) -> dict[str, int]:
    """The source each of a work's fields is attributed to (the first, where several)."""
    rows = await session.execute(
        select(m.WorkFieldSource.field, m.WorkFieldSource.source_id)
        .where(m.WorkFieldSource.work_id == work_id)
        .order_by(m.WorkFieldSource.position.desc())
    )
    return {field: int(source_id) for field, source_id in rows}


async def restate_disputes(
    session: AsyncSession,
    work_id: int,
    before: dict[str, Any],
    after: dict[str, Any],
    prior_sources: dict[str, int],
) -> bool:
    """Restate the work's disputes about the fields that changed from ``before`` to ``after``
    (``db.curation.works.snapshot``s); ``prior_sources``: ``field_sources`` before the write.
    Whether any dispute changed."""
    changed = [f for f in FIELDS if before.get(f) != after.get(f)]
    if not changed or not any(d["field"] in changed for d in after.get("disputes", [])):
        return False
    disputes = list(
        await session.scalars(
            select(m.Dispute).where(m.Dispute.work_id == work_id, m.Dispute.field.in_(changed))
        )
    )
    for dispute in disputes:
        field = dispute.field
        if field in _LISTS:
            now, old = await _list_statement(session, work_id, field), None
        else:
            now, old = _scalar(after.get(field)), _scalar(before.get(field))
        if not _same(now, dispute.reported):
            dispute.stated = now
            continue
        prior = prior_sources.get(field)
        if old is None or prior is None or prior == dispute.source_id or _same(old, now):
            await session.execute(delete(m.Dispute).where(m.Dispute.id == dispute.id))
            continue
        dispute.stated, dispute.reported, dispute.source_id = now, old, prior
    await session.flush()
    return True
