"""A change to the catalog, as the audit trail records it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

import strawberry
from strawberry.scalars import JSON

from db import models as m
from gql.types.rows import row_constructor


@strawberry.type(description="One change to the catalog: who made it, when, and what it did.")
class Change:
    row: strawberry.Private[m.Change]
    from_row: ClassVar[Callable[[m.Change], Change]]
    at: datetime = strawberry.field(description="When the change was made (UTC).")
    actor: str = strawberry.field(description="The name of the token that made it.")
    operation: str = strawberry.field(description="The mutation, e.g. `updateWork`.")
    subject_type: str = strawberry.field(description="What was changed: `work`, …")
    subject_slug: str = strawberry.field(description="The slug of what was changed.")
    source: str | None = strawberry.field(description="The key of the source it cites, if any.")

    @strawberry.field(description="The record before the change (null: it was created).")
    def before(self) -> JSON | None:
        return _load(self.row.before)  # type: ignore[no-any-return]

    @strawberry.field(description="The record after the change (null: it was deleted).")
    def after(self) -> JSON | None:
        return _load(self.row.after)  # type: ignore[no-any-return]


Change.from_row = row_constructor(Change, m.Change, columns={"source": "source_key"})


def _load(text: str | None) -> Any:
    return json.loads(text) if text is not None else None
