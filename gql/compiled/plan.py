"""Selection -> plan: what each root field of a query operation asks for, in response order.

The planner walks the operation with graphql-core's own field collection (the executor's:
aliases, fragments, inline fragments, ``@skip``/``@include`` and field merging come out
exactly as execution would see them) and coerces arguments with graphql-core too. Argument
checks reuse the resolvers' own functions (``gql.inputs``): where a resolver would answer an
error — or wherever the plan meets anything it does not cover — planning raises
``Unsupported`` and the operation falls back to the resolver path. The compiled path never
produces an error of its own.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    get_argument_values,
    get_operation_ast,
    get_variable_values,
)
from graphql.execution.collect_fields import (
    FieldDetails,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import VariableValues

from db import queries as q
from db.enums import CreditRole
from db.enums import WorkOrderField as OrderField
from db.pagination import Ordering
from gql.cursors import decode_cursor
from gql.errors import ApiError
from gql.inputs import PersonFilter, WorkFilter, WorkOrder, text_argument, work_orders

TITLE_ORDER = (q.WorkOrder(OrderField.TITLE),)
MAX_VALUES = 90  # values per JSON array (PostgreSQL functions take at most 100 arguments)


class Unsupported(Exception):
    """The compiler does not cover this operation: the resolver path answers it."""


# -- the plan ----------------------------------------------------------------------------------

Table = Literal["works", "people", "themes"]
TABLES: dict[str, Table] = {"Work": "works", "Person": "people", "Theme": "themes"}


@dataclass(frozen=True)
class Typename:
    """A constant: the object's type name."""

    name: str


@dataclass(frozen=True)
class Column:
    """A column of the object's row, as it is stored (NULL -> null)."""

    column: str


@dataclass(frozen=True)
class GlobalId:
    """The row's id, encoded as a global ID in Python."""


@dataclass(frozen=True)
class Strings:
    """A list of strings kept in a child table in ``position`` order."""

    kind: Literal["alternative_titles", "alternative_names"]


@dataclass(frozen=True)
class Children:
    """A list of related objects: a work's directors (billing order) or themes."""

    kind: Literal["directors", "themes"]
    node: Obj


@dataclass(frozen=True)
class Obj:
    """An object's selection: response keys in order, each with what it reads."""

    type_name: str
    fields: tuple[tuple[str, Field], ...]
    # What gql.compiled.shape builds from this selection once (its object builder), kept
    # with it; not part of the plan's value.
    derived: dict[str, Any] = dataclasses.field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    @property
    def table(self) -> Table:
        return TABLES[self.type_name]

    @functools.cached_property
    def width(self) -> int:
        """How many values the object's JSON array holds: one per field but ``__typename``."""
        return sum(not isinstance(field, Typename) for _, field in self.fields)


@dataclass(frozen=True)
class WorkList:
    """Works: all of them (``parent`` None) or one person's or theme's."""

    parent: q.Parent | None
    role: CreditRole | None
    filter: q.WorkFilter | None
    orders: tuple[q.WorkOrder, ...]


@dataclass(frozen=True)
class PersonList:
    role: CreditRole | None


@dataclass(frozen=True)
class ThemeList:
    pass


ListSource: TypeAlias = WorkList | PersonList | ThemeList


@dataclass(frozen=True)
class TotalCount:
    pass


@dataclass(frozen=True)
class Nodes:
    index: int  # into Connection.nodes


@dataclass(frozen=True)
class Cursor:
    pass


@dataclass(frozen=True)
class EdgeNode:
    index: int  # into Connection.nodes


EdgeField: TypeAlias = Typename | Cursor | EdgeNode
PageInfoField = Literal["hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"]


@dataclass(frozen=True)
class Edges:
    fields: tuple[tuple[str, EdgeField], ...]


@dataclass(frozen=True)
class PageInfo:
    fields: tuple[tuple[str, PageInfoField], ...]


ConnectionField: TypeAlias = Typename | TotalCount | Nodes | Edges | PageInfo


