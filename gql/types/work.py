"""The Work type: a film or a series, with its credits, themes, relations and provenance."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, ClassVar

import strawberry

from db import models as m
from db.enums import CreditRole as CreditRoleEnum
from gql.context import Info
from gql.pagination import UNPAGED, ConnectionArguments, PageArguments
from gql.types.common import (
    Attribution,
    Node,
    Source,
    WorkKind,
    WorkRelationType,
    node_id,
    record_version,
)
from gql.types.dispute import Dispute
from gql.types.external import ExternalId, work_external_ids
from gql.types.rows import row_constructor
from gql.types.similar import similar_works
from gql.types.statements import Title
from gql.types.structure import (
    Audience,
    Origin,
    StudioCredit,
    WorkEvent,
    WorkForm,
    WorkPart,
    work_events,
    work_origins,
    work_parts,
    work_studios,
)
from gql.types.titles import work_titles

if TYPE_CHECKING:
    from gql.types.credit import Credit
    from gql.types.person import Person
    from gql.types.theme import Theme
    from gql.types.work_connection import WorkConnection

PersonRef = Annotated["Person", strawberry.lazy("gql.types.person")]
ThemeRef = Annotated["Theme", strawberry.lazy("gql.types.theme")]
CreditRef = Annotated["Credit", strawberry.lazy("gql.types.credit")]
WorkConnectionRef = Annotated["WorkConnection", strawberry.lazy("gql.types.work_connection")]


@strawberry.type(description="A film or a television series in the catalog.")
class Work(Node):
    row: strawberry.Private[m.Work]
    from_row: ClassVar[Callable[[m.Work], Work]]
    id: strawberry.ID = node_id()
    slug: str = strawberry.field(description="Stable, human-readable, unique among works.")
    title: str = strawberry.field(description="English title as the catalog states it.")
    original_title: str | None = strawberry.field(description="Korean (Hangul) title where known.")
    kind: WorkKind = strawberry.field(description="Film or series, as the catalog states it.")
    year: int | None = strawberry.field(description="Year as the catalog states it.")
    synopsis: str | None = strawberry.field(description="What the work is about.")
    version: int = record_version()

    @strawberry.field(description="Other English titles and romanizations.")
    async def alternative_titles(self, info: Info) -> list[str]:
        return await info.context.loaders.alternative_titles.load(self.row.id)

    @strawberry.field(
        description="Every title of the work, typed, each with the sources that state it: "
        "the main title, the original, the alternatives, translations and transliterations, "
        "then the romanizations (RR, MR) generated from its Hangul titles (`generated`, "
        "stated by no source)."
    )
    async def titles(self, info: Info) -> list[Title]:
        return [Title.from_row(t) for t in await work_titles(info, self.row)]

    @strawberry.field(description="The people credited DIRECTOR, in billing order.")
    async def directors(self, info: Info) -> list[PersonRef]:
        from gql.types.person import Person

        loaders = info.context.loaders
        credits = await loaders.work_credits.load(self.row.id)
        people = await loaders.person.load_many(
            [c.person_id for c in credits if c.role == CreditRoleEnum.DIRECTOR]
        )
        return [Person.from_row(p) for p in people if p is not None]

    @strawberry.field(description="Everyone credited on the work, in billing order.")
    async def credits(self, info: Info) -> list[CreditRef]:
        from gql.types.credit import Credit

        return [Credit(row=c) for c in await info.context.loaders.work_credits.load(self.row.id)]

    @strawberry.field(description="The themes the work is tagged with.")
    async def themes(self, info: Info) -> list[ThemeRef]:
        from gql.types.theme import Theme

        return [Theme.from_row(t) for t in await info.context.loaders.work_themes.load(self.row.id)]

    @strawberry.field(description="How this work relates to others, e.g. EXTENDS The Flower Girl.")
    async def related(self, info: Info) -> list[WorkRelation]:
        loaders = info.context.loaders
        relations = await loaders.work_relations.load(self.row.id)
        works = await loaders.work.load_many([r.work_id for r in relations])
        return [
            WorkRelation(owner_id=self.row.id, type=r.type, work=Work.from_row(w))
            for r, w in zip(relations, works, strict=True)
            if w is not None
        ]

    @strawberry.field(description="Where this work's record comes from.")
    async def sources(self, info: Info) -> list[Source]:
        return [
            Source.from_row(s) for s in await info.context.loaders.work_sources.load(self.row.id)
        ]

    @strawberry.field(description="Statements on record that references contradict.")
    async def disputes(self, info: Info) -> list[Dispute]:
        rows = await info.context.loaders.work_disputes.load(self.row.id)
        return [Dispute.from_row(d, s) for d, s in rows]

    @strawberry.field(
        description="Which sources state which field of this record (field-level provenance)."
    )
    async def attributions(self, info: Info) -> list[Attribution]:
        return Attribution.of_record(await info.context.loaders.work_attributions.load(self.row.id))

    @strawberry.field(description="Its identifiers in outside databases (IMDb, Wikidata).")
    async def external_ids(self, info: Info) -> list[ExternalId]:
        return await work_external_ids(info, self.row.id)

    @strawberry.field(
        description="What form it takes, beside `kind` (a feature, an animation, a documentary, "
        'a film in several parts …), as sources state it (`attributions`: field "forms").'
    )
    async def forms(self, info: Info) -> list[WorkForm]:
        return await info.context.loaders.work_forms.load(self.row.id)

    @strawberry.field(
        description="Whom it is made for, where a source states it (`attributions`: field "
        '"audience").'
    )
    async def audience(self, info: Info) -> Audience | None:
        return await info.context.loaders.work_audience.load(self.row.id)

    @strawberry.field(
        description="Its parts or episodes (single numbers or ranges), in order, each with its "
        "events and sources."
    )
    async def parts(self, info: Info) -> list[WorkPart]:
        return await work_parts(info, self.row.id)

    @strawberry.field(
        description="What happened to the work as a whole, and when (made, premiered, released, "
        "broadcast, leaked), each with its precision, place and sources; a part's events are "
        "under `parts`."
    )
    async def events(self, info: Info) -> list[WorkEvent]:
        return await work_events(info, self.row.id)

    @strawberry.field(description="The studios credited on it, each with its role and sources.")
    async def studios(self, info: Info) -> list[StudioCredit]:
        return await work_studios(info, self.row.id)

    @strawberry.field(
        description="What it adapts that is not a film (an opera, a folk tale), with sources."
    )
    async def based_on(self, info: Info) -> list[Origin]:
        return await work_origins(info, self.row.id)

    @strawberry.field(
        description="Other works ranked by what they share with this one: 2 points per person "
        "credited on both, 1 per theme both are tagged with; best first, ties by id; works "
        "sharing nothing are left out.",
        extensions=[ConnectionArguments(backward=False)],
    )
    async def similar(self, info: Info, page: PageArguments = UNPAGED) -> WorkConnectionRef:
        return await similar_works(info, self.row.id, page)


@strawberry.type(description='A relation from one work to another: "this work <type> that work".')
class WorkRelation:
    owner_id: strawberry.Private[int]
    type: WorkRelationType = strawberry.field(description="How the works relate.")
    work: Work = strawberry.field(description="The other work.")

    @strawberry.field(description="The sources that state the relation.")
    async def sources(self, info: Info) -> list[Source]:
        key = (self.owner_id, self.work.row.id, self.type)
        return [Source.from_row(s) for s in await info.context.loaders.relation_sources.load(key)]


Work.from_row = row_constructor(Work, m.Work, global_id="Work")
