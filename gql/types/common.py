"""Types shared by works and people: enums, sources, disputes, attributions, the Node interface."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry

from db import models as m
from db.enums import (
    CreditRole,
    Qualifier,
    RomanizationSystem,
    SortDirection,
    TitleKind,
    WorkKind,
    WorkOrderField,
    WorkRelationType,
)

__all__ = [
    "Attribution",
    "CreditRole",
    "Node",
    "PageInfo",
    "Qualifier",
    "RomanizationSystem",
    "SortDirection",
    "Source",
    "TitleKind",
    "WorkKind",
    "WorkOrderField",
    "WorkRelationType",
]

# The db layer's enums become GraphQL enums as they are (strawberry.enum registers in place).
for _enum, _description in (
    (WorkKind, "Whether a work is a film or a series."),
    (CreditRole, "A person's part in a work."),
    (WorkRelationType, 'How a work relates to another: "this work <type> that work".'),
    (SortDirection, "Ascending or descending order."),
    (WorkOrderField, "What works can be ordered by."),
    (
        Qualifier,
        'How a reference hedges what it states: PROBABLY ("probably 네거리 초병"), '
        'SOMETIMES ("some say 1968"), UNCONFIRMED (a closest match, not confirmed).',
    ),
    (
        TitleKind,
        "What a title or name form is: the MAIN one the catalog goes by, the ORIGINAL one "
        "(original language and script), an ALTERNATIVE, a TRANSLATION of its meaning or a "
        "TRANSLITERATION of its sounds.",
    ),
    (
        RomanizationSystem,
        "How a Latin-script form of Korean was romanized: McCune–Reischauer (MR), Revised "
        "Romanization (RR), or another or no system (OTHER).",
    ),
):
    strawberry.enum(_enum, description=_description)


@strawberry.interface(description="An object with a global ID, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID = strawberry.field(
        description="Opaque global ID; round-trips through `node` and `nodes`."
    )


def node_id() -> Any:
    """The ``id`` field of a record: its ``Node`` ID."""
    return strawberry.field(description="Opaque global ID (see `node`).")


def record_version() -> Any:
    """The ``version`` field of a record curators change."""
    return strawberry.field(
        description="Increases with every change; an update names the version it read."
    )


@strawberry.type(description="Where a statement comes from: the seed document or a reference page.")
class Source:
    key: str = strawberry.field(description="Stable key of the source within the catalog.")
    title: str = strawberry.field(
        description="The seed document's file name, or a reference page's title."
    )
    url: str | None = strawberry.field(description="The reference's address; null for the seed.")

    @classmethod
    def from_row(cls, row: m.Source) -> Source:
        return cls(key=row.key, title=row.title, url=row.url)


@strawberry.type(
    description="The sources that state one field of a record (field-level provenance)."
)
class Attribution:
    field: str = strawberry.field(
        description='The field, as named in the API, e.g. "originalTitle".'
    )
    sources: list[Source] = strawberry.field(description="The sources stating it.")

    @classmethod
    def of_record(cls, rows: list[tuple[str, list[m.Source]]]) -> list[Attribution]:
        """A record's attributions from its loaded ``(field, sources)`` pairs."""
        return [
            cls(field=name, sources=[Source.from_row(s) for s in sources]) for name, sources in rows
        ]


@strawberry.type(description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether more items follow this page.")
    has_previous_page: bool = strawberry.field(description="Whether items precede this page.")
    # the cursors are encoded when asked for (``Edge.cursor``)
    start: strawberry.Private[Callable[[], str | None]]
    end: strawberry.Private[Callable[[], str | None]]

    @strawberry.field(description="Cursor of the page's first item.")
    def start_cursor(self) -> str | None:
        return self.start()

    @strawberry.field(description="Cursor of the page's last item.")
    def end_cursor(self) -> str | None:
        return self.end()