@dataclass(frozen=True)
class Connection:
    """A page of a list (forward, from its start: no cursor) and what is asked of it."""

    list_name: str  # as the cursors name it: "works", "person.works" …
    source: ListSource
    first: int
    fields: tuple[tuple[str, ConnectionField], ...]
    nodes: tuple[Obj, ...]  # each `nodes` / `edges.node` selection, in order
    after: tuple[Any, ...] | None = None  # the decoded `after` cursor: the page starts past it

    @functools.cached_property
    def needs_keys(self) -> bool:
        """Whether any cursor is asked for (the rows then carry their sort-key values)."""
        for _, field in self.fields:
            if isinstance(field, Edges) and any(isinstance(f, Cursor) for _, f in field.fields):
                return True
            if isinstance(field, PageInfo) and any(
                f in ("startCursor", "endCursor") for _, f in field.fields
            ):
                return True
        return False

    @functools.cached_property
    def needs_page(self) -> bool:
        return (
            bool(self.nodes)
            or self.needs_keys
            or any(
                isinstance(field, PageInfo) and any(f == "hasNextPage" for _, f in field.fields)
                for _, field in self.fields
            )
        )

    @functools.cached_property
    def needs_next(self) -> bool:
        """Whether ``hasNextPage`` is asked for (the page then reads one row more)."""
        return any(
            isinstance(field, PageInfo) and "hasNextPage" in (f for _, f in field.fields)
            for _, field in self.fields
        )

    @functools.cached_property
    def needs_previous(self) -> bool:
        """Whether ``hasPreviousPage`` is asked for past a cursor (one probe: true when rows
        lie at or before the cursor; from the list's start it is simply false)."""
        return self.after is not None and any(
            isinstance(field, PageInfo) and "hasPreviousPage" in (f for _, f in field.fields)
            for _, field in self.fields
        )

    @functools.cached_property
    def needs_count(self) -> bool:
        return any(isinstance(field, TotalCount) for _, field in self.fields)

    @functools.cached_property
    def ordering(self) -> Ordering:
        return ordering_of(self.source)


def ordering_of(source: ListSource) -> Ordering:
    """The order of a list (as the resolvers order it)."""
    if isinstance(source, WorkList):
        return q.work_ordering(source.orders)
    if isinstance(source, PersonList):
        return q.PEOPLE_ORDERING
    return q.THEMES_ORDERING


Field: TypeAlias = Typename | Column | GlobalId | Strings | Children | Connection


@dataclass(frozen=True)
class RootObject:
    """``work(slug:)``, ``person(slug:)``, ``theme(slug:)``: one row or null."""

    slug: str
    node: Obj


Root: TypeAlias = Typename | RootObject | Connection


@dataclass(frozen=True)
class Plan:
    roots: tuple[tuple[str, Root], ...]

    @functools.cached_property
    def reads(self) -> bool:
        """Whether any root field reads the database (not only ``__typename``s)."""
        return any(
            isinstance(root, RootObject)
            or (isinstance(root, Connection) and (root.needs_page or root.needs_count))
            for _, root in self.roots
        )


# -- planning ----------------------------------------------------------------------------------

SCALARS: dict[str, dict[str, str]] = {
    "Work": {
        "slug": "slug",
        "title": "title",
        "originalTitle": "original_title",
        "kind": "kind",
        "year": "year",
        "synopsis": "synopsis",
    },
    "Person": {
        "slug": "slug",
        "name": "name",
        "originalName": "original_name",
        "biography": "biography",
    },
    "Theme": {"slug": "slug", "name": "name", "description": "description"},
}
PAGE_INFO_FIELDS = ("hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename")
WORK_FILTER_NAMES = {
    "kind": "kind",
    "kinds": "kinds",
    "yearFrom": "year_from",
    "yearTo": "year_to",
    "director": "director",
    "directors": "directors",
    "theme": "theme",
    "themes": "themes",
    "themesMatch": "themes_match",
    "hasDisputes": "has_disputes",
    "search": "search",
}

Group: TypeAlias = list[FieldDetails]


