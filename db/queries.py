"""The catalog's read queries. Every batch function takes a list of keys and issues one
statement for all of them, returning one result per key in key order (DataLoader-ready).
"""

from __future__ import annotations

import enum
import functools
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import ColumnElement, Result, Select, case, exists, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import models as m
from db.aliases import SqlExpression
from db.enums import (
    CreditRole,
    Qualifier,
    SortDirection,
    WorkKind,
    WorkOrderField,
    WorkRelationType,
)
from db.pagination import Ordering, SortKey, nothing
from db.search import search_condition

K = TypeVar("K", bound=Hashable)
Row = TypeVar("Row")


# -- lookups ---------------------------------------------------------------------------------


Lookup = Callable[[AsyncSession, Sequence[K]], Awaitable[list[Row | None]]]


def _lookup(entity: type[Row], key: str, key_type: type[K]) -> Lookup[K, Row]:
    """The batch lookup of ``entity`` rows by the unique column ``key`` (whose values are
    ``key_type``): one row, or None, per key, in key order."""
    column = getattr(entity, key)

    async def lookup(session: AsyncSession, keys: Sequence[K]) -> list[Row | None]:
        rows = (await session.execute(select(entity).where(column.in_(keys)))).scalars().all()
        found = {getattr(row, key): row for row in rows}
        return [found.get(k) for k in keys]

    return lookup


works_by_id = _lookup(m.Work, "id", int)
works_by_slug = _lookup(m.Work, "slug", str)
people_by_id = _lookup(m.Person, "id", int)
people_by_slug = _lookup(m.Person, "slug", str)
themes_by_id = _lookup(m.Theme, "id", int)
themes_by_slug = _lookup(m.Theme, "slug", str)
sources_by_id = _lookup(m.Source, "id", int)


# -- child collections -----------------------------------------------------------------------


def per_key(keys: Sequence[K], pairs: Any) -> list[list[Any]]:
    """Each key's values, in the keys' order, from ``(key, value)`` pairs (a loader's answer)."""
    grouped: defaultdict[Any, list[Any]] = defaultdict(list)
    for key, value in pairs:
        grouped[key].append(value)
    return [grouped.get(key, []) for key in keys]


async def _child_lists(
    session: AsyncSession, owner: Any, value: Any, position: Any, keys: Sequence[int]
) -> list[list[Any]]:
    """Each key's ``value``s from a child table (``owner``: its column naming the parent), in
    ``position`` order; one statement for all keys."""
    rows = await session.execute(
        select(owner, value).where(owner.in_(keys)).order_by(owner, position)
    )
    return per_key(keys, rows)


async def alternative_titles(session: AsyncSession, work_ids: Sequence[int]) -> list[list[str]]:
    t = m.WorkAlternativeTitle
    return await _child_lists(session, t.work_id, t.title, t.position, work_ids)


async def alternative_names(session: AsyncSession, person_ids: Sequence[int]) -> list[list[str]]:
    t = m.PersonAlternativeName
    return await _child_lists(session, t.person_id, t.name, t.position, person_ids)


class CreditRow(NamedTuple):
    """A credit as its loaders give it: a tuple, made from each row in C (a page of works
    reads hundreds; a frozen dataclass sets each of its eight fields with
    ``object.__setattr__``)."""

    work_id: int
    person_id: int
    role: CreditRole
    position: int
    # what a reference adds to the credit (issue #22)
    note: str | None = None
    qualifier: Qualifier | None = None
    episodes_first: int | None = None
    episodes_last: int | None = None


def _credit_columns() -> tuple[Any, ...]:
    """The columns of ``CreditRow``, as the table's (Core) columns: the same SQL as the
    mapped attributes, and its rows are made without the ORM's per-row, per-column
    processing in Python (four columns more since issue #22 made that a fifth of the
    Python a page of 50 works with their directors costs on the resolver path)."""
    c = m.Credit.__table__.c
    return (
        c.work_id,
        c.person_id,
        c.role,
        c.position,
        c.note,
        c.qualifier,
        c.episodes_first,
        c.episodes_last,
    )


# A row of ``_credit_columns()`` as a CreditRow: the tuple's own constructor, in C (the
# named tuple's ``__new__`` and ``_make`` are Python functions around it).
_credit = tuple.__new__


