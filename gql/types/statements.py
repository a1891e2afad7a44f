"""Statements with their own sources (issue #22): typed titles and names, each with the sources
that state it; hedges; the works a reference attributes to a person against the record."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from db.enums import Qualifier, RomanizationSystem, TitleKind
from db.statements import FormRow, ReportedRow
from gql.context import Info
from gql.types.common import CreditRole, Source
from gql.types.dispute import Dispute

if TYPE_CHECKING:
    from gql.types.person import Person
    from gql.types.work import Work

_TEXT = "The form as written."
_LANGUAGE = 'Its language, a BCP 47 tag: "ko", "en", "fr"; null where not known.'
_SCRIPT = 'Its script, an ISO 15924 code: "Hang", "Latn"; null where not known.'
_ROMANIZATION = "The romanization system of a Latin-script form of Korean; null otherwise."
_QUALIFIER = 'How the sources hedge it ("probably"); null when they state it plainly.'
_GENERATED = (
    "True for a romanization computed from a Hangul form (RR and MR, by ko-pron): a reading "
    "aid and search key, stated by no source."
)
_SOURCES = "The sources that state this form; empty only when it is generated."


@strawberry.type
class _Form:
    """What a work's title and a person's name form share (``db.statements.FormRow``)."""

    text: str = strawberry.field(description=_TEXT)
    language: str | None = strawberry.field(description=_LANGUAGE)
    script: str | None = strawberry.field(description=_SCRIPT)
    romanization: RomanizationSystem | None = strawberry.field(description=_ROMANIZATION)
    kind: TitleKind
    qualifier: Qualifier | None = strawberry.field(description=_QUALIFIER)
    generated: bool = strawberry.field(description=_GENERATED)
    sources: list[Source] = strawberry.field(description=_SOURCES)

    @classmethod
    def from_row(cls, row: FormRow) -> Self:
        return cls(
            text=row.text,
            language=row.language,
            script=row.script,
            romanization=row.romanization,
            kind=row.kind,
            qualifier=row.qualifier,
            generated=row.generated,
            sources=[Source.from_row(s) for s in row.sources],
        )


@strawberry.type(description="One title of a work, typed, with the sources that state it.")
class Title(_Form):
    kind: TitleKind = strawberry.field(description="What the title is to the work.")


@strawberry.type(description="One form of a person's name, typed, with the sources that state it.")
class Name(_Form):
    kind: TitleKind = strawberry.field(description="What the form is to the person's name.")


@strawberry.type(description="The episodes a credit covers, first to last (inclusive).")
class EpisodeRange:
    first: int = strawberry.field(description="The first episode covered.")
    last: int = strawberry.field(description="The last episode covered.")


@strawberry.type(
    description="A credit a reference reports against the record (the other side of a "
    "dispute): the work shows on the person's page as reported, apart from their credits."
)
class ReportedCredit:
    row: strawberry.Private[ReportedRow]

    @strawberry.field(description="The work the reference attributes to the person.")
    async def work(self, info: Info) -> Annotated[Work, strawberry.lazy("gql.types.work")]:
        from gql.types.work import Work

        work = await info.context.loaders.work.load(self.row.dispute.work_id)
        if work is None:  # the foreign key keeps it there
            raise LookupError(f"dispute names missing work {self.row.dispute.work_id}")
        return Work.from_row(work)

    @strawberry.field(description="The person the reference names.")
    async def person(self, info: Info) -> Annotated[Person, strawberry.lazy("gql.types.person")]:
        from gql.types.person import Person

        person = await info.context.loaders.person.load(self.row.person_id)
        if person is None:
            raise LookupError(f"dispute names missing person {self.row.person_id}")
        return Person.from_row(person)

    @strawberry.field(description="The part the reference gives them in the work.")
    def role(self) -> CreditRole:
        return self.row.role

    @strawberry.field(description="The dispute that reports it, beside what the record states.")
    def dispute(self) -> Dispute:
        return Dispute.from_row(self.row.dispute, self.row.source)

    @strawberry.field(description="The reference that reports it.")
    def sources(self) -> list[Source]:
        return [Source.from_row(self.row.source)]