@dataclass
class Planner:
    schema: GraphQLSchema
    fragments: dict[str, FragmentDetails]
    variables: VariableValues
    operation: OperationDefinitionNode
    default_page_size: int
    max_page_size: int

    def object_type(self, name: str) -> GraphQLObjectType:
        found = self.schema.get_type(name)
        if not isinstance(found, GraphQLObjectType):
            raise Unsupported(name)
        return found

    def _check(self, grouped: dict[str, Group], new_defers: list[Any]) -> list[tuple[str, Group]]:
        if new_defers:
            raise Unsupported("@defer")
        for group in grouped.values():
            for details in group:
                if details.defer_usage is not None or details.fragment_variable_values:
                    raise Unsupported("@defer or fragment variables")
        return list(grouped.items())

    def subfields(self, type_name: str, group: Group) -> list[tuple[str, Group]]:
        collected = collect_subfields(
            self.schema,
            self.fragments,
            self.variables,
            self.operation,
            self.object_type(type_name),
            group,
        )
        return self._check(collected.grouped_field_set, collected.new_defer_usages)

    def root_fields(self) -> list[tuple[str, Group]]:
        query = self.schema.query_type
        if query is None:
            raise Unsupported("no query type")
        collected = collect_fields(
            self.schema, self.fragments, self.variables, query, self.operation
        )
        return self._check(collected.grouped_field_set, collected.new_defer_usages)

    def arguments(self, type_name: str, group: Group) -> dict[str, Any]:
        details = group[0]  # validation: every node of a merged field has the same arguments
        field_def = self.object_type(type_name).fields.get(details.node.name.value)
        if field_def is None:
            raise Unsupported(details.node.name.value)
        try:
            return get_argument_values(
                field_def, details.node, self.variables, details.fragment_variable_values
            )
        except GraphQLError as error:
            raise Unsupported("arguments") from error

    # -- fields

    def plan(self) -> Plan:
        roots: list[tuple[str, Root]] = []
        query_name = self.schema.query_type.name if self.schema.query_type else "Query"
        for key, group in self.root_fields():
            name = group[0].node.name.value
            if name == "__typename":
                roots.append((key, Typename(query_name)))
            elif name in ("work", "person", "theme"):
                type_name = {"work": "Work", "person": "Person", "theme": "Theme"}[name]
                slug = self.arguments(query_name, group)["slug"]
                try:
                    checked = text_argument(slug, "slug")
                except ApiError as error:
                    raise Unsupported("slug") from error
                if not isinstance(checked, str):
                    raise Unsupported("slug")
                roots.append((key, RootObject(checked, self.obj(type_name, group))))
            elif name in ("works", "people", "directors", "themes"):
                roots.append((key, self.root_list(query_name, name, group)))
            else:
                raise Unsupported(name)
        return Plan(tuple(roots))

    def root_list(self, query_name: str, name: str, group: Group) -> Connection:
        args = self.arguments(query_name, group)
        first = self.page_size(args)
        source: ListSource
        if name == "works":
            orders = self.orders(args.get("orderBy"), TITLE_ORDER)
            source = WorkList(None, None, self.work_filter(args.get("filter")), orders)
            return self.connection("WorkConnection", "Work", name, source, first, group, args)
        if name == "themes":
            source = ThemeList()
            return self.connection("ThemeConnection", "Theme", name, source, first, group, args)
        role: CreditRole | None = CreditRole.DIRECTOR
        if name == "people":
            role = self.person_filter_role(args.get("filter"))
        source = PersonList(role)
        return self.connection("PersonConnection", "Person", name, source, first, group, args)

    def obj(self, type_name: str, group: Group) -> Obj:
        fields: list[tuple[str, Field]] = []
        for key, subgroup in self.subfields(type_name, group):
            fields.append((key, self.field(type_name, subgroup)))
        return Obj(type_name, tuple(fields))

    def field(self, type_name: str, group: Group) -> Field:
        name = group[0].node.name.value
        if name == "__typename":
            return Typename(type_name)
        if name == "id":
            return GlobalId()
        column = SCALARS[type_name].get(name)
        if column is not None:
            return Column(column)
        if type_name == "Work" and name == "alternativeTitles":
            return Strings("alternative_titles")
        if type_name == "Person" and name == "alternativeNames":
            return Strings("alternative_names")
        if type_name == "Work" and name == "directors":
            return Children("directors", self.obj("Person", group))
        if type_name == "Work" and name == "themes":
            return Children("themes", self.obj("Theme", group))
        if type_name in ("Person", "Theme") and name == "works":
            return self.nested_works(type_name, group)
        raise Unsupported(f"{type_name}.{name}")

    def nested_works(self, type_name: str, group: Group) -> Connection:
        """``person.works`` / ``theme.works``, with the arguments ``gql.types.nested`` takes."""
        args = self.arguments(type_name, group)
        parent = q.Parent.PERSON if type_name == "Person" else q.Parent.THEME
        first = self.page_size(args)
        orders = self.orders(args.get("orderBy"), q.FILMOGRAPHY_ORDER)
        work_filter = self.work_filter(args.get("filter"))
        kind = args.get("kind")
        if kind is not None:  # as gql.types.nested: one more condition, like `filter.kind`
            base = work_filter or q.WorkFilter()
            kinds = (kind,) if base.kinds is None else tuple(k for k in base.kinds if k == kind)
            work_filter = dataclasses.replace(base, kinds=kinds)
        source = WorkList(parent, args.get("role"), work_filter, orders)
        list_name = f"{parent}.works"
        return self.connection("WorkConnection", "Work", list_name, source, first, group, args)

    def connection(
        self,
        connection_type: str,
        node_type: str,
        list_name: str,
        source: ListSource,
        first: int,
        group: Group,
        args: dict[str, Any],
    ) -> Connection:
        after = self.cursor(args.get("after"), list_name, source)
        fields: list[tuple[str, ConnectionField]] = []
        nodes: list[Obj] = []
        for key, subgroup in self.subfields(connection_type, group):
            name = subgroup[0].node.name.value
            if name == "__typename":
                fields.append((key, Typename(connection_type)))
            elif name == "totalCount":
                fields.append((key, TotalCount()))
            elif name == "nodes":
                nodes.append(self.obj(node_type, subgroup))
                fields.append((key, Nodes(len(nodes) - 1)))
            elif name == "edges":
                edge_type = f"{node_type}Edge"
                edge_fields: list[tuple[str, EdgeField]] = []
                for edge_key, edge_group in self.subfields(edge_type, subgroup):
                    edge_name = edge_group[0].node.name.value
                    if edge_name == "__typename":
                        edge_fields.append((edge_key, Typename(edge_type)))
                    elif edge_name == "cursor":
                        edge_fields.append((edge_key, Cursor()))
                    elif edge_name == "node":
                        nodes.append(self.obj(node_type, edge_group))
                        edge_fields.append((edge_key, EdgeNode(len(nodes) - 1)))
                    else:
                        raise Unsupported(f"{edge_type}.{edge_name}")
                fields.append((key, Edges(tuple(edge_fields))))
            elif name == "pageInfo":
                info_fields: list[tuple[str, PageInfoField]] = []
                for info_key, info_group in self.subfields("PageInfo", subgroup):
                    info_name = info_group[0].node.name.value
                    if info_name not in PAGE_INFO_FIELDS:
                        raise Unsupported(f"PageInfo.{info_name}")
                    info_fields.append((info_key, info_name))  # type: ignore[arg-type]
                fields.append((key, PageInfo(tuple(info_fields))))
            else:
                raise Unsupported(f"{connection_type}.{name}")  # facets
        return Connection(list_name, source, first, tuple(fields), tuple(nodes), after)

    # -- arguments, checked as the resolvers check them

    def page_size(self, args: dict[str, Any]) -> int:
        """``first`` of a forward page (as ``gql.pagination``)."""
        if any(args.get(name) is not None for name in ("before", "last")):
            raise Unsupported("backward pages")
        first = args.get("first")
        if first is None:
            return self.default_page_size
        if not isinstance(first, int) or first < 0 or first > self.max_page_size:
            raise Unsupported("first")  # the resolver answers the error
        return first

    @staticmethod
    def cursor(raw: Any, list_name: str, source: ListSource) -> tuple[Any, ...] | None:
        """The decoded ``after`` cursor (as ``gql.pagination``); the resolvers answer a bad
        one (INVALID_CURSOR)."""
        if raw is None:
            return None
        try:
            return decode_cursor(raw, list_name, ordering_of(source), "after")
        except ApiError as error:
            raise Unsupported("after") from error

    @staticmethod
    def orders(raw: Any, default: tuple[q.WorkOrder, ...]) -> tuple[q.WorkOrder, ...]:
        if raw is None:
            return default
        given = [WorkOrder(field=o["field"], direction=o["direction"]) for o in raw]
        try:
            return work_orders(given, default)
        except ApiError as error:
            raise Unsupported("orderBy") from error

    @staticmethod
    def work_filter(raw: Any) -> q.WorkFilter | None:
        if raw is None:
            return None
        try:
            converted = WorkFilter(**{WORK_FILTER_NAMES[k]: v for k, v in raw.items()}).to_db()
        except ApiError as error:
            raise Unsupported("filter") from error
        if converted.search is not None:
            raise Unsupported("filter.search")  # search SQL names its tables: not compiled
        return converted

    @staticmethod
    def person_filter_role(raw: Any) -> CreditRole | None:
        if raw is None:
            return None
        names = {"role": "role", "search": "search"}
        try:
            converted = PersonFilter(**{names[k]: v for k, v in raw.items()}).to_db()
        except ApiError as error:
            raise Unsupported("filter") from error
        if converted.search is not None:
            raise Unsupported("filter.search")
        return converted.role


