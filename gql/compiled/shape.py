"""SQL's JSON arrays -> the response's objects, keyed in selection order.

Also computes what the SQL leaves to Python: global IDs (``gql.ids``), cursors
(``gql.cursors``), ``hasNextPage`` (the page holds one row more than asked when a next page
exists), ``__typename`` and empty lists for aggregates over no rows (PostgreSQL's
``json_agg`` answers NULL there).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from gql.compiled.plan import (
    Children,
    Column,
    Connection,
    Cursor,
    EdgeNode,
    Edges,
    GlobalId,
    Nodes,
    Obj,
    PageInfo,
    Strings,
    TotalCount,
    Typename,
)
from gql.cursors import encode_cursor
from gql.ids import to_global_id


def load(value: Any) -> Any:
    """A JSON value as the driver returns it (text, or already decoded)."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _elements(value: Any) -> list[list[Any]]:
    """A list's elements in order (each leads with its ordinal), without the ordinals."""
    rows: list[list[Any]] = value or []
    return [row[1:] for row in sorted(rows, key=lambda row: row[0])]


def obj(plan: Obj, values: Iterator[Any]) -> dict[str, Any]:
    """The object of ``plan`` from its values (consumed from ``values``, in plan order)."""
    out: dict[str, Any] = {}
    for key, field in plan.fields:
        if isinstance(field, Typename):
            out[key] = field.name
        elif isinstance(field, Column):
            out[key] = next(values)
        elif isinstance(field, GlobalId):
            out[key] = to_global_id(plan.type_name, next(values))
        elif isinstance(field, Strings):
            out[key] = [element[0] for element in _elements(next(values))]
        elif isinstance(field, Children):
            out[key] = [obj(field.node, iter(element)) for element in _elements(next(values))]
        else:
            out[key] = connection(field, next(values))
    return out


def connection(plan: Connection, value: Any) -> dict[str, Any]:
    parts = iter(value)
    rows = _elements(next(parts)) if plan.needs_page else []
    count = next(parts) if plan.needs_count else None
    has_previous = bool(next(parts)) if plan.needs_previous else False  # SQLite: 0/1
    has_next = len(rows) > plan.first
    rows = rows[: plan.first]
    nodes: list[list[dict[str, Any]]] = []
    cursors: list[str] = []
    needs_keys = plan.needs_keys
    for row in rows:
        values = iter(row)
        nodes.append([obj(node, values) for node in plan.nodes])
        if needs_keys:
            cursors.append(encode_cursor(plan.list_name, plan.ordering, tuple(values)))
    out: dict[str, Any] = {}
    for key, field in plan.fields:
        if isinstance(field, Typename):
            out[key] = field.name
        elif isinstance(field, TotalCount):
            out[key] = count
        elif isinstance(field, Nodes):
            out[key] = [row_nodes[field.index] for row_nodes in nodes]
        elif isinstance(field, Edges):
            out[key] = [_edge(field, row_nodes, cursors, i) for i, row_nodes in enumerate(nodes)]
        else:
            out[key] = _page_info(field, has_next, has_previous, cursors)
    return out


def _edge(
    plan: Edges, row_nodes: list[dict[str, Any]], cursors: list[str], index: int
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, field in plan.fields:
        if isinstance(field, Typename):
            out[key] = field.name
        elif isinstance(field, Cursor):
            out[key] = cursors[index]
        else:
            assert isinstance(field, EdgeNode)
            out[key] = row_nodes[field.index]
    return out


def _page_info(
    plan: PageInfo, has_next: bool, has_previous: bool, cursors: list[str]
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "hasNextPage": has_next,
        "hasPreviousPage": has_previous,
        "startCursor": cursors[0] if cursors else None,
        "endCursor": cursors[-1] if cursors else None,
        "__typename": "PageInfo",
    }
    return {key: values[name] for key, name in plan.fields}
