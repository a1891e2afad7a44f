"""Input types: filters and orderings, converted to the db layer's plain values."""

from __future__ import annotations

from typing import Any, TypeVar

import strawberry
from strawberry import UNSET

from db import queries as q
from db import rules
from db.enums import SortDirection as SortDirectionEnum
from gql.errors import BadUserInput
from gql.types.common import CreditRole, SortDirection, WorkKind, WorkOrderField

MAX_TEXT_ARGUMENT = 200
T = TypeVar("T")


def given(value: Any) -> Any:
    """An omitted argument (UNSET, so the SDL shows no default) reads as None."""
    return None if value is UNSET else value


def text_argument(value: str | None, name: str, *, limit: int = MAX_TEXT_ARGUMENT) -> str | None:
    """A text argument checked by ``db.rules.argument`` (nothing the databases cannot store or
    compare: no NUL, lone surrogates or control characters; NFC; bounded length), or
    BAD_USER_INPUT."""
    value = given(value)
    if value is None:
        return None
    checked = rules.argument(value, limit)
    if isinstance(checked, rules.Problem):
        raise BadUserInput(f"`{name}` {checked.message}", argument=name)
    return checked


@strawberry.input(description="One key to order works by.")
class WorkOrder:
    field: WorkOrderField = strawberry.field(description="What to order by.")
    direction: SortDirection = strawberry.field(
        default=SortDirectionEnum.ASC, description="Which way (default ASC)."
    )

    def to_db(self) -> q.WorkOrder:
        return q.WorkOrder(self.field, self.direction)


def work_orders(
    order_by: list[WorkOrder] | None, default: tuple[q.WorkOrder, ...]
) -> tuple[q.WorkOrder, ...]:
    order_by = given(order_by)
    if not order_by:
        return default
    if len(order_by) > len(WorkOrderField):
        raise BadUserInput("`orderBy` names a field more than once", argument="orderBy")
    orders = tuple(o.to_db() for o in order_by)
    if len({o.field for o in orders}) != len(orders):
        raise BadUserInput("`orderBy` names a field more than once", argument="orderBy")
    return orders


strawberry.enum(q.Match, description="How a list of values in a filter combines.")

MAX_FILTER_VALUES = 50


def _values(value: Any, name: str) -> tuple[Any, ...] | None:
    """A list argument as a tuple (hashable, for batching); bounded, text checked."""
    value = given(value)
    if value is None:
        return None
    if len(value) > MAX_FILTER_VALUES:
        raise BadUserInput(f"`{name}` may list at most {MAX_FILTER_VALUES} values", argument=name)
    return tuple(text_argument(v, name) if isinstance(v, str) else v for v in dict.fromkeys(value))


@strawberry.input(description="Narrows a list of works; all given conditions must hold.")
class WorkFilter:
    kind: WorkKind | None = strawberry.field(
        default=UNSET, description="Only films or only series."
    )
    kinds: list[WorkKind] | None = strawberry.field(
        default=UNSET, description="Only works of any of these kinds."
    )
    year_from: int | None = strawberry.field(default=UNSET, description="Earliest year, inclusive.")
    year_to: int | None = strawberry.field(default=UNSET, description="Latest year, inclusive.")
    director: str | None = strawberry.field(default=UNSET, description="A director's person slug.")
    directors: list[str] | None = strawberry.field(
        default=UNSET, description="Works directed by any of these people (slugs)."
    )
    theme: str | None = strawberry.field(default=UNSET, description="A theme's slug.")
    themes: list[str] | None = strawberry.field(
        default=UNSET, description="Works tagged with these themes (slugs); see `themesMatch`."
    )
    themes_match: q.Match = strawberry.field(
        default=q.Match.ANY, description="ANY (default): at least one of `themes`; ALL: every one."
    )
    has_disputes: bool | None = strawberry.field(
        default=UNSET,
        description="true: only works with a statement references dispute; false: only without.",
    )
    search: str | None = strawberry.field(
        default=UNSET,
        description="Matches titles, original (Hangul) and alternative titles; insensitive to "
        "case, diacritics, apostrophes, hyphens, spacing and romanization variants.",
    )

    def to_db(self) -> q.WorkFilter:
        return q.WorkFilter(
            kind=given(self.kind),
            kinds=_values(self.kinds, "filter.kinds"),
            year_from=given(self.year_from),
            year_to=given(self.year_to),
            director=text_argument(self.director, "filter.director"),
            directors=_values(self.directors, "filter.directors"),
            theme=text_argument(self.theme, "filter.theme"),
            themes=_values(self.themes, "filter.themes"),
            themes_match=self.themes_match,
            has_disputes=given(self.has_disputes),
            search=text_argument(self.search, "filter.search"),
        )


@strawberry.input(description="Narrows a list of people; all given conditions must hold.")
class PersonFilter:
    role: CreditRole | None = strawberry.field(
        default=UNSET, description="People with at least one credit in this role."
    )
    search: str | None = strawberry.field(
        default=UNSET,
        description="Matches names, original (Hangul) and alternative names; "
        "romanization-insensitive.",
    )

    def to_db(self) -> q.PersonFilter:
        return q.PersonFilter(
            role=given(self.role), search=text_argument(self.search, "filter.search")
        )