def plan_operation(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    raw_variables: dict[str, Any] | None,
    *,
    default_page_size: int,
    max_page_size: int,
    sqlite: bool = False,
) -> Plan | None:
    """The plan of the operation the executor would run, or None if it is not covered.
    ``sqlite``: only plans whose statements SQLite's parser can take (``sqlite_can_parse``)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation != OperationType.QUERY:
        return None
    fragments = {
        d.name.value: FragmentDetails(d)
        for d in document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    if any(d.definition.variable_definitions for d in fragments.values()):
        return None  # fragment variables (experimental): not compiled
    variables = get_variable_values(
        schema, operation.variable_definitions or (), raw_variables or {}
    )
    if isinstance(variables, list):
        return None  # the executor answers the coercion errors
    planner = Planner(schema, fragments, variables, operation, default_page_size, max_page_size)
    try:
        plan = planner.plan()
    except (Unsupported, RecursionError):
        return None
    if not fits(plan) or (sqlite and not sqlite_can_parse(plan)):
        return None
    return plan


def _obj_width(obj: Obj) -> int:
    return obj.width + 1  # and the leading id or ordinal


def _fits_obj(obj: Obj) -> bool:
    if _obj_width(obj) > MAX_VALUES:
        return False
    for _, field in obj.fields:
        if isinstance(field, Children) and not _fits_obj(field.node):
            return False
        if isinstance(field, Connection) and not _fits_connection(field):
            return False
    return True


def _fits_connection(connection: Connection) -> bool:
    width = 1 + sum(_obj_width(o) for o in connection.nodes) + len(connection.ordering.keys)
    return width <= MAX_VALUES and all(_fits_obj(o) for o in connection.nodes)


def fits(plan: Plan) -> bool:
    """Whether every JSON array the plan builds stays within the functions' argument limit."""
    for _, root in plan.roots:
        if isinstance(root, RootObject) and not _fits_obj(root.node):
            return False
        if isinstance(root, Connection) and not _fits_connection(root):
            return False
    return True


