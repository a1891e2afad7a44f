"""Connection arguments in, connections out: validation of first/after/last/before and the
assembly of edges, cursors and pageInfo from a database page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from db.pagination import Ordering, Page, PageRequest
from gql.context import Info
from gql.cursors import decode_cursor, encode_cursor
from gql.errors import BadUserInput, PageSizeExceeded
from gql.inputs import given
from gql.types.common import PageInfo
from gql.types.connection import Edge

T = TypeVar("T")


def page_request(
    info: Info,
    list_name: str,
    ordering: Ordering,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> PageRequest:
    """Validate page arguments. Oversized pages are an error, never silently clamped."""
    settings = info.context.settings
    first, after, last, before = given(first), given(after), given(last), given(before)
    if first is not None and last is not None:
        raise BadUserInput("Pass either `first` or `last`, not both")
    for name, value in (("first", first), ("last", last)):
        if value is not None and value < 0:
            raise BadUserInput(f"`{name}` must not be negative", argument=name)
        if value is not None and value > settings.max_page_size:
            raise PageSizeExceeded(
                f"`{name}` may be at most {settings.max_page_size}; page through larger lists "
                "with cursors",
                argument=name,
                maximum=settings.max_page_size,
            )
    if first is None and last is None:
        if before is not None and after is None:
            last = settings.default_page_size
        else:
            first = settings.default_page_size
    return PageRequest(
        first=first,
        last=last,
        after=None if after is None else decode_cursor(after, list_name, ordering, "after"),
        before=None if before is None else decode_cursor(before, list_name, ordering, "before"),
    )


def connection_parts(
    page: Page, list_name: str, ordering: Ordering, make_node: Callable[[Any], T]
) -> dict[str, Any]:
    """The edges (with their cursors) and pageInfo of a database page."""
    edges = [
        Edge(cursor=encode_cursor(list_name, ordering, values), node=make_node(row))
        for row, values in page.rows
    ]
    return {
        "edges": edges,
        "page_info": PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    }
