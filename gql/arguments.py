"""Argument types shared by many fields, each described once (the paging arguments are
declared by ``gql.pagination.ConnectionArguments``)."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeAlias, TypeVar

import strawberry

from gql.inputs import PersonFilter, WorkFilter, WorkOrder
from gql.types.common import CreditRole, WorkKind

R = TypeVar("R", bound=Callable[..., Awaitable[Any]])

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


def parameter(
    name: str, annotation: Any = inspect.Parameter.empty, default: Any = inspect.Parameter.empty
) -> inspect.Parameter:
    """One parameter of a ``declared`` resolver."""
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    return inspect.Parameter(name, kind, annotation=annotation, default=default)


def declared(resolver: R, returns: Any, *parameters: inspect.Parameter) -> R:
    """A resolver built at import, given the signature Strawberry reads its arguments and its
    type from: ``parameters`` in the order the schema lists the arguments, after ``self`` (the
    object the field is on, where the resolver takes it) and ``info``."""
    resolver.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        list(parameters), return_annotation=returns
    )
    return resolver
