"""``from_row`` for the types whose fields copy one database row's columns.

The constructor call is written out as source and compiled once per type, at import: building
an object then costs what a hand-written ``cls(row=row, slug=row.slug, …)`` does, with no
per-row look-up of which fields there are.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import strawberry

from gql.ids import to_global_id

T = TypeVar("T")
R = TypeVar("R")


def row_constructor(
    cls: type[T],
    row_type: type[R],
    *,
    global_id: str | None = None,
    columns: Mapping[str, str] | None = None,
) -> Callable[[R], T]:
    """``row -> cls(...)``: each field the type is built with takes the row's column of the
    same name (``columns`` names those that differ); ``row`` takes the row itself, and ``id``
    the row's global ID under the type name ``global_id``."""
    renamed = columns or {}
    arguments = []
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if not field.init:  # a resolver
            continue
        if field.name == "row":
            value = "row"
        elif field.name == "id" and global_id is not None:
            value = f"ID(to_global_id({global_id!r}, row.id))"
        else:
            value = f"row.{renamed.get(field.name, field.name)}"
        arguments.append(f"{field.name}={value}")
    namespace: dict[str, Any] = {"cls": cls, "ID": strawberry.ID, "to_global_id": to_global_id}
    exec(f"def from_row(row):\n    return cls({', '.join(arguments)})\n", namespace)
    built: Callable[[R], T] = namespace["from_row"]
    built.__qualname__ = f"{cls.__name__}.from_row"
    return built
