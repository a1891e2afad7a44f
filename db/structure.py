"""Reads of a work's structure (migration 0013): forms, audience, parts, dated events,
origins, studio credits, and the sources stating each of those values; studios by id and
slug, and their sources. Every function is a batch: one statement for all keys, one result
per key in key order (DataLoader-ready), like ``db.queries``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import models as m
from db.enums import Audience, Statement, WorkForm
from db.pagination import Ordering, SortKey
from db.queries import _child_lists, _cited, _lookup, per_key

studios_by_id = _lookup(m.Studio, "id", int)
studios_by_slug = _lookup(m.Studio, "slug", str)

STUDIOS_ORDERING = Ordering(
    (SortKey("name", m.Studio.name_key), SortKey("id", m.Studio.id, False, int))
)


def studios_query() -> Select[Any]:
    return select(m.Studio)


StatementKey = tuple[Statement, int]
"""Which value of a work's structure: (the list, the value's position in it)."""


async def forms_of_works(session: AsyncSession, work_ids: Sequence[int]) -> list[list[WorkForm]]:
    f = m.WorkFormRow
    return await _child_lists(session, f.work_id, f.form, f.position, work_ids)


async def audiences_of_works(
    session: AsyncSession, work_ids: Sequence[int]
) -> list[Audience | None]:
    a = m.WorkAudience
    rows = await session.execute(select(a.work_id, a.audience).where(a.work_id.in_(work_ids)))
    found: dict[int, Audience] = {work_id: audience for work_id, audience in rows}
    return [found.get(work_id) for work_id in work_ids]


async def _rows_of_works(session: AsyncSession, model: Any, work_ids: Sequence[int]) -> Any:
    """Each work's rows of a structure table (keyed ``work_id, position``), in order."""
    rows = await session.execute(
        select(model).where(model.work_id.in_(work_ids)).order_by(model.work_id, model.position)
    )
    return per_key(work_ids, ((row.work_id, row) for row in rows.scalars()))


async def parts_of_works(session: AsyncSession, work_ids: Sequence[int]) -> list[list[m.WorkPart]]:
    result: list[list[m.WorkPart]] = await _rows_of_works(session, m.WorkPart, work_ids)
    return result


async def events_of_works(
    session: AsyncSession, work_ids: Sequence[int]
) -> list[list[m.WorkEvent]]:
    """All of each work's events: its own and its parts' (``part_position`` says whose)."""
    result: list[list[m.WorkEvent]] = await _rows_of_works(session, m.WorkEvent, work_ids)
    return result


async def origins_of_works(
    session: AsyncSession, work_ids: Sequence[int]
) -> list[list[m.WorkOrigin]]:
    result: list[list[m.WorkOrigin]] = await _rows_of_works(session, m.WorkOrigin, work_ids)
    return result


async def studios_of_works(
    session: AsyncSession, work_ids: Sequence[int]
) -> list[list[tuple[m.WorkStudio, m.Studio]]]:
    """Each work's studio credits with their studios, in the order stated."""
    ws = m.WorkStudio
    rows = await session.execute(
        select(ws, m.Studio)
        .join(m.Studio, m.Studio.id == ws.studio_id)
        .where(ws.work_id.in_(work_ids))
        .order_by(ws.work_id, ws.position)
    )
    return per_key(work_ids, ((credit.work_id, (credit, studio)) for credit, studio in rows))


async def statement_sources_of_works(
    session: AsyncSession, work_ids: Sequence[int]
) -> list[dict[StatementKey, list[m.Source]]]:
    """Each work's per-value citations: ``{(statement, item): [source, ...]}``, every value
    of its parts, events, origins and studio credits in one statement for all works."""
    s = m.WorkStatementSource
    rows = await session.execute(
        select(s.work_id, s.statement, s.item, m.Source)
        .join(m.Source, m.Source.id == s.source_id)
        .where(s.work_id.in_(work_ids))
        .order_by(s.work_id, s.statement, s.item, s.position)
    )
    found: defaultdict[int, dict[StatementKey, list[m.Source]]] = defaultdict(dict)
    for work_id, statement, item, source in rows:
        found[work_id].setdefault((statement, item), []).append(source)
    return [found.get(work_id, {}) for work_id in work_ids]


async def sources_of_studios(
    session: AsyncSession, studio_ids: Sequence[int]
) -> list[list[m.Source]]:
    return per_key(studio_ids, await _cited(session, m.StudioSource.studio_id, studio_ids))
