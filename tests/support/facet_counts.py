"""The facet counts the database keeps (migrations 0016 and 0019) read whole, and the same counts
recounted from the catalog's rows, to compare after writes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db import models as m
from db.enums import WorkKind

Counts = tuple[set[tuple[Any, ...]], set[tuple[Any, ...]], set[tuple[Any, ...]]]


async def kept_counts(session: AsyncSession) -> Counts:
    wc, tc, tp = m.WorkCount, m.ThemeWorkCount, m.ThemePairCount
    works = set(await session.execute(select(wc.kind, wc.year, wc.works)))
    tags = set(await session.execute(select(tc.theme_id, tc.kind, tc.decade, tc.works)))
    pairs = set(await session.execute(select(tp.theme_id, tp.other_id, tp.works)))
    return {tuple(r) for r in works}, {tuple(r) for r in tags}, {tuple(r) for r in pairs}


async def live_counts(session: AsyncSession) -> Counts:
    w = m.Work
    year = func.coalesce(w.year, m.UNKNOWN_YEAR)
    works = await session.execute(select(w.kind, year, func.count()).group_by(w.kind, year))
    decade = func.coalesce((w.year // 10) * 10, m.UNKNOWN_YEAR)
    tags = await session.execute(
        select(m.WorkTheme.theme_id, w.kind, decade, func.count())
        .join(w, w.id == m.WorkTheme.work_id)
        .group_by(m.WorkTheme.theme_id, w.kind, decade)
    )
    a, b = aliased(m.WorkTheme), aliased(m.WorkTheme)
    pairs = await session.execute(
        select(a.theme_id, b.theme_id, func.count())
        .join(b, b.work_id == a.work_id)
        .group_by(a.theme_id, b.theme_id)
    )
    return (
        {(WorkKind(k).value, int(y), int(n)) for k, y, n in works},
        {(int(t), WorkKind(k).value, int(d), int(n)) for t, k, d, n in tags},
        {(int(t), int(o), int(n)) for t, o, n in pairs},
    )


async def assert_kept_is_live(session: AsyncSession) -> None:
    kept, live = await kept_counts(session), await live_counts(session)
    assert kept[0] == live[0]
    assert kept[1] == live[1]
    assert kept[2] == live[2]
    assert live[0] and live[1] and live[2]  # the comparison compares something
