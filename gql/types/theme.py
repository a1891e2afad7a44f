"""The Theme type: a curated subject works are tagged with."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import UNSET

from db import models as m
from db import queries as q
from gql.arguments import After, Before, First, KindArg, Last, WorkOrderBy
from gql.context import Info
from gql.ids import to_global_id
from gql.inputs import given, work_orders
from gql.loaders import NestedCount, NestedWorks
from gql.pagination import build_connection, page_request
from gql.types.common import Node
from gql.types.connection import Connection
from gql.types.person import FILMOGRAPHY_ORDER

if TYPE_CHECKING:
    from gql.types.work import Work

WorkRef = Annotated["Work", strawberry.lazy("gql.types.work")]


@strawberry.type(description="A theme from the catalog's curated vocabulary.")
class Theme(Node):
    row: strawberry.Private[m.Theme]
    id: strawberry.ID = strawberry.field(description="Opaque global ID (see `node`).")
    slug: str = strawberry.field(description="Stable, human-readable, unique among themes.")
    name: str = strawberry.field(description="The theme's name.")
    description: str | None = strawberry.field(description="What the theme covers.")

    @classmethod
    def from_row(cls, row: m.Theme) -> Theme:
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("Theme", row.id)),
            slug=row.slug,
            name=row.name,
            description=row.description,
        )

    @strawberry.field(
        description="The works tagged with this theme, filtered and paged; default order: year "
        "(unknown last), then title."
    )
    async def works(
        self,
        info: Info,
        kind: KindArg = UNSET,
        first: First = UNSET,
        after: After = UNSET,
        last: Last = UNSET,
        before: Before = UNSET,
        order_by: WorkOrderBy = UNSET,
    ) -> Connection[WorkRef]:
        from gql.types.work import Work

        orders = work_orders(order_by, FILMOGRAPHY_ORDER)
        ordering = q.work_ordering(orders)
        request = page_request(info, "theme.works", ordering, first, after, last, before)
        kind = given(kind)
        work_filter = q.WorkFilter(kind=kind) if kind is not None else None
        loaders = info.context.loaders
        page = await loaders.theme_works.load(
            (self.row.id, NestedWorks(None, work_filter, orders, request))
        )
        count_key = (self.row.id, NestedCount(None, work_filter))
        return build_connection(
            page,
            "theme.works",
            ordering,
            Work.from_row,
            lambda: loaders.theme_works_count.load(count_key),
        )
