"""Keyset bounds are index ranges: a deep page starts at its cursor, not at the index's start."""

from __future__ import annotations

import pytest
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import models as m
from db.enums import SortDirection, WorkOrderField
from db.pagination import Ordering
from db.queries import PEOPLE_ORDERING, WorkOrder, work_ordering
from tests.support.sql import query_plan


def _ranges(plan: str, dialect: str, index: str, column: str) -> bool:
    """Whether ``plan`` reads ``index`` as a range on ``column`` (not from one end)."""
    if dialect == "sqlite":
        searches = [ln for ln in plan.splitlines() if ln.strip().startswith("SEARCH")]
        return any(index in ln and (f"({column}>" in ln or f"({column}<" in ln) for ln in searches)
    return index in plan and "Index Cond" in plan and column in plan


ORDERINGS = [
    pytest.param(
        work_ordering([WorkOrder(WorkOrderField.TITLE)]),
        m.Work,
        "ix_works_title_key_id",
        "title_key",
        id="works-title",
    ),
    pytest.param(
        work_ordering([WorkOrder(WorkOrderField.TITLE, SortDirection.DESC)]),
        m.Work,
        "ix_works_title_key_id",
        "title_key",
        id="works-title-desc",
    ),
    pytest.param(PEOPLE_ORDERING, m.Person, "ix_people_name_key_id", "name_key", id="people"),
]


@pytest.mark.parametrize(("ordering", "entity", "index", "column"), ORDERINGS)
async def test_a_page_after_a_cursor_starts_at_the_cursor(
    session: AsyncSession, ordering: Ordering, entity: type, index: str, column: str
) -> None:
    values = ("m", 500)
    page = (
        select(entity.id)  # type: ignore[attr-defined]
        .where(ordering.after(values))
        .order_by(*(k.ordering for k in ordering.keys))
        .limit(51)
    )
    dialect = session.get_bind().dialect.name
    plan = await query_plan(session, page)
    assert _ranges(plan, dialect, index, column), plan


@pytest.mark.parametrize(("ordering", "entity", "index", "column"), ORDERINGS)
async def test_the_previous_page_probe_is_an_index_range(
    session: AsyncSession, ordering: Ordering, entity: type, index: str, column: str
) -> None:
    probe = select(exists().where(ordering.before(("m", 500), inclusive=True)).select_from(entity))
    dialect = session.get_bind().dialect.name
    plan = await query_plan(session, probe)
    assert _ranges(plan, dialect, index, column), plan
