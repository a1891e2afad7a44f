"""The Theme type: a curated subject works are tagged with."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, ClassVar

import strawberry
from strawberry import UNSET

from db import models as m
from db import queries as q
from gql.arguments import KindArg, WorkFilterArg, WorkOrderBy
from gql.context import Info
from gql.pagination import UNPAGED, ConnectionArguments, PageArguments
from gql.types.common import Node
from gql.types.nested import nested_works
from gql.types.rows import row_constructor

if TYPE_CHECKING:
    from gql.types.work_connection import WorkConnection

WorkConnectionRef = Annotated["WorkConnection", strawberry.lazy("gql.types.work_connection")]


@strawberry.type(description="A theme from the catalog's curated vocabulary.")
class Theme(Node):
    row: strawberry.Private[m.Theme]
    from_row: ClassVar[Callable[[m.Theme], Theme]]
    id: strawberry.ID = strawberry.field(description="Opaque global ID (see `node`).")
    slug: str = strawberry.field(description="Stable, human-readable, unique among themes.")
    name: str = strawberry.field(description="The theme's name.")
    description: str | None = strawberry.field(description="What the theme covers.")
    version: int = strawberry.field(
        description="Increases with every change; an update names the version it read."
    )

    @strawberry.field(
        description="The works tagged with this theme, filtered and paged; default order: year "
        "(unknown last), then title.",
        extensions=[ConnectionArguments()],
    )
    async def works(
        self,
        info: Info,
        kind: KindArg = UNSET,
        filter: WorkFilterArg = UNSET,
        page: PageArguments = UNPAGED,
        order_by: WorkOrderBy = UNSET,
    ) -> WorkConnectionRef:
        return await nested_works(
            info, q.Parent.THEME, self.row.id, page, kind=kind, filter=filter, order_by=order_by
        )


Theme.from_row = row_constructor(Theme, m.Theme, global_id="Theme")
