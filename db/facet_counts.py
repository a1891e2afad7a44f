"""Facets from the counts the database keeps (``work_counts``, ``theme_work_counts``,
``theme_pair_counts``).

Counting a whole filtered list costs a scan of ``works`` (and of ``work_themes`` for themes):
hundreds of milliseconds at 100,000 works. Migration 0016's triggers keep the same counts
grouped by kind and year (tags: by theme, kind and decade) in the transaction of every
write, so for the filters those groups can express the facets are a sum over a few hundred
(or thousand) rows, with the same numbers as the live count:

- kinds and decades: any kind and year conditions (``work_counts``), or those and one theme
  when the year range spans whole decades (``theme_work_counts``);
- top themes: kind conditions and a year range of whole decades (``theme_work_counts``),
  or one theme and nothing else (``theme_pair_counts``, migration 0019);
- the list's ``totalCount``, as kinds and decades.

Anything else (a director, a search, several themes, disputes, a nested list) returns
``None``, and ``db.facets`` counts the list itself.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Integer, cast, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db import models as m
from db.enums import WorkKind
from db.facets import KindsAndDecades, sorted_counts
from db.pagination import count_rows
from db.queries import Match, WorkFilter, works_query

# Set for a transaction, the triggers of migrations 0016 and 0019 leave the counts alone
# (PostgreSQL).
DEFER_SETTING = "nkcinema.defer_facet_counts"
_RECOUNT = (
    "DELETE FROM work_counts",
    "INSERT INTO work_counts (kind, year, works) "
    "SELECT kind, coalesce(year, 0), count(*) FROM works GROUP BY 1, 2",
    "DELETE FROM theme_work_counts",
    "INSERT INTO theme_work_counts (theme_id, kind, decade, works) "
    "SELECT t.theme_id, w.kind, coalesce(w.year / 10 * 10, 0), count(*) "
    "FROM work_themes t JOIN works w ON w.id = t.work_id GROUP BY 1, 2, 3",
    "DELETE FROM theme_pair_counts",
    "INSERT INTO theme_pair_counts (theme_id, other_id, works) "
    "SELECT a.theme_id, b.theme_id, count(*) "
    "FROM work_themes a JOIN work_themes b ON b.work_id = a.work_id GROUP BY 1, 2 "
    "ORDER BY 1, 2",  # a theme's rows on few pages
)


@dataclass
class Deferral:
    changed: bool = True  # the writer says False when it wrote nothing: no recount


@contextlib.asynccontextmanager
async def deferred(session: AsyncSession) -> AsyncIterator[Deferral]:
    """Bulk writes in the session's transaction with the counts recounted once, at the end.

    PostgreSQL's triggers count statement by statement: a catalog import of 100,000 works in
    batches rewrote every count row once per batch, which took minutes and left the tables
    on megabytes of dead rows that every sum then read. SQLite's row triggers rewrite rows in
    place (no dead rows), so there the triggers keep counting."""
    deferral = Deferral()
    if session.get_bind().dialect.name != "postgresql":
        yield deferral
        return
    await session.execute(text(f"SET LOCAL {DEFER_SETTING} = 'on'"))
    yield deferral
    await session.execute(text(f"SET LOCAL {DEFER_SETTING} = 'off'"))
    if deferral.changed:
        for statement in _RECOUNT:
            await session.execute(text(statement))


@dataclass(frozen=True)
class Counted:
    """A filter in terms of the kept counts' groups."""

    kinds: frozenset[WorkKind] | None  # None: any kind
    year_from: int | None
    year_to: int | None
    theme: str | None  # a theme's slug


_COUNTED_FIELDS = {"kind", "kinds", "year_from", "year_to", "theme", "themes", "themes_match"}


def counted(f: WorkFilter | None) -> Counted | None:
    """The filter as conditions on the kept counts, or None if it has others."""
    if f is None:
        return Counted(None, None, None, None)
    others = {k: None for k in _COUNTED_FIELDS if k != "themes_match"}
    if dataclasses.replace(f, **others, themes_match=Match.ANY) != WorkFilter():
        return None  # a condition the counts do not group by
    kinds: frozenset[WorkKind] | None = None
    if f.kind is not None:
        kinds = frozenset((f.kind,))
    if f.kinds is not None:
        kinds = frozenset(f.kinds) if kinds is None else kinds & frozenset(f.kinds)
    named = [*([f.theme] if f.theme is not None else []), *(f.themes or ())]
    if f.themes is not None and not f.themes:
        return None  # an empty list matches nothing: the live count of nothing is cheap
    if len(set(named)) > 1:
        return None
    return Counted(kinds, f.year_from, f.year_to, named[0] if named else None)


