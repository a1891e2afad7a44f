"""Cursor connections (Relay): edges, nodes, pageInfo and a lazily counted totalCount."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import strawberry

from gql.types.common import PageInfo

NodeT = TypeVar("NodeT")


@strawberry.type(description="An item of a list, with the cursor to page from it.")
class Edge(Generic[NodeT]):
    # encoded when asked for: most pages' edges are read for their nodes alone
    cursor: str = strawberry.field(
        resolver=lambda root: root.encode(),
        description="Opaque cursor: pass it as `after` or `before`.",
    )
    node: NodeT = strawberry.field(description="The item.")
    encode: strawberry.Private[Callable[[], str]]


@strawberry.type(description="A page of a list, with the means to fetch the pages around it.")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]] = strawberry.field(description="The page's items with their cursors.")
    page_info: PageInfo = strawberry.field(description="Where this page sits in the list.")
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Shortcut for `edges { node }`.")
    def nodes(self) -> list[NodeT]:
        return [edge.node for edge in self.edges]

    @strawberry.field(
        description="Size of the whole filtered list, not of the page (counted only when asked)."
    )
    async def total_count(self) -> int:
        return await self.count()
