"""Connection arguments in, connections out.

``ConnectionArguments`` declares the paging arguments (``first``, ``after``, ``last``,
``before``) once, with their descriptions, for every paged field; ``PageArguments`` carries
them to the resolver, which validates them into a database ``PageRequest`` once it knows the
list and its ordering (cursors are tied to both). ``connection_parts`` assembles edges,
cursors and pageInfo from a database page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from strawberry.annotation import StrawberryAnnotation
from strawberry.extensions.field_extension import FieldExtension
from strawberry.types.arguments import StrawberryArgument
from strawberry.types.field import StrawberryField

from db.pagination import Ordering, Page, PageRequest
from gql.context import Info
from gql.cursors import decode_cursor, encode_cursor
from gql.errors import BadUserInput, PageSizeExceeded
from gql.types.common import PageInfo
from gql.types.connection import Edge

T = TypeVar("T")

# name, type, description: in the order the schema lists them
FORWARD = (
    (
        "first",
        int,
        "Page forward: the first N items (after `after`). Default 20; more than the maximum "
        "page size (100) is an error.",
    ),
    ("after", str, "Start after this cursor (from an edge)."),
)
BACKWARD = (
    ("last", int, "Page backward: the last N items (before `before`). Not with `first`."),
    ("before", str, "End before this cursor (from an edge)."),
)


@dataclass(frozen=True, slots=True)
class PageArguments:
    """The paging arguments a connection field was given (None where not given)."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    def request(self, info: Info, list_name: str, ordering: Ordering) -> PageRequest:
        """Validate the arguments. Oversized pages are an error, never silently clamped."""
        settings = info.context.settings
        first, after, last, before = self.first, self.after, self.last, self.before
        if first is not None and last is not None:
            raise BadUserInput("Pass either `first` or `last`, not both")
        for name, value in (("first", first), ("last", last)):
            if value is not None and value < 0:
                raise BadUserInput(f"`{name}` must not be negative", argument=name)
            if value is not None and value > settings.max_page_size:
                raise PageSizeExceeded(
                    f"`{name}` may be at most {settings.max_page_size}; page through larger "
                    "lists with cursors",
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


UNPAGED = PageArguments()


class ConnectionArguments(FieldExtension):
    """Gives a connection field its paging arguments, declared here once.

    The resolver names one parameter ``page: PageArguments = UNPAGED`` where the arguments
    are to stand in the schema; the extension puts ``first``, ``after``, ``last`` and
    ``before`` (only the first two with ``backward=False``) in its place and hands the
    resolver their values in one ``PageArguments``::

        @strawberry.field(extensions=[ConnectionArguments()])
        async def people(self, info: Info, page: PageArguments = UNPAGED) -> Connection[Person]:
            request = page.request(info, "people", PEOPLE_ORDERING)

    It only reshapes arguments (``map_arguments``), so it adds no step to resolving.
    """

    PARAMETER = "page"

    def __init__(self, *, backward: bool = True) -> None:
        self.declared = FORWARD + BACKWARD if backward else FORWARD

    def apply(self, field: StrawberryField) -> None:
        names = [argument.python_name for argument in field.arguments]
        if self.PARAMETER not in names:
            if all(name in names for name, _, _ in self.declared):
                return  # applied already: the field is in a second schema
            raise TypeError(f"{field.python_name} has no `{self.PARAMETER}` parameter")
        at = names.index(self.PARAMETER)
        paging = [
            StrawberryArgument(
                python_name=name,
                graphql_name=None,
                type_annotation=StrawberryAnnotation(type_ | None),
                description=description,
            )
            for name, type_, description in self.declared
        ]
        field.arguments = [*field.arguments[:at], *paging, *field.arguments[at + 1 :]]

    def map_arguments(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        kwargs[self.PARAMETER] = PageArguments(
            **{name: kwargs.pop(name, None) for name, _, _ in self.declared}
        )
        return kwargs


def connection_parts(
    page: Page, list_name: str, ordering: Ordering, make_node: Callable[[Any], T]
) -> dict[str, Any]:
    """The edges (with their cursors) and pageInfo of a database page."""
    edges = [
        Edge(node=make_node(row), encode=partial(encode_cursor, list_name, ordering, values))
        for row, values in page.rows
    ]
    return {
        "edges": edges,
        "page_info": PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start=edges[0].encode if edges else _no_cursor,
            end=edges[-1].encode if edges else _no_cursor,
        ),
    }


def _no_cursor() -> None:
    return None