def _whole_decades(c: Counted) -> bool:
    return (c.year_from is None or c.year_from % 10 == 0) and (
        c.year_to is None or c.year_to % 10 == 9
    )


def _conditions(c: Counted, kind: Any, year: Any) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if c.kinds is not None:
        conditions.append(kind.in_(sorted(k.value for k in c.kinds)))
    if c.year_from is not None or c.year_to is not None:
        conditions.append(year != m.UNKNOWN_YEAR)  # a year condition excludes unknown years
    if c.year_from is not None:
        conditions.append(year >= c.year_from)
    if c.year_to is not None:
        conditions.append(year <= c.year_to)
    return conditions


def _theme_id(slug: str) -> Any:
    return select(m.Theme.id).where(m.Theme.slug == slug).scalar_subquery()


def groups(f: WorkFilter | None) -> Any:
    """The kept counts' rows of the list's works, ``(kind, year or decade, works)``, or None
    if the filter needs more than they group by."""
    c = counted(f)
    if c is None:
        return None
    if c.theme is None:
        wc = m.WorkCount
        return select(wc.kind, wc.year, wc.works).where(*_conditions(c, wc.kind, wc.year))
    if _whole_decades(c):
        tc = m.ThemeWorkCount
        return select(tc.kind, tc.decade, tc.works).where(
            tc.theme_id == _theme_id(c.theme), *_conditions(c, tc.kind, tc.decade)
        )
    return None


async def count_works(session: AsyncSession, f: WorkFilter | None) -> int:
    """The root list's ``totalCount``: from the kept counts when they can tell it."""
    kept = groups(f)
    if kept is None:
        return await count_rows(session, works_query(f))
    counts = kept.subquery()
    total = await session.scalar(select(func.coalesce(func.sum(counts.c.works), 0)))
    return int(total or 0)


async def kinds_and_decades(session: AsyncSession, f: WorkFilter | None) -> KindsAndDecades | None:
    """Counts by kind and by decade of the root list under ``f``, or None if the kept counts
    cannot tell them."""
    statement = groups(f)
    if statement is None:
        return None
    kinds: dict[WorkKind, int] = {}
    decades: dict[int | None, int] = {}
    for kind, year, works in await session.execute(statement):
        kinds[WorkKind(kind)] = kinds.get(WorkKind(kind), 0) + int(works)
        decade = None if year == m.UNKNOWN_YEAR else int(year) // 10 * 10
        decades[decade] = decades.get(decade, 0) + int(works)
    return sorted_counts(KindsAndDecades(list(kinds.items()), list(decades.items())))


def theme_counts(f: WorkFilter | None) -> Any:
    """``(theme_id, n)``: how many works of the root list under ``f`` each theme tags, or
    None if the kept counts cannot tell them."""
    c = counted(f)
    if c is None:
        return None
    if c.theme is not None:
        # the pairs are not grouped by kind or decade: one theme's, under no other condition
        if (c.kinds, c.year_from, c.year_to) != (None, None, None):
            return None
        tp = m.ThemePairCount
        return select(tp.other_id.label("theme_id"), tp.works.label("n")).where(
            tp.theme_id == _theme_id(c.theme)
        )
    if not _whole_decades(c):
        return None
    tc = m.ThemeWorkCount
    n = cast(func.sum(tc.works), Integer).label("n")  # an integer, as a live count
    return select(tc.theme_id, n).where(*_conditions(c, tc.kind, tc.decade)).group_by(tc.theme_id)


async def top_themes(
    session: AsyncSession, f: WorkFilter | None, limit: int
) -> list[tuple[m.Theme, int]] | None:
    """The ``limit`` themes most works of the root list under ``f`` are tagged with (ties: by
    name), or None if the kept counts cannot tell them."""
    kept = theme_counts(f)
    if kept is None:
        return None
    counts = kept.subquery()
    statement = (
        select(m.Theme, counts.c.n)
        .join(counts, counts.c.theme_id == m.Theme.id)
        .where(counts.c.n > 0)
        .order_by(counts.c.n.desc(), m.Theme.name_key, m.Theme.id)
        .limit(limit)
    )
    return [(theme, int(count)) for theme, count in await session.execute(statement)]
