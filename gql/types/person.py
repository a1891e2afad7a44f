"""The Person type: directors and everyone else credited, with their works."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, ClassVar

import strawberry

from db import models as m
from db import queries as q
from gql.context import Info
from gql.types.common import Attribution, Node, Source, node_id, record_version
from gql.types.external import ExternalId, person_external_ids
from gql.types.nested import nested_works_field
from gql.types.rows import row_constructor
from gql.types.statements import Name, ReportedCredit
from gql.types.titles import person_names

if TYPE_CHECKING:
    from gql.types.credit import Credit

CreditRef = Annotated["Credit", strawberry.lazy("gql.types.credit")]


@strawberry.type(description="A person credited in the catalog: a director, writer, actor …")
class Person(Node):
    row: strawberry.Private[m.Person]
    from_row: ClassVar[Callable[[m.Person], Person]]
    id: strawberry.ID = node_id()
    slug: str = strawberry.field(description="Stable, human-readable, unique among people.")
    name: str = strawberry.field(description="Name as the catalog states it (romanized).")
    original_name: str | None = strawberry.field(description="Hangul name where known.")
    biography: str | None = strawberry.field(description="What the catalog states about them.")
    version: int = record_version()

    @strawberry.field(description="Other spellings and romanizations of the name.")
    async def alternative_names(self, info: Info) -> list[str]:
        return await info.context.loaders.alternative_names.load(self.row.id)

    @strawberry.field(
        description="Every form of their name, typed, each with the sources that state it: "
        "the main one, the original (Hangul), other spellings, then the romanizations (RR, "
        "MR) generated from the Hangul ones (`generated`, stated by no source)."
    )
    async def names(self, info: Info) -> list[Name]:
        return [Name.from_row(n) for n in await person_names(info, self.row)]

    @strawberry.field(
        description="Works a reference attributes to them against the record (the reported "
        "side of a dispute), apart from what they are credited with; by work, then dispute."
    )
    async def reported(self, info: Info) -> list[ReportedCredit]:
        rows = await info.context.loaders.person_reported.load(self.row.id)
        return [ReportedCredit(row=r) for r in rows]

    @strawberry.field(description="Their credits, in filmography order (year, then title).")
    async def credits(self, info: Info) -> list[CreditRef]:
        from gql.types.credit import Credit

        return [Credit(row=c) for c in await info.context.loaders.person_credits.load(self.row.id)]

    works = nested_works_field(
        q.Parent.PERSON,
        "The works they are credited on (each once), filtered and paged; default order: year "
        "(unknown last), then title. The director -> works path is `works(role: DIRECTOR)`.",
        by_role=True,
    )

    @strawberry.field(description="Where this person's record comes from.")
    async def sources(self, info: Info) -> list[Source]:
        return [
            Source.from_row(s) for s in await info.context.loaders.person_sources.load(self.row.id)
        ]

    @strawberry.field(description="Which sources state which field of this record.")
    async def attributions(self, info: Info) -> list[Attribution]:
        return Attribution.of_record(
            await info.context.loaders.person_attributions.load(self.row.id)
        )

    @strawberry.field(description="Their identifiers in outside databases (IMDb, Wikidata).")
    async def external_ids(self, info: Info) -> list[ExternalId]:
        return await person_external_ids(info, self.row.id)


Person.from_row = row_constructor(Person, m.Person, global_id="Person")