async def credits_of_works(session: AsyncSession, work_ids: Sequence[int]) -> list[list[CreditRow]]:
    c = m.Credit.__table__.c
    result = await session.execute(
        select(*_credit_columns()).where(c.work_id.in_(work_ids)).order_by(c.work_id, c.position)
    )
    return per_key(work_ids, ((r[0], _credit(CreditRow, r)) for r in result.all()))


async def credits_of_people(
    session: AsyncSession, person_ids: Sequence[int]
) -> list[list[CreditRow]]:
    """A person's credits in filmography order: by year (unknown last), title, billing."""
    c, w = m.Credit.__table__.c, m.Work.__table__.c
    result = await session.execute(
        select(*_credit_columns())
        .join(m.Work.__table__, w.id == c.work_id)
        .where(c.person_id.in_(person_ids))
        .order_by(c.person_id, w.year.is_(None), w.year, w.title_key, w.id, c.position)
    )
    return per_key(person_ids, ((r[1], _credit(CreditRow, r)) for r in result.all()))


CreditKey = tuple[int, int, CreditRole]


async def sources_of_credits(
    session: AsyncSession, keys: Sequence[CreditKey]
) -> list[list[m.Source]]:
    cs = m.CreditSource
    work_ids = sorted({k[0] for k in keys})
    rows = await session.execute(
        select(cs.work_id, cs.person_id, cs.role, m.Source)
        .join(m.Source, m.Source.id == cs.source_id)
        .where(cs.work_id.in_(work_ids))
        .order_by(cs.work_id, cs.person_id, cs.role, cs.position)
    )
    return per_key(keys, (((r[0], r[1], r[2]), r[3]) for r in rows))


async def themes_of_works(session: AsyncSession, work_ids: Sequence[int]) -> list[list[m.Theme]]:
    wt = m.WorkTheme
    rows = await session.execute(
        select(wt.work_id, m.Theme)
        .join(m.Theme, m.Theme.id == wt.theme_id)
        .where(wt.work_id.in_(work_ids))
        .order_by(wt.work_id, wt.position)
    )
    return per_key(work_ids, rows)


@dataclass(frozen=True)
class RelationRow:
    type: WorkRelationType
    work_id: int


async def relations_of_works(
    session: AsyncSession, work_ids: Sequence[int]
) -> list[list[RelationRow]]:
    r = m.WorkRelation
    rows = await session.execute(
        select(r.work_id, r.type, r.related_work_id)
        .where(r.work_id.in_(work_ids))
        .order_by(r.work_id, r.position)
    )
    return per_key(work_ids, ((row[0], RelationRow(row[1], row[2])) for row in rows))


async def _cited(
    session: AsyncSession,
    parent: Any,
    keys: Sequence[int],
    *columns: Any,
    ties: Sequence[Any] = (),
) -> Result[Any]:
    """The rows ``(parent id, *columns, source)`` of a table that links records to their
    sources (``parent`` is its column naming the record), in each record's order, ``ties``
    ordering rows of the same position."""
    link = parent.class_
    rows: Result[Any] = await session.execute(
        select(parent, *columns, m.Source)
        .join(m.Source, m.Source.id == link.source_id)
        .where(parent.in_(keys))
        .order_by(parent, link.position, *ties)
    )
    return rows


async def sources_of_works(session: AsyncSession, work_ids: Sequence[int]) -> list[list[m.Source]]:
    return per_key(work_ids, await _cited(session, m.WorkSource.work_id, work_ids))


async def sources_of_people(
    session: AsyncSession, person_ids: Sequence[int]
) -> list[list[m.Source]]:
    return per_key(person_ids, await _cited(session, m.PersonSource.person_id, person_ids))


async def disputes_of_works(
    session: AsyncSession, work_ids: Sequence[int]
) -> list[list[tuple[m.Dispute, m.Source]]]:
    d = m.Dispute
    rows = await session.execute(
        select(d, m.Source)
        .join(m.Source, m.Source.id == d.source_id)
        .where(d.work_id.in_(work_ids))
        .order_by(d.work_id, d.position)
    )
    return per_key(work_ids, ((row[0].work_id, (row[0], row[1])) for row in rows))


Attribution = tuple[str, list[m.Source]]


def _attributions(keys: Sequence[int], rows: Any) -> list[list[Attribution]]:
    """Each record's fields in the order of their first citation, each with its sources in
    order. Curation cites a source for fields at position 0 (``db.curation.common``): equal
    positions are ordered by field, then source, so that the order is the same on every
    read (and the compiled path, ``gql.compiled``, can give it too)."""
    grouped: defaultdict[int, dict[str, list[m.Source]]] = defaultdict(dict)
    for parent, field_name, source in rows:
        grouped[parent].setdefault(field_name, []).append(source)
    return [list(grouped.get(key, {}).items()) for key in keys]


