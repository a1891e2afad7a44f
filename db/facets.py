"""Facet counts over a whole filtered list of works, for filter sidebars.

Two statements at most, on both databases: one counts by kind and by decade (two grouped
selects joined with UNION ALL), one counts the top themes. Both work for one root list or,
grouped by parent, for the nested lists of many parents at once. A root list whose filter
the counts the database keeps can answer is not counted here (``db.facet_counts``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, literal, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from db import models as m
from db.aliases import SqlExpression
from db.enums import WorkKind

MAX_THEME_FACETS = 100  # `facets.themes(first:)` at most (the API checks it)


@dataclass
class KindsAndDecades:
    kinds: list[tuple[WorkKind, int]] = field(default_factory=list)
    decades: list[tuple[int | None, int]] = field(default_factory=list)  # None: year unknown


def sorted_counts(counts: KindsAndDecades) -> KindsAndDecades:
    """Kinds most first (ties: by kind), decades oldest first, unknown years last."""
    counts.kinds.sort(key=lambda kc: (-kc[1], kc[0]))
    counts.decades.sort(key=lambda dc: (dc[0] is None, dc[0] or 0))
    return counts


def _filtered(query: Select[Any], parent: SqlExpression | None) -> Any:
    columns: list[Any] = [
        m.Work.id.label("work_id"),
        m.Work.kind.label("kind"),
        m.Work.year.label("year"),
    ]
    if parent is not None:
        columns.append(parent.label("parent"))
    return query.with_only_columns(*columns).order_by(None).subquery()


async def kinds_and_decades(
    session: AsyncSession,
    query: Select[Any],
    parent: SqlExpression | None = None,
    parents: Sequence[Hashable] = (None,),
) -> list[KindsAndDecades]:
    """Counts by kind and by decade for each parent (or for the one root list)."""
    works = _filtered(query if parent is None else query.where(parent.in_(parents)), parent)
    by_parent = [works.c.parent] if parent is not None else [null().label("parent")]
    decade = ((works.c.year // 10) * 10).label("decade")
    by_kind = select(literal("kind").label("facet"), *by_parent, works.c.kind, null(), func.count())
    by_decade = select(literal("decade").label("facet"), *by_parent, null(), decade, func.count())
    if parent is not None:
        by_kind = by_kind.group_by(works.c.parent, works.c.kind)
        by_decade = by_decade.group_by(works.c.parent, decade)
    else:
        by_kind = by_kind.group_by(works.c.kind)
        by_decade = by_decade.group_by(decade)
    results: dict[Any, KindsAndDecades] = defaultdict(KindsAndDecades)
    for facet, owner, kind, year, count in await session.execute(union_all(by_kind, by_decade)):
        if facet == "kind":
            results[owner].kinds.append((WorkKind(kind), int(count)))
        else:
            results[owner].decades.append((None if year is None else int(year), int(count)))
    return [sorted_counts(results[p]) if p in results else KindsAndDecades() for p in parents]


async def top_themes(
    session: AsyncSession,
    query: Select[Any],
    limit: int,
    parent: SqlExpression | None = None,
    parents: Sequence[Hashable] = (None,),
) -> list[list[tuple[m.Theme, int]]]:
    """The ``limit`` themes most works of the list are tagged with (ties: by name)."""
    if limit <= 0:
        return [[] for _ in parents]
    works = _filtered(query if parent is None else query.where(parent.in_(parents)), parent)
    owner = works.c.parent if parent is not None else null()
    count = func.count().label("n")
    counted = (
        select(owner.label("owner"), m.WorkTheme.theme_id.label("theme_id"), count)
        .select_from(works)
        .join(m.WorkTheme, m.WorkTheme.work_id == works.c.work_id)
        .group_by(*([works.c.parent] if parent is not None else []), m.WorkTheme.theme_id)
        .subquery()
    )
    rank = (
        func.row_number()
        .over(
            partition_by=counted.c.owner,
            order_by=[counted.c.n.desc(), m.Theme.name_key, m.Theme.id],
        )
        .label("rank")
    )
    ranked = (
        select(counted.c.owner, counted.c.theme_id, counted.c.n, rank)
        .join(m.Theme, m.Theme.id == counted.c.theme_id)
        .subquery()
    )
    statement = (
        select(ranked.c.owner, m.Theme, ranked.c.n)
        .join(m.Theme, m.Theme.id == ranked.c.theme_id)
        .where(ranked.c.rank <= limit)
        .order_by(ranked.c.owner, ranked.c.rank)
    )
    grouped: defaultdict[Any, list[tuple[m.Theme, int]]] = defaultdict(list)
    for owner_id, theme, n in await session.execute(statement):
        grouped[owner_id].append((theme, int(n)))
    return [grouped.get(p, []) for p in parents]
