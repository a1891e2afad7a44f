"""The Studio type: a film studio or production company that references name (issue #22)."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import strawberry

from db import models as m
from db import queries as q
from gql.context import Info
from gql.types.common import Node, Source, node_id
from gql.types.nested import nested_works_field
from gql.types.rows import row_constructor


@strawberry.type(
    description="A film studio or production company, as the references name it, with the "
    "works they credit it on."
)
class Studio(Node):
    row: strawberry.Private[m.Studio]
    from_row: ClassVar[Callable[[m.Studio], Studio]]
    id: strawberry.ID = node_id()
    slug: str = strawberry.field(description="Stable, human-readable, unique among studios.")
    name: str = strawberry.field(description="Its English name, as the references give it.")
    original_name: str | None = strawberry.field(description="Its Korean (Hangul) name.")

    @strawberry.field(description="The sources that name the studio.")
    async def sources(self, info: Info) -> list[Source]:
        rows = await info.context.loaders.studio_sources.load(self.row.id)
        return [Source.from_row(s) for s in rows]

    works = nested_works_field(
        q.Parent.STUDIO,
        "The works it is credited on (each once), filtered and paged; default order: year "
        "(unknown last), then title. Each work's `studios` says in what role and per which "
        "sources.",
    )


Studio.from_row = row_constructor(Studio, m.Studio, global_id="Studio")
