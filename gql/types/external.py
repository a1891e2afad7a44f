"""External identifiers (IMDb, Wikidata) on works and people, and the root lookups by them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from db.enums import ExternalSystem
from db.external_ids import ExternalIdRow, Owner, external_id_problem, external_url
from gql.context import Info
from gql.errors import BadUserInput
from gql.inputs import text_argument

if TYPE_CHECKING:
    from gql.types.person import Person
    from gql.types.work import Work

WorkRef = Annotated["Work", strawberry.lazy("gql.types.work")]
PersonRef = Annotated["Person", strawberry.lazy("gql.types.person")]

strawberry.enum(ExternalSystem, description="An outside database that identifies works and people.")


@strawberry.type(description="A record's identifier in an outside database, with its page there.")
class ExternalId:
    system: ExternalSystem = strawberry.field(description="The database: IMDB, WIKIDATA …")
    value: str = strawberry.field(
        description="The identifier there, e.g. tt0168937 (IMDb title), nm0000001 (IMDb name) "
        "or Q42 (Wikidata item)."
    )
    url: str = strawberry.field(
        description="The record's page there, e.g. https://www.imdb.com/title/tt0168937."
    )

    @classmethod
    def from_row(cls, row: ExternalIdRow, owner: Owner) -> ExternalId:
        return cls(
            system=row.system, value=row.value, url=external_url(row.system, row.value, owner)
        )


async def work_external_ids(info: Info, work_id: int) -> list[ExternalId]:
    rows = await info.context.loaders.work_external_ids.load(work_id)
    return [ExternalId.from_row(row, Owner.WORK) for row in rows]


async def person_external_ids(info: Info, person_id: int) -> list[ExternalId]:
    rows = await info.context.loaders.person_external_ids.load(person_id)
    return [ExternalId.from_row(row, Owner.PERSON) for row in rows]


SystemArg = Annotated[
    ExternalSystem, strawberry.argument(description="The outside database the identifier is from.")
]
WorkValueArg = Annotated[
    str,
    strawberry.argument(
        description="The identifier, e.g. tt0168937 (IMDb: tt + 7 or 8 digits; Wikidata: Q + a "
        "number). An identifier of the wrong shape is an error (BAD_USER_INPUT)."
    ),
]
PersonValueArg = Annotated[
    str,
    strawberry.argument(
        description="The identifier, e.g. nm0000001 (IMDb: nm + 7 or 8 digits; Wikidata: Q + a "
        "number). An identifier of the wrong shape is an error (BAD_USER_INPUT)."
    ),
]


def _checked(system: ExternalSystem, value: str, owner: Owner) -> tuple[ExternalSystem, str]:
    text = text_argument(value, "value")
    assert text is not None
    problem = external_id_problem(system, text, owner)
    if problem is not None:
        raise BadUserInput(problem, argument="value")
    return system, text


async def work_by_external_id(info: Info, system: SystemArg, value: WorkValueArg) -> WorkRef | None:
    from gql.types.work import Work

    key = _checked(system, value, Owner.WORK)
    row = await info.context.loaders.work_by_external_id.load(key)
    return Work.from_row(row) if row else None


async def person_by_external_id(
    info: Info, system: SystemArg, value: PersonValueArg
) -> PersonRef | None:
    from gql.types.person import Person

    key = _checked(system, value, Owner.PERSON)
    row = await info.context.loaders.person_by_external_id.load(key)
    return Person.from_row(row) if row else None


WORK_BY_EXTERNAL_ID = "A work by its identifier in an outside database (null when none has it)."
PERSON_BY_EXTERNAL_ID = (
    "A person by their identifier in an outside database (null when none has it)."
)
