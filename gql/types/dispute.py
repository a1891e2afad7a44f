"""The Dispute type: a statement on record that a reference contradicts, and the people its
reported side names. Apart from ``gql.types.common``, which modules outside the types import:
the reported people reach ``Person``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from db import models as m
from db.enums import Qualifier
from gql.context import Info
from gql.types.common import Source

if TYPE_CHECKING:
    from gql.types.person import Person


@strawberry.type(
    description="A statement on record that a reference contradicts. Both sides are kept: the "
    "catalog's record is never silently edited."
)
class Dispute:
    row_id: strawberry.Private[int]
    field: str = strawberry.field(
        description='The disputed field, e.g. "year", "directors", "kind".'
    )
    stated: str = strawberry.field(description="What the catalog's record says.")
    reported: str = strawberry.field(description="What the reference says.")
    source: Source = strawberry.field(description="The reference that says it.")
    note: str | None = strawberry.field(description="Context for the disagreement.")
    qualifier: Qualifier | None = strawberry.field(
        description='How the reference hedges what it reports ("some say 1968"); null when '
        "it reports it plainly."
    )

    @strawberry.field(
        description="The people the reported side names (a reported director), as records: "
        "the work shows on their pages as reported."
    )
    async def reported_people(
        self, info: Info
    ) -> list[Annotated[Person, strawberry.lazy("gql.types.person")]]:
        from gql.types.person import Person

        people = await info.context.loaders.dispute_people.load(self.row_id)
        return [Person.from_row(p) for p in people]

    @classmethod
    def from_row(cls, row: m.Dispute, source: m.Source) -> Dispute:
        return cls(
            row_id=row.id,
            qualifier=row.qualifier,
            field=row.field,
            stated=row.stated,
            reported=row.reported,
            source=Source.from_row(source),
            note=row.note,
        )