# SQLite's parser has a fixed stack (YYSTACKDEPTH, 100 before 3.46): deeply nested subqueries
# overflow it. On 3.40, with the widest filters and every kind of list at each level, up to
# 2 pages (connections) on a path and 3 lists (pages and object lists) in all parse.
SQLITE_MAX_PAGES = 2
SQLITE_MAX_LISTS = 3


def _nesting_ok(obj: Obj, pages: int, lists: int) -> bool:
    for _, field in obj.fields:
        if isinstance(field, Children):
            lists_here = lists + 1
            if pages + lists_here > SQLITE_MAX_LISTS or not _nesting_ok(
                field.node, pages, lists_here
            ):
                return False
        elif isinstance(field, Connection) and not _connection_nesting_ok(field, pages, lists):
            return False
    return True


def _connection_nesting_ok(connection: Connection, pages: int, lists: int) -> bool:
    if connection.after is not None and pages > 0:
        return False  # a cursor's bounds below another page: not measured, not compiled
    pages += 1
    if pages > SQLITE_MAX_PAGES or pages + lists > SQLITE_MAX_LISTS:
        return False
    return all(_nesting_ok(node, pages, lists) for node in connection.nodes)


def sqlite_can_parse(plan: Plan) -> bool:
    """Whether the plan's statements nest shallowly enough for SQLite's parser."""
    for _, root in plan.roots:
        if isinstance(root, RootObject) and not _nesting_ok(root.node, 0, 0):
            return False
        if isinstance(root, Connection) and not _connection_nesting_ok(root, 0, 0):
            return False
    return True
