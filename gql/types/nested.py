"""Works lists nested under a parent (``person.works``, ``theme.works``): batched across
parents, paged per parent."""

from __future__ import annotations

import dataclasses
from typing import Any

import strawberry
from strawberry import UNSET

from db import queries as q
from db.enums import CreditRole, WorkKind
from gql.arguments import KindArg, RoleArg, WorkFilterArg, WorkOrderBy, declared, parameter
from gql.context import Info
from gql.inputs import WorkFilter, WorkOrder, given, work_orders
from gql.loaders import NestedCount, NestedWorks
from gql.pagination import UNPAGED, ConnectionArguments, PageArguments, connection_parts
from gql.types.work_connection import WorkConnection


async def nested_works(
    info: Info,
    parent: q.Parent,
    parent_id: int,
    paging: PageArguments,
    *,
    role: CreditRole | None = None,
    kind: WorkKind | None = None,
    filter: WorkFilter | None = None,
    order_by: list[WorkOrder] | None = None,
) -> WorkConnection:
    """One parent's page of works; the loads of all parents at this level run as one batch."""
    from gql.types.work import Work

    list_name = f"{parent}.works"
    orders = work_orders(order_by, q.FILMOGRAPHY_ORDER)
    ordering = q.work_ordering(orders)
    request = paging.request(info, list_name, ordering)
    given_filter: WorkFilter | None = given(filter)
    work_filter = given_filter.to_db() if given_filter else None
    kind = given(kind)
    if kind is not None:  # the `kind` argument is one more condition, like `filter.kind`
        base = work_filter or q.WorkFilter()
        kinds = (kind,) if base.kinds is None else tuple(k for k in base.kinds if k == kind)
        work_filter = dataclasses.replace(base, kinds=kinds)
    count = NestedCount(parent, given(role), work_filter)
    loaders = info.context.loaders
    page = await loaders.nested_works.load(
        (parent_id, NestedWorks(count.parent, count.role, count.filter, orders, request))
    )
    return WorkConnection(
        **connection_parts(page, list_name, ordering, Work.from_row),
        count=lambda: loaders.nested_works_count.load((parent_id, count)),
        facet_key=(parent_id, count),
    )


def nested_works_field(parent: q.Parent, description: str, *, by_role: bool = False) -> Any:
    """The ``works`` field of a person or a theme: ``nested_works`` under the object the field
    is on, with its arguments (``role`` only where ``by_role``)."""

    async def resolve(
        self: Any, info: Info, page: PageArguments, **arguments: Any
    ) -> WorkConnection:
        return await nested_works(info, parent, self.row.id, page, **arguments)

    roles = [parameter("role", RoleArg, UNSET)] if by_role else []
    declared(
        resolve,
        WorkConnection,
        parameter("self"),
        parameter("info", Info),
        *roles,
        parameter("kind", KindArg, UNSET),
        parameter("filter", WorkFilterArg, UNSET),
        parameter("page", PageArguments, UNPAGED),
        parameter("order_by", WorkOrderBy, UNSET),
    )
    return strawberry.field(resolve, description=description, extensions=[ConnectionArguments()])
