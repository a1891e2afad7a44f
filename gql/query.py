"""The root Query: lookups by slug and global ID, the catalog's lists, and search."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import strawberry
from sqlalchemy import Select
from strawberry import UNSET

from db import facet_counts, structure
from db import queries as q
from db.enums import CreditRole as Role
from db.enums import WorkOrderField as OrderField
from db.pagination import Ordering, count_rows, fetch_page
from gql.arguments import PersonFilterArg, Slug, WorkFilterArg, WorkOrderBy
from gql.context import Info
from gql.errors import PageSizeExceeded
from gql.ids import from_global_id
from gql.inputs import PersonFilter, WorkFilter, given, text_argument, work_orders
from gql.loaders import NestedCount
from gql.pagination import UNPAGED, ConnectionArguments, PageArguments, connection_parts
from gql.permissions import EDITOR
from gql.search import QueryText, SearchFirst, SearchHit, SearchResult, search_hits
from gql.types.change import Change
from gql.types.common import Node
from gql.types.connection import Connection
from gql.types.external import (
    PERSON_BY_EXTERNAL_ID,
    WORK_BY_EXTERNAL_ID,
    person_by_external_id,
    work_by_external_id,
)
from gql.types.person import Person
from gql.types.studio import Studio
from gql.types.theme import Theme
from gql.types.work import Work
from gql.types.work_connection import WorkConnection

T = TypeVar("T")
TITLE_ORDER = (q.WorkOrder(OrderField.TITLE),)


async def _node(info: Info, global_id: str) -> Node | None:
    type_name, db_id = from_global_id(global_id)
    loaders = info.context.loaders
    if type_name == "Work":
        work = await loaders.work.load(db_id)
        return Work.from_row(work) if work else None
    if type_name == "Person":
        person = await loaders.person.load(db_id)
        return Person.from_row(person) if person else None
    if type_name == "Studio":
        studio = await loaders.studio.load(db_id)
        return Studio.from_row(studio) if studio else None
    theme = await loaders.theme.load(db_id)
    return Theme.from_row(theme) if theme else None


async def _root_page(
    info: Info,
    list_name: str,
    query: Select[Any],
    ordering: Ordering,
    make_node: Callable[[Any], Any],
    page_arguments: PageArguments,
) -> dict[str, Any]:
    """A root list's page as connection fields: edges, pageInfo and the lazy totalCount."""
    request = page_arguments.request(info, list_name, ordering)
    loaders = info.context.loaders
    page = await loaders.run(fetch_page, query, ordering, request)
    return {
        **connection_parts(page, list_name, ordering, make_node),
        "count": lambda: loaders.run(count_rows, query),
    }


def _slug(slug: str) -> str:
    checked = text_argument(slug, "slug")
    assert checked is not None
    return checked


