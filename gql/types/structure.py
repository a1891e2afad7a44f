"""A work's structure: its parts, dated events, forms, audience, origins and studio credits,
each value with the sources that state it (issue #22)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from db import models as m
from db.enums import (
    Audience,
    DatePrecision,
    EventKind,
    PartUnit,
    Qualifier,
    Statement,
    WorkForm,
)
from db.rules import part_label, partial_date_text
from db.structure import StatementKey
from gql.context import Info
from gql.types.common import Source

if TYPE_CHECKING:
    from gql.types.studio import Studio

StudioRef = Annotated["Studio", strawberry.lazy("gql.types.studio")]

__all__ = [
    "Audience",
    "DatePrecision",
    "EventKind",
    "Origin",
    "PartUnit",
    "PartialDate",
    "Qualifier",
    "StudioCredit",
    "WorkEvent",
    "WorkForm",
    "WorkPart",
]

for _enum, _description in (
    (WorkForm, "What form a work takes, beside its kind: feature, animation, documentary …"),
    (Audience, "Whom a work is made for."),
    (PartUnit, "What a work's parts are counted in: the parts of a film, a series' episodes."),
    (EventKind, "What happened to a work on a date: made, premiered, released, broadcast …"),
    (DatePrecision, "How much of a date is known: the year, the month or the day."),
):
    strawberry.enum(_enum, description=_description)
# Qualifier is registered with the statements' enums (gql.types.common).


async def _sources(info: Info, work_id: int, key: StatementKey) -> list[Source]:
    """The sources stating one value of a work's structure; all of a request's values load in
    one statement (``Loaders.work_statement_sources``)."""
    cited = await info.context.loaders.work_statement_sources.load(work_id)
    return [Source.from_row(s) for s in cited.get(key, [])]


@strawberry.type(description="A date known to the year, the month or the day.")
class PartialDate:
    year: int = strawberry.field(description="The year.")
    month: int | None = strawberry.field(description="The month (1-12), where known.")
    day: int | None = strawberry.field(description="The day of the month, where known.")

    @strawberry.field(description="How much of the date is known.")
    def precision(self) -> DatePrecision:
        if self.month is None:
            return DatePrecision.YEAR
        return DatePrecision.MONTH if self.day is None else DatePrecision.DAY

    @strawberry.field(
        description='The date as ISO 8601 of its precision: "1988", "2006-08", "1971-07-17".'
    )
    def text(self) -> str:
        return partial_date_text(self.year, self.month, self.day)


@strawberry.type(
    description="Something that happened to a work (or one of its parts) on a date, with the "
    "sources that state it."
)
class WorkEvent:
    row: strawberry.Private[m.WorkEvent]
    kind: EventKind = strawberry.field(description="What happened.")
    date: PartialDate = strawberry.field(description="When (or when it began).")
    until: PartialDate | None = strawberry.field(
        description="When it ended, for what took a while (a series' broadcast: 1982 until 1997)."
    )
    place: str | None = strawberry.field(description='Where, e.g. "France".')
    qualifier: Qualifier | None = strawberry.field(
        description="How the references hedge it, e.g. SOMETIMES for a date some give."
    )
    note: str | None = strawberry.field(description="Context for the statement.")

    @classmethod
    def from_row(cls, row: m.WorkEvent) -> WorkEvent:
        until = (
            None
            if row.until_year is None
            else PartialDate(year=row.until_year, month=row.until_month, day=row.until_day)
        )
        return cls(
            row=row,
            kind=row.kind,
            date=PartialDate(year=row.year, month=row.month, day=row.day),
            until=until,
            place=row.place,
            qualifier=row.qualifier,
            note=row.note,
        )

    @strawberry.field(description="The sources that state this event.")
    async def sources(self, info: Info) -> list[Source]:
        return await _sources(info, self.row.work_id, (Statement.EVENT, self.row.position))


@strawberry.type(
    description="A part of a work or a range of them (a film's parts 2-5, a series' episodes "
    "1-50), with its events and the sources that state it."
)
class WorkPart:
    row: strawberry.Private[m.WorkPart]
    events_of_part: strawberry.Private[list[m.WorkEvent]]
    unit: PartUnit = strawberry.field(description="Parts or episodes.")
    first: int = strawberry.field(description="The first number of the range (or the number).")
    last: int = strawberry.field(description="The last number of the range (= first for one).")
    title: str | None = strawberry.field(description="The part's own title, where known.")

    @strawberry.field(
        description='How to call it: "Part 1", "Parts 2\u20135", "Episodes 1\u201350".'
    )
    def label(self) -> str:
        return part_label(self.unit, self.first, self.last)

    @strawberry.field(description="What happened to this part, and when (made, broadcast …).")
    def events(self) -> list[WorkEvent]:
        return [WorkEvent.from_row(e) for e in self.events_of_part]

    @strawberry.field(description="The sources that state this part.")
    async def sources(self, info: Info) -> list[Source]:
        return await _sources(info, self.row.work_id, (Statement.PART, self.row.position))


@strawberry.type(
    description="What a work adapts that is not a film (an opera, a folk tale), with the "
    "sources that state it."
)
class Origin:
    row: strawberry.Private[m.WorkOrigin]
    title: str = strawberry.field(description="Its title, in English.")
    original_title: str | None = strawberry.field(description="Its Korean title, where known.")
    form: str = strawberry.field(description='What it is: "revolutionary opera", "folk tale" …')
    note: str | None = strawberry.field(description="Context, e.g. when the opera premiered.")
    qualifier: Qualifier | None = strawberry.field(
        description="How the references hedge the statement, if they do."
    )

    @classmethod
    def from_row(cls, row: m.WorkOrigin) -> Origin:
        return cls(
            row=row,
            title=row.title,
            original_title=row.original_title,
            form=row.form,
            note=row.note,
            qualifier=row.qualifier,
        )

    @strawberry.field(description="The sources that state it.")
    async def sources(self, info: Info) -> list[Source]:
        return await _sources(info, self.row.work_id, (Statement.ORIGIN, self.row.position))


@strawberry.type(description="A studio credited on a work, with the sources that state it.")
class StudioCredit:
    row: strawberry.Private[m.WorkStudio]
    studio_row: strawberry.Private[m.Studio]
    role: str = strawberry.field(description='What it did: "production" …')

    @strawberry.field(description="The studio.")
    def studio(self) -> StudioRef:
        from gql.types.studio import Studio

        return Studio.from_row(self.studio_row)

    @strawberry.field(description="The sources that state the credit.")
    async def sources(self, info: Info) -> list[Source]:
        return await _sources(info, self.row.work_id, (Statement.STUDIO, self.row.position))


async def work_parts(info: Info, work_id: int) -> list[WorkPart]:
    loaders = info.context.loaders
    parts = await loaders.work_parts.load(work_id)
    events = await loaders.work_events.load(work_id) if parts else []
    return [
        WorkPart(
            row=p,
            events_of_part=[e for e in events if e.part_position == p.position],
            unit=p.unit,
            first=p.first_number,
            last=p.last_number,
            title=p.title,
        )
        for p in parts
    ]


async def work_events(info: Info, work_id: int) -> list[WorkEvent]:
    events = await info.context.loaders.work_events.load(work_id)
    return [WorkEvent.from_row(e) for e in events if e.part_position is None]


async def work_studios(info: Info, work_id: int) -> list[StudioCredit]:
    credits = await info.context.loaders.work_studios.load(work_id)
    return [StudioCredit(row=c, studio_row=s, role=c.role) for c, s in credits]


async def work_origins(info: Info, work_id: int) -> list[Origin]:
    return [Origin.from_row(o) for o in await info.context.loaders.work_origins.load(work_id)]