async def attributions_of_works(
    session: AsyncSession, work_ids: Sequence[int]
) -> list[list[Attribution]]:
    f = m.WorkFieldSource
    rows = await _cited(session, f.work_id, work_ids, f.field, ties=(f.field, f.source_id))
    return _attributions(work_ids, rows)


async def attributions_of_people(
    session: AsyncSession, person_ids: Sequence[int]
) -> list[list[Attribution]]:
    f = m.PersonFieldSource
    rows = await _cited(session, f.person_id, person_ids, f.field, ties=(f.field, f.source_id))
    return _attributions(person_ids, rows)


# -- lists: filters and orderings ------------------------------------------------------------


class Match(enum.StrEnum):
    """How a list of values in a filter combines: any of them, or all of them."""

    ANY = "ANY"
    ALL = "ALL"


@dataclass(frozen=True)
class WorkFilter:
    """Conditions on works; all given ones must hold. Hashable, so it can key a DataLoader."""

    kind: WorkKind | None = None
    kinds: tuple[WorkKind, ...] | None = None
    year_from: int | None = None
    year_to: int | None = None
    director: str | None = None
    directors: tuple[str, ...] | None = None
    theme: str | None = None
    themes: tuple[str, ...] | None = None
    themes_match: Match = Match.ANY
    has_disputes: bool | None = None
    search: str | None = None


@dataclass(frozen=True)
class WorkOrder:
    field: WorkOrderField
    direction: SortDirection = SortDirection.ASC


# A person's or a theme's works unless asked otherwise (resolvers and compiled plans alike).
FILMOGRAPHY_ORDER = (
    WorkOrder(WorkOrderField.YEAR, SortDirection.ASC),
    WorkOrder(WorkOrderField.TITLE),
)


def work_conditions(f: WorkFilter | None) -> list[ColumnElement[bool]]:
    if f is None:
        return []
    w = m.Work
    conditions: list[ColumnElement[bool]] = []
    if f.kind is not None:
        conditions.append(w.kind == f.kind)
    if f.kinds is not None:
        conditions.append(w.kind.in_(f.kinds))
    if f.year_from is not None:
        conditions.append(w.year >= f.year_from)
    if f.year_to is not None:
        conditions.append(w.year <= f.year_to)
    if f.director is not None:
        conditions.append(_directed_by_any((f.director,)))
    if f.directors is not None:
        conditions.append(_directed_by_any(f.directors))
    if f.theme is not None:
        conditions.append(_tagged((f.theme,), Match.ANY))
    if f.themes is not None:
        conditions.append(_tagged(f.themes, f.themes_match))
    if f.has_disputes is not None:
        disputed = exists().where(m.Dispute.work_id == w.id)
        conditions.append(disputed if f.has_disputes else ~disputed)
    if f.search is not None:
        conditions.append(search_condition("works", f.search))
    return conditions


def _directed_by_any(slugs: tuple[str, ...]) -> ColumnElement[bool]:
    """Works directed by any of the people; ``id IN (…)`` lets the credits drive the plan."""
    if not slugs:
        return nothing()
    directed = (
        select(m.Credit.work_id)
        .join(m.Person, m.Person.id == m.Credit.person_id)
        .where(m.Credit.role == CreditRole.DIRECTOR, m.Person.slug.in_(slugs))
    )
    return m.Work.id.in_(directed)


def _tagged(slugs: tuple[str, ...], match: Match) -> ColumnElement[bool]:
    """Works tagged with any (or all) of the themes; an empty list matches nothing."""
    wanted = set(slugs)
    if not wanted:
        return nothing()
    # the tags' own copies of their themes' slugs (migration 0009), not a join to themes:
    # PostgreSQL then plans with how common each named theme is
    tagged = select(m.WorkTheme.work_id).where(m.WorkTheme.theme_slug.in_(wanted))
    if match == Match.ALL:
        tagged = tagged.group_by(m.WorkTheme.work_id).having(func.count() == len(wanted))
    return m.Work.id.in_(tagged)


