"""WorkConnection: the connection shape every list of works has, plus facet counts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from gql.loaders import NestedCount
from gql.types.connection import Connection
from gql.types.facets import WorkFacets

if TYPE_CHECKING:
    from gql.types.work import Work

WorkRef = Annotated["Work", strawberry.lazy("gql.types.work")]


@strawberry.type(
    name="WorkConnection",
    description="A page of works, with the means to fetch the pages around it and counts "
    "over the whole filtered list.",
)
class WorkConnection(Connection[WorkRef]):
    facet_key: strawberry.Private[tuple[int, NestedCount] | None] = None

    @strawberry.field(
        description="Counts by kind, decade and theme over the whole filtered list (not the "
        "page), for filter sidebars; null for lists that are rankings (`similar`)."
    )
    def facets(self) -> WorkFacets | None:
        return None if self.facet_key is None else WorkFacets(key=self.facet_key)
