"""Type aliases shared across the data layer."""

from __future__ import annotations

from typing import Any, TypeAlias

from sqlalchemy import ColumnElement
from sqlalchemy.orm import QueryableAttribute

# A column expression: a Core expression or a mapped attribute such as ``Work.title_key``.
SqlExpression: TypeAlias = ColumnElement[Any] | QueryableAttribute[Any]
