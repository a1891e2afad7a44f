"""Similar works: other works ranked by what they share with a work.

A work's score against another is ``2 * shared people + shared themes`` (a person credited on
both, in any roles, counts once; so does a theme both are tagged with). The similar works of
a work are the others with a score above 0, best first, ties broken by id. Scores are computed
in SQL for many works at once (joining the link tables on the shared theme or person and
grouping by the pair), and paged per work with ``db.pagination.fetch_pages``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, Select, func, literal_column, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db import models as m
from db.aliases import SqlExpression
from db.pagination import Ordering, Page, PageRequest, SortKey, count_per_parent, fetch_pages

PERSON_WEIGHT = 2
THEME_WEIGHT = 1


def _weight(weight: int) -> Any:
    """A constant column, written into the SQL (no untyped parameter in a UNION)."""
    return literal_column(str(int(weight)), Integer).label("weight")


def similar_query(work_ids: Sequence[int]) -> tuple[Select[Any], SqlExpression, Ordering]:
    """The works similar to each of ``work_ids``: one row per (work, similar work), the column
    naming the work each row is similar to, and the ordering (score desc, then id)."""
    wt, other_wt = aliased(m.WorkTheme, name="wt"), aliased(m.WorkTheme, name="other_wt")
    shared_themes = (
        select(
            wt.work_id.label("source_id"),
            other_wt.work_id.label("work_id"),
            _weight(THEME_WEIGHT),
        )
        .join(other_wt, other_wt.theme_id == wt.theme_id)
        .where(wt.work_id.in_(work_ids), other_wt.work_id != wt.work_id)
    )
    people = select(m.Credit.work_id, m.Credit.person_id).distinct()  # once, whatever the roles
    mine, theirs = people.subquery("mine"), people.subquery("theirs")
    shared_people = (
        select(
            mine.c.work_id.label("source_id"),
            theirs.c.work_id.label("work_id"),
            _weight(PERSON_WEIGHT),
        )
        .join(theirs, theirs.c.person_id == mine.c.person_id)
        .where(mine.c.work_id.in_(work_ids), theirs.c.work_id != mine.c.work_id)
    )
    shared = union_all(shared_themes, shared_people).subquery("shared")
    scores = (
        select(
            shared.c.source_id,
            shared.c.work_id,
            func.sum(shared.c.weight).label("score"),
        )
        .group_by(shared.c.source_id, shared.c.work_id)
        .subquery("scores")
    )
    query = select(m.Work).join(scores, scores.c.work_id == m.Work.id)
    ordering = Ordering(
        (SortKey("score", scores.c.score, True, int), SortKey("id", m.Work.id, False, int))
    )
    return query, scores.c.source_id, ordering


def similar_ordering() -> Ordering:
    """The ordering of every similar-works list (for decoding cursors before any query)."""
    return similar_query(())[2]


async def similar_pages(
    session: AsyncSession, request: PageRequest, work_ids: list[int]
) -> list[Page]:
    """One page of similar works per work, in one statement (plus a probe after a cursor)."""
    query, parent, ordering = similar_query(work_ids)
    return await fetch_pages(session, query, parent, work_ids, ordering, request)


async def similar_counts(session: AsyncSession, work_ids: Sequence[int]) -> list[int]:
    """How many works are similar to each work (score above 0), in one statement."""
    query, parent, _ = similar_query(work_ids)
    return await count_per_parent(session, query, parent, work_ids)
