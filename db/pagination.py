"""Keyset (cursor) pagination, on the database, for root and nested lists.

A list is ordered by a tuple of non-null sort keys ending with the row id, so every row has a
unique position and a page never shifts when rows are inserted before it. A cursor is that
tuple of values. Root lists use ``LIMIT``; nested lists for many parents at once use
``ROW_NUMBER() OVER (PARTITION BY parent ...)`` so each parent gets its own page (a window
function works the same on SQLite and PostgreSQL). ``hasPreviousPage``/``hasNextPage`` on the
far side of a cursor come from one extra probe statement, only when a cursor is given.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, inspect, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from db.aliases import SqlExpression

CursorValues = tuple[Any, ...]

# The range of the integer sort keys (ids, years, scores): INTEGER columns are 32-bit on
# PostgreSQL. A cursor value outside it was never produced by a list; bound as a parameter it
# would overflow the driver (SQLite: 64 bits) or the column type (PostgreSQL).
INTEGER_RANGE = range(-(2**31), 2**31)


@dataclass(frozen=True, eq=False)  # holds SQL expressions: `==` would build SQL, not compare
class SortKey:
    """One component of an ordering: a non-null SQL expression and its direction."""

    name: str
    expression: SqlExpression
    descending: bool = False
    python_type: type = str

    def reversed(self) -> SortKey:
        return SortKey(self.name, self.expression, not self.descending, self.python_type)

    @property
    def ordering(self) -> ColumnElement[Any]:
        return self.expression.desc() if self.descending else self.expression.asc()


@dataclass(frozen=True, eq=False)
class Ordering:
    """A full ordering: its keys (the last one unique) and a signature cursors must match."""

    keys: tuple[SortKey, ...]

    @cached_property  # a part of every cursor the ordering's list encodes or decodes
    def signature(self) -> str:
        return ",".join(f"{k.name}:{'d' if k.descending else 'a'}" for k in self.keys)

    def reversed(self) -> Ordering:
        return Ordering(tuple(k.reversed() for k in self.keys))

    def accepts(self, values: Sequence[Any]) -> bool:
        """Whether decoded cursor values have this ordering's arity and types (integers within
        ``INTEGER_RANGE``)."""
        return len(values) == len(self.keys) and all(
            isinstance(v, k.python_type)
            and not isinstance(v, bool)
            and (not isinstance(v, int) or v in INTEGER_RANGE)
            for v, k in zip(values, self.keys, strict=True)
        )

    def after(self, values: CursorValues, *, inclusive: bool = False) -> ColumnElement[bool]:
        """Rows after ``values`` in this ordering (and the row at ``values`` if ``inclusive``).

        The lexicographic comparison is expanded key by key (directions may be mixed), and led
        by a redundant range on the first key (``k0 >= v0``) that the planners can use as an
        index range: without it, a deep page reads its index from the start.
        """
        clauses = []
        for i, key in enumerate(self.keys):
            equal = [k.expression == v for k, v in zip(self.keys[:i], values[:i], strict=True)]
            beyond = key.expression < values[i] if key.descending else key.expression > values[i]
            clauses.append(and_(*equal, beyond))
        if inclusive:
            same = (k.expression == v for k, v in zip(self.keys, values, strict=True))
            clauses.append(and_(*same))
        first, start = self.keys[0].expression, values[0]
        leading = first <= start if self.keys[0].descending else first >= start
        return and_(leading, or_(*clauses))

    def before(self, values: CursorValues, *, inclusive: bool = False) -> ColumnElement[bool]:
        """Rows before ``values`` (and the row at ``values`` if ``inclusive``)."""
        return self.reversed().after(values, inclusive=inclusive)


@dataclass(frozen=True)
class PageRequest:
    """Validated page arguments: exactly one of ``first``/``last`` is set."""

    first: int | None = None
    last: int | None = None
    after: CursorValues | None = None
    before: CursorValues | None = None

    @property
    def backward(self) -> bool:
        return self.last is not None

    @property
    def size(self) -> int:
        size = self.last if self.last is not None else self.first
        assert size is not None
        return size


@dataclass
class Page:
    """One page: rows (each with its cursor values) and whether more lie on either side."""

    rows: list[tuple[Any, CursorValues]] = field(default_factory=list)
    has_next: bool = False
    has_previous: bool = False


def _window(ordering: Ordering, request: PageRequest) -> tuple[Ordering, ColumnElement[bool]]:
    """The ordering to scan in and the cursor bounds of a request."""
    bounds: list[ColumnElement[bool]] = []
    if request.after is not None:
        bounds.append(ordering.after(request.after))
    if request.before is not None:
        bounds.append(ordering.before(request.before))
    scan = ordering.reversed() if request.backward else ordering
    return scan, and_(true(), *bounds)


def _probe_condition(ordering: Ordering, request: PageRequest) -> ColumnElement[bool] | None:
    """Rows on the far side of the cursor the page starts from (None: no cursor there)."""
    if request.backward and request.before is not None:
        return ordering.after(request.before, inclusive=True)  # a next page exists
    if not request.backward and request.after is not None:
        return ordering.before(request.after, inclusive=True)  # a previous page exists
    return None


def _finish(page: Page, rows: list[tuple[Any, CursorValues]], request: PageRequest) -> Page:
    more = len(rows) > request.size
    rows = rows[: request.size]
    if request.backward:
        rows.reverse()
        page.has_previous = more
    else:
        page.has_next = more
    page.rows = rows
    return page


def _key_columns(ordering: Ordering) -> list[ColumnElement[Any]]:
    return [k.expression.label(f"page_k{i}") for i, k in enumerate(ordering.keys)]


async def fetch_page(
    session: AsyncSession,
    query: Select[Any],
    ordering: Ordering,
    request: PageRequest,
) -> Page:
    """One page of a root list. ``query`` selects one entity (or row) with its filters applied."""
    scan, bounds = _window(ordering, request)
    width = len(ordering.keys)
    statement = (
        query.add_columns(*_key_columns(ordering))
        .where(bounds)
        .order_by(*(k.ordering for k in scan.keys))
        .limit(request.size + 1)
    )
    result = await session.execute(statement)
    rows = [(row[0], tuple(row[-width:])) for row in result.all()]
    page = _finish(Page(), rows, request)
    probe = _probe_condition(ordering, request)
    if probe is not None:
        exists = (await session.execute(select(query.where(probe).exists()))).scalar()
        if request.backward:
            page.has_next = bool(exists)
        else:
            page.has_previous = bool(exists)
    return page


async def fetch_pages(
    session: AsyncSession,
    query: Select[Any],
    parent: SqlExpression,
    parents: Sequence[Hashable],
    ordering: Ordering,
    request: PageRequest,
) -> list[Page]:
    """One page per parent, in one statement (plus one probe when a cursor is given).

    ``query`` selects the entity with its filters; ``parent`` is the column naming each row's
    parent (e.g. the credit's person). Rows are numbered per parent, so a parent's page never
    borrows from another's.
    """
    pages = {p: Page() for p in parents}
    if not parents:
        return []
    scan, bounds = _window(ordering, request)
    width = len(ordering.keys)
    entity = query.column_descriptions[0]["entity"]
    entity_id = inspect(entity).primary_key[0]
    numbered = (
        query.with_only_columns(
            entity_id.label("page_id"),
            parent.label("page_parent"),
            *_key_columns(ordering),
            func.row_number()
            .over(partition_by=parent, order_by=[k.ordering for k in scan.keys])
            .label("page_rn"),
        )
        .where(parent.in_(parents), bounds)
        .subquery()
    )
    statement = (
        select(entity, numbered.c["page_parent"], *(numbered.c[f"page_k{i}"] for i in range(width)))
        .join(numbered, numbered.c["page_id"] == entity_id)
        .where(numbered.c["page_rn"] <= request.size + 1)
        .order_by(numbered.c["page_parent"], numbered.c["page_rn"])
    )
    grouped: defaultdict[Any, list[tuple[Any, CursorValues]]] = defaultdict(list)
    for row in (await session.execute(statement)).all():
        grouped[row[1]].append((row[0], tuple(row[2 : 2 + width])))
    for key, page in pages.items():
        _finish(page, grouped.get(key, []), request)
    probe = _probe_condition(ordering, request)
    if probe is not None:
        found = set(
            (
                await session.execute(
                    query.with_only_columns(parent).where(parent.in_(parents), probe).distinct()
                )
            ).scalars()
        )
        for key, page in pages.items():
            if request.backward:
                page.has_next = key in found
            else:
                page.has_previous = key in found
    return [pages[p] for p in parents]


async def count_rows(session: AsyncSession, query: Select[Any]) -> int:
    statement = select(func.count()).select_from(query.order_by(None).subquery())
    return int((await session.execute(statement)).scalar_one())


async def count_per_parent(
    session: AsyncSession,
    query: Select[Any],
    parent: SqlExpression,
    parents: Sequence[Hashable],
) -> list[int]:
    if not parents:
        return []
    statement = (
        query.with_only_columns(parent, func.count())
        .where(parent.in_(parents))
        .group_by(parent)
        .order_by(None)
    )
    counts: dict[Any, int] = {p: c for p, c in await session.execute(statement)}
    return [int(counts.get(p, 0)) for p in parents]


def nothing() -> ColumnElement[bool]:
    """A condition no row meets (e.g. a search that folds to an empty key)."""
    return false()
