"""The Credit type: a person's part in a work."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, TypeVar

import strawberry

from db.enums import Qualifier
from db.queries import CreditRow
from gql.context import Info
from gql.loaders import Loader
from gql.types.common import CreditRole, Source
from gql.types.statements import EpisodeRange

if TYPE_CHECKING:
    from gql.types.person import Person
    from gql.types.work import Work

R = TypeVar("R")


@strawberry.type(description="A person's part in a work.")
class Credit:
    row: strawberry.Private[CreditRow]

    @strawberry.field(description="Who is credited.")
    async def person(self, info: Info) -> Annotated[Person, strawberry.lazy("gql.types.person")]:
        from gql.types.person import Person

        loader = info.context.loaders.person
        return Person.from_row(await _named(loader, self.row.person_id, "person"))

    @strawberry.field(description="The work the credit is on.")
    async def work(self, info: Info) -> Annotated[Work, strawberry.lazy("gql.types.work")]:
        from gql.types.work import Work

        return Work.from_row(await _named(info.context.loaders.work, self.row.work_id, "work"))

    @strawberry.field(description="The part the person played in the work.")
    def role(self) -> CreditRole:
        return self.row.role

    @strawberry.field(description="Billing position within the work's credits, from 0.")
    def position(self) -> int:
        return self.row.position

    @strawberry.field(
        description='What a reference adds to the credit, e.g. "holds the screen credit".'
    )
    def note(self) -> str | None:
        return self.row.note

    @strawberry.field(description="How the sources hedge the credit; null when stated plainly.")
    def qualifier(self) -> Qualifier | None:
        return self.row.qualifier

    @strawberry.field(
        description="The episodes the credit covers (a writer of episodes 51–100); null for "
        "the whole work."
    )
    def episodes(self) -> EpisodeRange | None:
        first, last = self.row.episodes_first, self.row.episodes_last
        return None if first is None or last is None else EpisodeRange(first=first, last=last)

    @strawberry.field(description="Where this credit is stated.")
    async def sources(self, info: Info) -> list[Source]:
        key = (self.row.work_id, self.row.person_id, self.row.role)
        return [Source.from_row(s) for s in await info.context.loaders.credit_sources.load(key)]


async def _named(loader: Loader[int, R | None], key: int, what: str) -> R:
    """The record a credit names, which the foreign keys keep there."""
    row = await loader.load(key)
    if row is None:
        raise LookupError(f"credit names missing {what} {key}")
    return row