def work_ordering(orders: Sequence[WorkOrder]) -> Ordering:
    """Sort keys for the requested order; unknown years sort last either way; id breaks ties.

    One ``Ordering`` per distinct order (SQL expressions are immutable): a nested list asks for
    it once per parent, and building its expressions anew each time was a tenth of a page of
    100 directors' works on the resolver path (bench/README.md)."""
    return _work_ordering(tuple(orders))


@functools.lru_cache(maxsize=64)  # clients send few orders; the bound keeps odd ones in check
def _work_ordering(orders: tuple[WorkOrder, ...]) -> Ordering:
    w = m.Work
    keys: list[SortKey] = []
    seen: set[WorkOrderField] = set()
    for order in orders:
        if order.field in seen:
            continue
        seen.add(order.field)
        descending = order.direction == SortDirection.DESC
        if order.field == WorkOrderField.TITLE:
            keys.append(SortKey("title", w.title_key, descending))
        else:
            keys.append(SortKey("year_unknown", case((w.year.is_(None), 1), else_=0), False, int))
            keys.append(SortKey("year", func.coalesce(w.year, 0), descending, int))
    keys.append(SortKey("id", w.id, False, int))
    return Ordering(tuple(keys))


# The works' sort keys by name (``work_ordering``), as copied onto their credits (migration
# 0008): the same values, so the same order, and an index leads with (person, role).
CREDIT_SORT_KEYS: dict[str, SqlExpression] = {
    "year_unknown": m.Credit.work_year_unknown,
    "year": m.Credit.work_year,
    "title": m.Credit.work_title_key,
    "id": m.Credit.work_id,
}


def credit_ordering(ordering: Ordering) -> Ordering:
    """A works ordering (``work_ordering``) over the copies of its keys on ``credits``."""
    return Ordering(
        tuple(
            SortKey(k.name, CREDIT_SORT_KEYS[k.name], k.descending, k.python_type)
            for k in ordering.keys
        )
    )


def works_query(f: WorkFilter | None) -> Select[Any]:
    return select(m.Work).where(*work_conditions(f))


class Parent(enum.StrEnum):
    """What a nested works list hangs from."""

    PERSON = "person"
    THEME = "theme"
    STUDIO = "studio"


def nested_works_query(
    parent: Parent, role: CreditRole | None, f: WorkFilter | None
) -> tuple[Select[Any], SqlExpression]:
    """The works of many parents at once, one row per (parent, work), and the parent column.

    A person's works are those they are credited on (in ``role``; each work once, whatever
    the number of their credits on it); a theme's works are those tagged with it; a studio's
    those it is credited on (each once, whatever its roles).
    """
    if parent == Parent.PERSON:
        c = m.Credit
        links = select(c.person_id.label("parent_id"), c.work_id).distinct()
        if role is not None:
            links = links.where(c.role == role)
    elif parent == Parent.STUDIO:
        ws = m.WorkStudio
        links = select(ws.studio_id.label("parent_id"), ws.work_id).distinct()
    else:
        links = select(m.WorkTheme.theme_id.label("parent_id"), m.WorkTheme.work_id)
    link = links.subquery()
    query = select(m.Work).join(link, link.c.work_id == m.Work.id).where(*work_conditions(f))
    return query, link.c.parent_id


@dataclass(frozen=True)
class PersonFilter:
    role: CreditRole | None = None
    search: str | None = None


def people_query(f: PersonFilter | None) -> Select[Any]:
    p = m.Person
    query = select(p)
    if f is not None and f.role is not None:
        # EXISTS (SELECT 1 ...), not SELECT *: SQLite then reads the covering index alone
        c = m.Credit
        credited: Select[Any] = select(literal_column("1"))
        credited = credited.where(c.person_id == p.id, c.role == f.role)
        query = query.where(credited.exists())
    if f is not None and f.search is not None:
        query = query.where(search_condition("people", f.search))
    return query


PEOPLE_ORDERING = Ordering(
    (SortKey("name", m.Person.name_key), SortKey("id", m.Person.id, False, int))
)
THEMES_ORDERING = Ordering(
    (SortKey("name", m.Theme.name_key), SortKey("id", m.Theme.id, False, int))
)


def themes_query() -> Select[Any]:
    return select(m.Theme)


CHANGES_ORDERING = Ordering((SortKey("id", m.Change.id, True, int),))  # newest first


def changes_query(subject: str | None) -> Select[Any]:
    """The audit trail, or the changes to the record with this slug."""
    query = select(m.Change)
    return query if subject is None else query.where(m.Change.subject_slug == subject)
