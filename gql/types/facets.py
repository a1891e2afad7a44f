"""Facets: counts over a whole filtered list of works (not its page), for filter sidebars."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from db.facets import MAX_THEME_FACETS
from gql.context import Info
from gql.errors import BadUserInput, PageSizeExceeded
from gql.loaders import NestedCount
from gql.types.common import WorkKind

if TYPE_CHECKING:
    from gql.types.theme import Theme

ThemeRef = Annotated["Theme", strawberry.lazy("gql.types.theme")]


@strawberry.type(description="How many works of the list are of one kind.")
class KindCount:
    kind: WorkKind = strawberry.field(description="The kind.")
    count: int = strawberry.field(description="Works of that kind in the whole filtered list.")


@strawberry.type(description="How many works of the list date from one decade.")
class DecadeCount:
    decade: int | None = strawberry.field(
        description="The decade's first year, e.g. 1970; null counts the works of unknown year."
    )
    count: int = strawberry.field(description="Works of that decade in the whole filtered list.")


@strawberry.type(description="How many works of the list are tagged with one theme.")
class ThemeCount:
    theme: ThemeRef = strawberry.field(description="The theme.")
    count: int = strawberry.field(description="Works with that theme in the whole filtered list.")


@strawberry.type(
    description="Counts over the whole filtered list (every page, not just this one), each "
    "computed only when asked for: kinds and decades in one SQL statement, themes in another."
)
class WorkFacets:
    key: strawberry.Private[tuple[int, NestedCount]]

    @strawberry.field(description="Works per kind, most first.")
    async def kinds(self, info: Info) -> list[KindCount]:
        counts = await info.context.loaders.kinds_and_decades.load(self.key)
        return [KindCount(kind=kind, count=count) for kind, count in counts.kinds]

    @strawberry.field(description="Works per decade, oldest first; unknown years last.")
    async def decades(self, info: Info) -> list[DecadeCount]:
        counts = await info.context.loaders.kinds_and_decades.load(self.key)
        return [DecadeCount(decade=decade, count=count) for decade, count in counts.decades]

    @strawberry.field(description="The themes most works of the list are tagged with.")
    async def themes(
        self,
        info: Info,
        first: Annotated[
            int, strawberry.argument(description="How many themes at most (default 10; max 100).")
        ] = 10,
    ) -> list[ThemeCount]:
        from gql.types.theme import Theme

        if first < 0:
            raise BadUserInput("`first` must not be negative", argument="first")
        if first > MAX_THEME_FACETS:
            raise PageSizeExceeded(
                f"`first` may be at most {MAX_THEME_FACETS}", maximum=MAX_THEME_FACETS
            )
        parent_id, args = self.key
        rows = await info.context.loaders.top_themes.load((parent_id, (args, first)))
        return [ThemeCount(theme=Theme.from_row(theme), count=count) for theme, count in rows]
