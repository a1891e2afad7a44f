"""``Work.similar``: other works ranked by shared people and themes, batched across works and
paged per work (see ``db.similar``)."""

from __future__ import annotations

from db.similar import similar_ordering
from gql.context import Info
from gql.pagination import PageArguments, connection_parts
from gql.types.work_connection import WorkConnection

LIST_NAME = "work.similar"


async def similar_works(info: Info, work_id: int, paging: PageArguments) -> WorkConnection:
    """One work's page of similar works; the loads of all works at this level run as one batch."""
    from gql.types.work import Work

    ordering = similar_ordering()
    request = paging.request(info, LIST_NAME, ordering)
    loaders = info.context.loaders
    page = await loaders.similar_works.load((work_id, request))
    return WorkConnection(
        **connection_parts(page, LIST_NAME, ordering, Work.from_row),
        count=lambda: loaders.similar_works_count.load(work_id),
    )