@strawberry.type(description="Read the catalog: films and series, the people credited, themes.")
class Query:
    @strawberry.field(description="Fetch any work, person, theme or studio by its global ID.")
    async def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="A global ID.")],
    ) -> Node | None:
        return await _node(info, id)

    @strawberry.field(
        description="Fetch several objects by global ID, in order (null where none exists)."
    )
    async def nodes(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(description="Global IDs (at most the maximum page size)."),
        ],
    ) -> list[Node | None]:
        maximum = info.context.settings.max_page_size
        if len(ids) > maximum:
            raise PageSizeExceeded(f"`ids` may name at most {maximum} objects", maximum=maximum)
        for global_id in ids:  # reject any malformed ID before loading anything
            from_global_id(global_id)
        return list(await asyncio.gather(*(_node(info, global_id) for global_id in ids)))

    @strawberry.field(description="A work by its slug.")
    async def work(self, info: Info, slug: Slug) -> Work | None:
        row = await info.context.loaders.work_by_slug.load(_slug(slug))
        return Work.from_row(row) if row else None

    @strawberry.field(
        description="Films and series, filtered and paged; default order: title, then id.",
        extensions=[ConnectionArguments()],
    )
    async def works(
        self,
        info: Info,
        filter: WorkFilterArg = UNSET,
        order_by: WorkOrderBy = UNSET,
        page: PageArguments = UNPAGED,
    ) -> WorkConnection:
        orders = work_orders(order_by, TITLE_ORDER)
        given_filter: WorkFilter | None = given(filter)
        work_filter = given_filter.to_db() if given_filter else None
        query = q.works_query(work_filter)
        ordering = q.work_ordering(orders)
        parts = await _root_page(info, "works", query, ordering, Work.from_row, page)
        loaders = info.context.loaders
        parts["count"] = lambda: loaders.run(facet_counts.count_works, work_filter)
        return WorkConnection(**parts, facet_key=(0, NestedCount(None, None, work_filter)))

    @strawberry.field(description="A person by their slug.")
    async def person(self, info: Info, slug: Slug) -> Person | None:
        row = await info.context.loaders.person_by_slug.load(_slug(slug))
        return Person.from_row(row) if row else None

    @strawberry.field(
        description="People, filtered and paged, ordered by name.",
        extensions=[ConnectionArguments()],
    )
    async def people(
        self,
        info: Info,
        filter: PersonFilterArg = UNSET,
        page: PageArguments = UNPAGED,
    ) -> Connection[Person]:
        person_filter: PersonFilter | None = given(filter)
        query = q.people_query(person_filter.to_db() if person_filter else None)
        parts = await _root_page(info, "people", query, q.PEOPLE_ORDERING, Person.from_row, page)
        return Connection(**parts)

    @strawberry.field(
        description="People with a DIRECTOR credit, ordered by name.",
        extensions=[ConnectionArguments()],
    )
    async def directors(
        self,
        info: Info,
        page: PageArguments = UNPAGED,
    ) -> Connection[Person]:
        query = q.people_query(q.PersonFilter(role=Role.DIRECTOR))
        parts = await _root_page(info, "directors", query, q.PEOPLE_ORDERING, Person.from_row, page)
        return Connection(**parts)

    @strawberry.field(
        description="The audit trail, newest first: every change curators made (needs an "
        "editor token).",
        extensions=[ConnectionArguments()],
        permission_classes=EDITOR,
    )
    async def changes(
        self,
        info: Info,
        page: PageArguments = UNPAGED,
        subject: Annotated[
            str | None,
            strawberry.argument(description="Only changes to the record with this slug."),
        ] = UNSET,
    ) -> Connection[Change]:
        query = q.changes_query(text_argument(subject, "subject"))
        parts = await _root_page(info, "changes", query, q.CHANGES_ORDERING, Change.from_row, page)
        return Connection(**parts)

    @strawberry.field(description="A theme by its slug.")
    async def theme(self, info: Info, slug: Slug) -> Theme | None:
        row = await info.context.loaders.theme_by_slug.load(_slug(slug))
        return Theme.from_row(row) if row else None

    @strawberry.field(
        description="The theme vocabulary, ordered by name.",
        extensions=[ConnectionArguments()],
    )
    async def themes(
        self,
        info: Info,
        page: PageArguments = UNPAGED,
    ) -> Connection[Theme]:
        parts = await _root_page(
            info,
            "themes",
            q.themes_query(),
            q.THEMES_ORDERING,
            Theme.from_row,
            page,
        )
        return Connection(**parts)

    @strawberry.field(description="A studio by its slug.")
    async def studio(self, info: Info, slug: Slug) -> Studio | None:
        row = await info.context.loaders.studio_by_slug.load(_slug(slug))
        return Studio.from_row(row) if row else None

    @strawberry.field(
        description="The studios and production companies the references name, ordered by name.",
        extensions=[ConnectionArguments()],
    )
    async def studios(
        self,
        info: Info,
        page: PageArguments = UNPAGED,
    ) -> Connection[Studio]:
        parts = await _root_page(
            info,
            "studios",
            structure.studios_query(),
            structure.STUDIOS_ORDERING,
            Studio.from_row,
            page,
        )
        return Connection(**parts)

    @strawberry.field(
        description="Best matches first across works, people and themes: whole names, then "
        "name starts, then substrings, then words of synopses, biographies and notes, then "
        "similar spellings (typo tolerance for longer words); romanization-insensitive for "
        "romanized Korean (Choe/Choi, k/g, ŏ/eo …), Hangul by any fragment and by its "
        "romanizations. `searchHits` says why."
    )
    async def search(
        self, info: Info, query: QueryText, first: SearchFirst = 10
    ) -> list[SearchResult]:
        return [hit.node for hit in await search_hits(info, query, first)]

    @strawberry.field(
        description="`search` with each result's score and the name it matched, best first."
    )
    async def search_hits(
        self, info: Info, query: QueryText, first: SearchFirst = 10
    ) -> list[SearchHit]:
        return await search_hits(info, query, first)

    work_by_external_id = strawberry.field(
        resolver=work_by_external_id, description=WORK_BY_EXTERNAL_ID
    )
    person_by_external_id = strawberry.field(
        resolver=person_by_external_id, description=PERSON_BY_EXTERNAL_ID
    )
