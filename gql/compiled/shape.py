"""SQL's JSON arrays -> the response's objects, keyed in selection order.

Also computes what the SQL leaves to Python: global IDs (``gql.ids``), cursors
(``gql.cursors``), ``hasNextPage`` (the page holds one row more than asked when a next page
exists), ``__typename``, empty lists for aggregates over no rows (PostgreSQL's ``json_agg``
answers NULL there), and the romanizations generated from titles and names (``_forms``).
"""

from __future__ import annotations

import enum
import functools
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any, TypeAlias

import orjson

from db import search as s
from db.enums import (
    DatePrecision,
    ExternalSystem,
    PartUnit,
    Qualifier,
    RomanizationSystem,
    TitleKind,
)
from db.external_ids import Owner, external_url
from db.romanization import romanize, romanize_name
from db.rules import part_label, partial_date_text
from db.statements import FIELD_OF_KIND, FormRow, forms_of_fields, generated_forms
from gql.compiled.plan import (
    Attributions,
    Audience,
    Children,
    Column,
    Computed,
    Connection,
    Cursor,
    Decoded,
    EdgeNode,
    Edges,
    ExternalUrl,
    FacetList,
    Facets,
    Field,
    Forms,
    FormSources,
    GlobalId,
    HitNode,
    HitScore,
    NodeList,
    Nodes,
    Obj,
    PageInfo,
    Ref,
    SearchRoot,
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
    """A list's elements in order; each leads with its ordinal, still there (values follow
    from index 1)."""
    rows: list[list[Any]] = value or []
    return sorted(rows, key=_ordinal) if len(rows) > 1 else rows


_ordinal = itemgetter(0)

Builder: TypeAlias = Callable[[list[Any], int], dict[str, Any]]


def obj(plan: Obj, row: list[Any], start: int = 0) -> dict[str, Any]:
    """The object of ``plan`` from its values, ``row[start:start + plan.width]``."""
    return builder(plan)(row, start)


def builder(plan: Obj) -> Builder:
    """The function that builds ``plan``'s objects (made once per plan, kept with it)."""
    built: Builder | None = plan.derived.get("builder")
    if built is None:
        built = plan.derived["builder"] = _compile(plan)
    return built


def _compile(plan: Obj) -> Builder:
    """A function returning the object as one dict display, for example
    ``{'title': row[start + 0], 'themes': convert_1(row[start + 1])}``: one expression per
    object instead of a test per field, because a nested page is thousands of objects
    (bench/README.md, "Shaping the compiled answer").

    Generated source, as ``dataclasses`` and ``collections.namedtuple`` generate theirs: the
    keys are GraphQL names (``[_A-Za-z][_0-9A-Za-z]*``, enforced by the parser), written
    with ``repr``; values come only from ``row`` or from the converters passed in."""
    namespace: dict[str, Any] = {}
    items: list[str] = []
    index = 0
    for number, (key, field) in enumerate(plan.fields):
        if isinstance(field, Typename):
            items.append(f"{key!r}: {field.name!r}")
            continue
        value = f"row[start + {index}]"
        index += 1
        if isinstance(field, Column | Audience):
            items.append(f"{key!r}: {value}")
        else:
            name = f"convert_{number}"
            namespace[name] = _converter(plan, field)
            items.append(f"{key!r}: {name}({value})")
    source = "def build(row, start):\n    return {" + ", ".join(items) + "}\n"
    exec(compile(source, f"<shape of {plan.type_name}>", "exec"), namespace)
    built: Builder = namespace["build"]
    return built


def _converter(plan: Obj, field: Field) -> Callable[[Any], Any]:
    """What turns a field's value from SQL into the response's."""
    if isinstance(field, GlobalId):
        return functools.partial(to_global_id, plan.type_name)
    if isinstance(field, Strings):
        return _strings
    if isinstance(field, Forms):
        return functools.partial(_forms, field)
    if isinstance(field, Children | Attributions | FacetList | FormSources):
        build = builder(field.node)

        def children(value: list[list[Any]] | None) -> list[dict[str, Any]]:
            # _elements inlined: a nested page converts thousands of these
            if not value:
                return []
            return [
                build(element, 1)
                for element in (sorted(value, key=_ordinal) if len(value) > 1 else value)
            ]

        return children
    if isinstance(field, Ref):
        build_one = builder(field.node)
        return lambda value: None if value is None else build_one(value, 0)
    if isinstance(field, ExternalUrl):
        return functools.partial(_url, Owner(field.owner))
    if isinstance(field, Computed):
        return COMPUTED[field.kind]
    if isinstance(field, Decoded):
        return DECODERS[field.kind]
    assert isinstance(field, Connection)
    return functools.partial(connection, field)


def _label(value: list[Any]) -> str:
    unit, first, last = value
    return part_label(PartUnit(unit), first, last)


def _precision(value: list[Any]) -> str:
    """As ``gql.types.structure.PartialDate.precision``."""
    _, month, day = value
    if month is None:
        return DatePrecision.YEAR.name
    return (DatePrecision.MONTH if day is None else DatePrecision.DAY).name


def _text(value: list[Any]) -> str:
    year, month, day = value
    return partial_date_text(year, month, day)


COMPUTED: dict[str, Callable[[Any], Any]] = {
    "label": _label,
    "precision": _precision,
    "text": _text,
}


def _timestamp(value: str) -> str:
    """As the resolvers' ``datetime`` serializes (``isoformat``): naive on SQLite, UTC with
    ``+00:00`` on PostgreSQL (``gql.compiled.sql.Compiler.decoded``)."""
    return datetime.fromisoformat(value).isoformat()


def _json(value: str | None) -> Any:
    """As ``gql.types.change`` loads it (``json``, not orjson: the same numbers)."""
    return None if value is None else json.loads(value)


DECODERS: dict[str, Callable[[Any], Any]] = {"timestamp": _timestamp, "json": _json}


def _url(owner: Owner, value: list[str]) -> str:
    system, identifier = value
    return external_url(ExternalSystem(system), identifier, owner)


ROMANIZERS: dict[str, Callable[[str], dict[str, str]]] = {
    "work_titles": romanize,
    "person_names": romanize_name,
}


def _forms(plan: Forms, value: list[Any]) -> list[dict[str, Any]]:
    """A record's titles or names, as ``gql.types.titles`` gives them: its stated forms, or
    its fields' forms without any; then the romanizations generated from them
    (``db.statements.generated_forms``), with no sources."""
    stated, of_fields = value
    forms: list[tuple[FormRow, list[Any]]] = []  # each form and its sources, per FormSources
    for element in _elements(stated):
        _, text, kind, language, script, romanization, qualifier, *sources = element
        row = FormRow(
            text=text,
            kind=TitleKind(kind),
            language=language,
            script=script,
            romanization=None if romanization is None else RomanizationSystem(romanization),
            qualifier=None if qualifier is None else Qualifier(qualifier),
        )
        forms.append((row, sources))
    if not forms:
        main, original, alternatives, *cited = of_fields
        for row in forms_of_fields(main, original, _strings(alternatives)):
            forms.append((row, [by_field[FIELD_OF_KIND[row.kind]] for by_field in cited]))
    none = [None] * len(plan.sources)
    generated = generated_forms([row for row, _ in forms], ROMANIZERS[plan.kind])
    build = builder(plan.node)
    return [
        build(_form_values(plan.node, row, sources), 0)
        for row, sources in [*forms, *((row, none) for row in generated)]
    ]


def _form_values(node: Obj, row: FormRow, sources: list[Any]) -> list[Any]:
    """A form's values in its selection's order (``Forms``)."""
    values: list[Any] = []
    given = iter(sources)
    for _, field in node.fields:
        if isinstance(field, FormSources):
            values.append(next(given))
        elif isinstance(field, Column):
            value = getattr(row, field.column)
            values.append(value.value if isinstance(value, enum.Enum) else value)
    return values


def nodes(plan: NodeList, value: Any) -> list[dict[str, Any] | None]:
    """``nodes(ids:)``: each ID's object (its values led by its id) or null, in order."""
    return [
        None if element is None else obj(node, element, 1)
        for node, element in zip(plan.nodes, value or [], strict=True)
    ]


def _strings(value: Any) -> list[str]:
    return [element[1] for element in _elements(value)]


def connection(plan: Connection, value: Any) -> dict[str, Any]:
    parts = iter(value)
    rows = _elements(next(parts)) if plan.needs_page else []
    count = next(parts) if plan.needs_count else None
    behind = bool(next(parts)) if plan.needs_previous else False  # SQLite: 0/1
    facets = [obj(selection, next(parts)) for selection in plan.facets] if plan.facets else []
    more = len(rows) > plan.first  # beyond the page, in its scanning direction
    rows = rows[: plan.first]
    if plan.backward:  # read from the end: shown in the list's order
        rows.reverse()
        has_next, has_previous = behind, more
    else:
        has_next, has_previous = more, behind
    builds, start = _builds(plan)
    # Each selection's objects, one list per selection: a nested page has thousands of rows,
    # and a list per row cost more than the objects' own building (bench/README.md).
    objects = [[build(row, at) for row in rows] for build, at in builds]
    cursors: list[str] = []
    if plan.needs_keys:
        cursors = [encode_cursor(plan.list_name, plan.ordering, tuple(row[start:])) for row in rows]
    out: dict[str, Any] = {}
    for key, field in plan.fields:
        if isinstance(field, Typename):
            out[key] = field.name
        elif isinstance(field, TotalCount):
            out[key] = count
        elif isinstance(field, Nodes):
            out[key] = objects[field.index]  # its own: each selection is one field's
        elif isinstance(field, Edges):
            out[key] = [_edge(field, objects, cursors, i) for i in range(len(rows))]
        elif isinstance(field, Facets):
            out[key] = facets[field.index]
        else:
            out[key] = _page_info(field, has_next, has_previous, cursors)
    return out


def _builds(plan: Connection) -> tuple[list[tuple[Builder, int]], int]:
    """Each node selection's builder and where its values start in a row; where the row's
    sort-key values start (made once per plan, kept with it)."""
    made: tuple[list[tuple[Builder, int]], int] | None = plan.derived.get("builds")
    if made is None:
        builds: list[tuple[Builder, int]] = []
        start = 1
        for node in plan.nodes:
            builds.append((builder(node), start))
            start += node.width
        made = plan.derived["builds"] = (builds, start)
    return made


def _edge(
    plan: Edges, objects: list[list[dict[str, Any]]], cursors: list[str], index: int
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, field in plan.fields:
        if isinstance(field, Typename):
            out[key] = field.name
        elif isinstance(field, Cursor):
            out[key] = cursors[index]
        else:
            assert isinstance(field, EdgeNode)
            out[key] = objects[field.index][index]
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


def search(plan: SearchRoot, value: Any) -> list[dict[str, Any]]:
    """``search``'s records or ``searchHits``' hits from each kind's rows (``Compiler.
    root_search``), ranked by ``db.search.best_hits`` as ``db.search.search`` ranks them.
    Every kind's rows are picked by it (``_best``): for a statement whose rows need no
    picking (at most ``first`` distinct rows) that keeps them all, as ``search`` does."""
    kinds = [(kind, True, rows or []) for kind, rows in zip(s.KINDS, value or (), strict=False)]
    found: list[dict[str, Any]] = []
    for hit, row in s.best_hits(kinds, plan.first):
        index = s.KINDS.index(hit.kind)
        nodes: list[dict[str, Any]] = []
        start = 4  # past id, rank, similarity and name key
        for selection in plan.nodes:
            nodes.append(obj(selection[index], list(row), start))
            start += selection[index].width
        if not plan.hits:
            found.append(nodes[0])
            continue
        out: dict[str, Any] = {}
        for key, field in plan.fields:
            if isinstance(field, Typename):
                out[key] = field.name
            elif isinstance(field, HitNode):
                out[key] = nodes[field.index]
            elif isinstance(field, HitScore):
                out[key] = hit.score
            else:
                out[key] = s.best_name(plan.text, _names(row[start:]))
        found.append(out)
    return found


def _names(value: Sequence[Any]) -> list[str]:
    """A found record's names as ``gql.search.SearchHit.matched_text`` lists them."""
    name, original, alternatives = value
    return [name, *([original] if original else []), *_strings(alternatives)]
