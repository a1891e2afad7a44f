"""The Theme type: a curated subject works are tagged with."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import strawberry

from db import models as m
from db import queries as q
from gql.types.common import Node, node_id, record_version
from gql.types.nested import nested_works_field
from gql.types.rows import row_constructor


@strawberry.type(description="A theme from the catalog's curated vocabulary.")
class Theme(Node):
    row: strawberry.Private[m.Theme]
    from_row: ClassVar[Callable[[m.Theme], Theme]]
    id: strawberry.ID = node_id()
    slug: str = strawberry.field(description="Stable, human-readable, unique among themes.")
    name: str = strawberry.field(description="The theme's name.")
    description: str | None = strawberry.field(description="What the theme covers.")
    version: int = record_version()

    works = nested_works_field(
        q.Parent.THEME,
        "The works tagged with this theme, filtered and paged; default order: year (unknown "
        "last), then title.",
    )


Theme.from_row = row_constructor(Theme, m.Theme, global_id="Theme")
