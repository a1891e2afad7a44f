"""Argument types shared by many fields, each described once (the paging arguments are
declared by ``gql.pagination.ConnectionArguments``)."""

from __future__ import annotations

from typing import Annotated, TypeAlias

import strawberry

from gql.inputs import PersonFilter, WorkFilter, WorkOrder
from gql.types.common import CreditRole, WorkKind

WorkOrderBy: TypeAlias = Annotated[
    list[WorkOrder] | None,
    strawberry.argument(
        description="Sort keys, most significant first; ties are broken by id. Unknown years "
        "sort last in either direction."
    ),
]
RoleArg: TypeAlias = Annotated[
    CreditRole | None, strawberry.argument(description="Only credits in this role.")
]
KindArg: TypeAlias = Annotated[
    WorkKind | None, strawberry.argument(description="Only films or only series.")
]
WorkFilterArg: TypeAlias = Annotated[
    WorkFilter | None, strawberry.argument(description="Conditions the works must meet.")
]
PersonFilterArg: TypeAlias = Annotated[
    PersonFilter | None, strawberry.argument(description="Conditions the people must meet.")
]
Slug: TypeAlias = Annotated[str, strawberry.argument(description="The record's slug.")]
