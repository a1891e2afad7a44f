"""The root Query: lookups by slug and global ID, the catalog's lists, and search."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import strawberry
from sqlalchemy import Select
from strawberry import UNSET

from db import queries as q
from db.enums import CreditRole as Role
from db.enums import WorkOrderField as OrderField
from db.pagination import Ordering, count_rows, fetch_page
from gql.arguments import (
    After,
    Before,
    First,
    Last,
    PersonFilterArg,
    Slug,
    WorkFilterArg,
    WorkOrderBy,
)
from gql.context import Info
from gql.errors import BadUserInput, PageSizeExceeded
from gql.ids import from_global_id
from gql.inputs import PersonFilter, WorkFilter, given, text_argument, work_orders
from gql.pagination import build_connection, page_request
from gql.types.common import Node
from gql.types.connection import Connection
from gql.types.person import Person
from gql.types.theme import Theme
from gql.types.work import Work

T = TypeVar("T")
TITLE_ORDER = (q.WorkOrder(OrderField.TITLE),)

SearchResult = Annotated[
    Work | Person | Theme,
    strawberry.union("SearchResult", description="A work, a person or a theme found by `search`."),
]


async def _node(info: Info, global_id: str) -> Node | None:
    type_name, db_id = from_global_id(global_id)
    loaders = info.context.loaders
    if type_name == "Work":
        work = await loaders.work.load(db_id)
        return Work.from_row(work) if work else None
    if type_name == "Person":
        person = await loaders.person.load(db_id)
        return Person.from_row(person) if person else None
    theme = await loaders.theme.load(db_id)
    return Theme.from_row(theme) if theme else None


async def _root_connection(
    info: Info,
    list_name: str,
    query: Select[Any],
    ordering: Ordering,
    make_node: Callable[[Any], T],
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> Connection[T]:
    request = page_request(info, list_name, ordering, first, after, last, before)
    loaders = info.context.loaders
    page = await loaders.run(fetch_page, query, ordering, request)
    return build_connection(
        page, list_name, ordering, make_node, lambda: loaders.run(count_rows, query)
    )


def _slug(slug: str) -> str:
    checked = text_argument(slug, "slug")
    assert checked is not None
    return checked


@strawberry.type(description="Read the catalog: films and series, the people credited, themes.")
class Query:
    @strawberry.field(description="Fetch any work, person or theme by its global ID.")
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
        results = []
        for global_id in ids:
            results.append(_node(info, global_id))
        return [await r for r in results]

    @strawberry.field(description="A work by its slug.")
    async def work(self, info: Info, slug: Slug) -> Work | None:
        row = await info.context.loaders.work_by_slug.load(_slug(slug))
        return Work.from_row(row) if row else None

    @strawberry.field(
        description="Films and series, filtered and paged; default order: title, then id."
    )
    async def works(
        self,
        info: Info,
        filter: WorkFilterArg = UNSET,
        order_by: WorkOrderBy = UNSET,
        first: First = UNSET,
        after: After = UNSET,
        last: Last = UNSET,
        before: Before = UNSET,
    ) -> Connection[Work]:
        orders = work_orders(order_by, TITLE_ORDER)
        work_filter: WorkFilter | None = given(filter)
        query = q.works_query(work_filter.to_db() if work_filter else None)
        return await _root_connection(
            info, "works", query, q.work_ordering(orders), Work.from_row, first, after, last, before
        )

    @strawberry.field(description="A person by their slug.")
    async def person(self, info: Info, slug: Slug) -> Person | None:
        row = await info.context.loaders.person_by_slug.load(_slug(slug))
        return Person.from_row(row) if row else None

    @strawberry.field(description="People, filtered and paged, ordered by name.")
    async def people(
        self,
        info: Info,
        filter: PersonFilterArg = UNSET,
        first: First = UNSET,
        after: After = UNSET,
        last: Last = UNSET,
        before: Before = UNSET,
    ) -> Connection[Person]:
        person_filter: PersonFilter | None = given(filter)
        query = q.people_query(person_filter.to_db() if person_filter else None)
        return await _root_connection(
            info, "people", query, q.PEOPLE_ORDERING, Person.from_row, first, after, last, before
        )

    @strawberry.field(description="People with a DIRECTOR credit, ordered by name.")
    async def directors(
        self,
        info: Info,
        first: First = UNSET,
        after: After = UNSET,
        last: Last = UNSET,
        before: Before = UNSET,
    ) -> Connection[Person]:
        query = q.people_query(q.PersonFilter(role=Role.DIRECTOR))
        return await _root_connection(
            info, "directors", query, q.PEOPLE_ORDERING, Person.from_row, first, after, last, before
        )

    @strawberry.field(description="A theme by its slug.")
    async def theme(self, info: Info, slug: Slug) -> Theme | None:
        row = await info.context.loaders.theme_by_slug.load(_slug(slug))
        return Theme.from_row(row) if row else None

    @strawberry.field(description="The theme vocabulary, ordered by name.")
    async def themes(
        self,
        info: Info,
        first: First = UNSET,
        after: After = UNSET,
        last: Last = UNSET,
        before: Before = UNSET,
    ) -> Connection[Theme]:
        return await _root_connection(
            info,
            "themes",
            q.themes_query(),
            q.THEMES_ORDERING,
            Theme.from_row,
            first,
            after,
            last,
            before,
        )

    @strawberry.field(
        description="Best matches first across works, people and themes: whole names, then "
        "prefixes, then substrings; romanization-insensitive (Choe/Choi, k/g, ŏ/eo …)."
    )
    async def search(
        self,
        info: Info,
        query: Annotated[
            str, strawberry.argument(description="Words to look for, in any romanization.")
        ],
        first: Annotated[
            int | None, strawberry.argument(description="How many results at most (default 10).")
        ] = 10,
    ) -> list[SearchResult]:
        text = text_argument(query, "query")
        assert text is not None
        limit = 10 if first is None else first
        maximum = info.context.settings.max_page_size
        if limit < 0:
            raise BadUserInput("`first` must not be negative", argument="first")
        if limit > maximum:
            raise PageSizeExceeded(f"`first` may be at most {maximum}", maximum=maximum)
        loaders = info.context.loaders
        hits = await loaders.run(q.search, text, limit)
        works = await loaders.work.load_many([h.id for h in hits if h.kind == "work"])
        people = await loaders.person.load_many([h.id for h in hits if h.kind == "person"])
        themes = await loaders.theme.load_many([h.id for h in hits if h.kind == "theme"])
        found: dict[tuple[str, int], Work | Person | Theme] = {}
        for w in works:
            if w is not None:
                found[("work", w.id)] = Work.from_row(w)
        for p in people:
            if p is not None:
                found[("person", p.id)] = Person.from_row(p)
        for t in themes:
            if t is not None:
                found[("theme", t.id)] = Theme.from_row(t)
        return [found[(h.kind, h.id)] for h in hits if (h.kind, h.id) in found]
