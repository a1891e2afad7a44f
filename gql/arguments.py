"""Argument types shared by many fields, each described once."""

from __future__ import annotations

from typing import Annotated, TypeAlias

import strawberry

from gql.inputs import PersonFilter, WorkFilter, WorkOrder
from gql.types.common import CreditRole, WorkKind

First: TypeAlias = Annotated[
    int | None,
    strawberry.argument(
        description="Page forward: the first N items (after `after`). Default 20; more than the "
        "maximum page size (100) is an error."
    ),
]
After: TypeAlias = Annotated[
    str | None, strawberry.argument(description="Start after this cursor (from an edge).")
]
Last: TypeAlias = Annotated[
    int | None,
    strawberry.argument(
        description="Page backward: the last N items (before `before`). Not with `first`."
    ),
]
Before: TypeAlias = Annotated[
    str | None, strawberry.argument(description="End before this cursor (from an edge).")
]
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
