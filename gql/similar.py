"""``Work.similar``: other works ranked by shared people and themes, batched across works and
paged per work (see ``db.similar``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from db.similar import similar_ordering
from gql.context import Info
from gql.pagination import connection_parts, page_request
from gql.types.work_connection import WorkConnection

if TYPE_CHECKING:
    pass

LIST_NAME = "work.similar"


async def similar_works(
    info: Info, work_id: int, first: int | None, after: str | None
) -> WorkConnection:
    """One work's page of similar works; the loads of all works at this level run as one batch."""
    from gql.types.work import Work

    ordering = similar_ordering()
    request = page_request(info, LIST_NAME, ordering, first, after, None, None)
    loaders = info.context.loaders
    page = await loaders.similar_works.load((work_id, request))
    return WorkConnection(
        **connection_parts(page, LIST_NAME, ordering, Work.from_row),
        count=lambda: loaders.similar_works_count.load(work_id),
    )
