"""Operation limits: what a single GraphQL operation may ask of the service.

Checked in this order, each before the work it protects, so a rejected operation never
reaches the database (SECURITY.md lists the defaults; ``settings.py`` reads them):

1. document size (bytes), before parsing;
2. tokens, while parsing (graphql-core stops counting at the limit);
3. depth and aliases, before validation (some standard validation rules cost more than linear
   time in aliases): fragment spreads are expanded where they are used, so aliases hidden in a
   fragment count once per spread;
4. cost, after validation, from the argument values the operation runs with (variables as
   sent, else their declared defaults; literals; the schema's argument defaults): every
   object a field returns costs 1, times the number of parent objects; a paged list
   (``first``/``last``) counts as its page size (the default page size when neither is
   given), a list that is not paged as ``list_size_estimate``, ``totalCount`` as one more
   statement per parent. So ``first: 100`` nested three deep costs about 100³. Statements
   that do more work than their rows show have a price of their own: search, a search
   filter, facets and ``similar`` (``SEARCH_PRICE`` … below). Introspection costs nothing.
   Variables that do not coerce are costed at the most they could ask for but not refused
   for it: execution refuses them and runs nothing.

A document's shape, and its cost where no variable's value changes it, are counted once per
query text and kept (as ``gql.document_cache`` keeps the parsed documents); the limits are
checked against them for every request.

Every response reports the operation's cost in ``extensions.cost`` (null when the operation
was rejected before it could be costed). Introspection can be switched off and error
messages stripped of their "Did you mean …?" suggestions (production defaults; done for every
error by ``gql.extensions.ErrorCodes``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cachetools import LRUCache
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension

from db.text import search_key, trigrams
from gql import errors
from gql.context import Context
from gql.document_cache import DOCUMENTS
from settings import Settings

PAGE_ARGUMENTS = ("first", "last")
# graphql-core's ``did_you_mean``: " Did you mean 'a', 'b', or 'c'?" or " Did you mean the enum
# value 'A'?". The suggested names are GraphQL names, which never hold a question mark.
_SUGGESTION = re.compile(r" ?Did you mean [^?]*\?")


def without_suggestions(message: str) -> str:
    """An error message without graphql-core's "Did you mean …?" suggestions, wherever they
    stand in it."""
    return _SUGGESTION.sub("", message)


# -- shape: depth and aliases --------------------------------------------------------------------


@dataclass
class Shape:
    """The depth and alias count of an operation, fragments expanded where they are spread."""

    depth: int = 0
    aliases: int = 0


class _TooBig(Exception):
    pass


def measure(
    document: DocumentNode, operation_name: str | None, max_depth: int, max_aliases: int
) -> Shape:
    """Depth and aliases of the operation to run, stopping as soon as a limit is passed (so a
    fragment bomb is not expanded further than the limit allows)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    shape = Shape()

    def walk(selection_set: SelectionSetNode | None, depth: int, spreading: frozenset[str]) -> None:
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.alias is not None:
                    shape.aliases += 1
                    if shape.aliases > max_aliases:
                        raise _TooBig
                if selection.name.value.startswith("__") and selection.selection_set is None:
                    continue
                shape.depth = max(shape.depth, depth + 1)
                if shape.depth > max_depth:
                    raise _TooBig
                walk(selection.selection_set, depth + 1, spreading)
            elif isinstance(selection, InlineFragmentNode):
                walk(selection.selection_set, depth, spreading)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is None or name in spreading:  # unknown or cyclic: validation says
                    continue
                walk(fragment.selection_set, depth, spreading | {name})

    for operation in _operations(document, operation_name):
        try:
            walk(operation.selection_set, 0, frozenset())
        except _TooBig:
            break
    return shape


def _operations(
    document: DocumentNode, operation_name: str | None
) -> Iterator[OperationDefinitionNode]:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    for operation in operations:
        if operation_name is None or (operation.name and operation.name.value == operation_name):
            yield operation


# -- cost ---------------------------------------------------------------------------------------

# What a field costs besides the objects it returns, in cost units, for the fields whose
# statements do work that their rows do not show. A unit is the database time of one object
# of the ordinary pages (`works(first: 100)` with directors and themes), so that the cost
# limit bounds an operation's database time whatever it asks for. ``python -m bench.prices``
# calibrates them (bench/README.md, "Prices"); SECURITY.md tables them.
SEARCH_PRICE = 2000  # root search/searchHits: three trigram statements…
SEARCH_FILTER_PRICE = 1000  # a list filtered by `search`: each statement that applies it…
SEARCH_TRIGRAM_PRICE = 200  # …and either, per distinct trigram of the query's search key
FACETS_PRICE = 2000  # each facets statement (kinds and decades; themes) of a root list
NESTED_FACETS_PRICE = 50  # each facets statement of a nested list, per parent
SIMILAR_PRICE = 2000  # a work's `similar` ranking, and its totalCount, per work


@dataclass
class _Costing:
    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: VariableValues | None
    default_page_size: int
    max_page_size: int
    list_size_estimate: int
    limit: int
    unknown_variables: bool = False  # the request's variables do not coerce
    varies: bool = False  # an argument that names a variable was read
    total: int = field(default=0)
    work: int = field(default=0)  # the part of the total that prices are (not objects)

    def charge(self, amount: int) -> None:
        self.total += amount
        if self.total > self.limit:
            raise _TooBig

    def price(self, amount: int) -> None:
        """Charge the work of statements beyond their rows (``SEARCH_PRICE`` …)."""
        self.work += amount
        self.charge(amount)

    def arguments(self, definition: GraphQLField, node: FieldNode) -> dict[str, Any] | None:
        """The field's argument values as the resolver will get them: literals, variables as
        sent or else their declared defaults, the schema's defaults for what is not given.
        None: they do not coerce, or name variables that do not (execution reports why)."""
        if any(_has_variable(a.value) for a in node.arguments or ()):
            self.varies = True  # the cost depends on the variables' values
            if self.unknown_variables:
                return None
        try:
            return get_argument_values(definition, node, self.variables, hide_suggestions=True)
        except (GraphQLError, TypeError, ValueError):
            return None

    def page_size(self, arguments: dict[str, Any] | None, paged: bool) -> int | None:
        """The number of items a list field asks for (None: it does not say). ``paged``: the
        field has page arguments, whose absence means the default page size."""
        if arguments is None:  # values that do not coerce: the most they could ask for
            return self.max_page_size if paged else None
        sizes = [arguments.get(name) for name in PAGE_ARGUMENTS]
        given = [s for s in sizes if isinstance(s, int) and not isinstance(s, bool)]
        if given:
            return max(0, min(max(given), self.max_page_size))
        ids = arguments.get("ids")
        if isinstance(ids, list):
            return len(ids)
        return self.default_page_size if paged else None

    def selection_set(
        self,
        selection_set: SelectionSetNode | None,
        parent: Any,
        times: int,
        spreading: frozenset[str],
        page: int | None = None,
        scan: int = 0,
        root: bool = False,
    ) -> None:
        """Charge a selection made on ``times`` objects of type ``parent``; ``page`` is the page
        size when ``parent`` is a connection (its ``nodes``/``edges`` hold that many each),
        ``scan`` what each statement over its whole list costs beyond its rows (a search
        filter, a similar ranking), ``root`` whether that list is a root list (the catalog)."""
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                self.field(selection, parent, times, spreading, page, scan, root)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                self.selection_set(
                    selection.selection_set, target, times, spreading, page, scan, root
                )
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in spreading:
                    continue
                target = self.schema.get_type(fragment.type_condition.name.value)
                self.selection_set(
                    fragment.selection_set, target, times, spreading | {name}, page, scan, root
                )

    def field(
        self,
        node: FieldNode,
        parent: Any,
        times: int,
        spreading: frozenset[str],
        page: int | None,
        scan: int,
        root: bool,
    ) -> None:
        name = node.name.value
        if name.startswith("__"):
            return  # introspection and __typename: no database work
        fields = getattr(parent, "fields", None)
        definition = fields.get(name) if fields else None
        if definition is None:
            return
        if name == "totalCount":  # a COUNT per connection, over its whole (filtered) list
            self.charge(times)
            self.price(times * scan)
            return
        output = definition.type
        named = get_named_type(output)
        if not isinstance(named, (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)):
            return
        if page is not None and name in ("nodes", "edges"):  # a connection's items
            count = times * page
            self.charge(count)
            self.selection_set(node.selection_set, named, count, spreading)
            return
        if name == "facets" and page is not None:  # statements over the whole list
            self.facets(node, named, times, spreading, scan, root)
            return
        connection = named.name.endswith("Connection")
        paged = any(a in definition.args for a in PAGE_ARGUMENTS)
        searched = parent is self.schema.query_type and name in SEARCH_FIELDS
        # A field that is not paged, takes no ``ids`` and is no search costs the same whatever
        # its arguments say (``page_size``): they are not read (nor are its variables).
        arguments = (
            self.arguments(definition, node)
            if connection or paged or searched or "ids" in definition.args
            else None
        )
        if connection:  # one connection per parent, paged
            size = self.page_size(arguments, paged=True)
            assert size is not None
            own = self.list_scan(node, parent, arguments)
            self.charge(times)
            self.price(times * own)
            at_root = parent is self.schema.query_type
            self.selection_set(node.selection_set, named, times, spreading, size, own, at_root)
            return
        if parent.name.endswith("Edge"):  # an edge's node: counted with the edges
            self.selection_set(node.selection_set, named, times, spreading)
            return
        is_list = isinstance(output, GraphQLList) or (
            isinstance(output, GraphQLNonNull) and isinstance(output.of_type, GraphQLList)
        )
        size = self.page_size(arguments, paged)
        if size is None:
            size = self.list_size_estimate if is_list else 1
        if searched:
            text = arguments.get("query") if arguments is not None else None
            self.price(times * search_price(SEARCH_PRICE, text))
        count = times * size
        self.charge(count)
        self.selection_set(node.selection_set, named, count, spreading)

    def list_scan(self, node: FieldNode, parent: Any, arguments: dict[str, Any] | None) -> int:
        """What one statement over a connection's whole list costs beyond its rows."""
        if node.name.value == "similar" and getattr(parent, "name", "") == "Work":
            return SIMILAR_PRICE
        if arguments is None:  # a filter that does not coerce: it may hold a search
            given = {a.name.value for a in node.arguments or ()}
            return SEARCH_FILTER_PRICE if "filter" in given else 0
        filter_ = arguments.get("filter")
        search = (
            filter_.get("search")
            if isinstance(filter_, Mapping)
            else getattr(filter_, "search", None)
        )
        if not isinstance(search, str) or not search.strip():
            return 0  # no search, or a blank one: no condition
        return search_price(SEARCH_FILTER_PRICE, search)

    def facets(
        self,
        node: FieldNode,
        facets: Any,
        times: int,
        spreading: frozenset[str],
        scan: int,
        root: bool,
    ) -> None:
        """``facets``: one statement for kinds and decades, one for themes, each over the
        whole list of every parent."""
        each = (FACETS_PRICE if root else NESTED_FACETS_PRICE) + scan
        fields = _field_nodes(node.selection_set, self.fragments, frozenset())
        names = {f.name.value for f in fields}
        statements = int(bool(names & {"kinds", "decades"})) + int("themes" in names)
        self.charge(times)
        self.price(times * each * statements)
        for child in fields:
            definition = facets.fields.get(child.name.value)
            if definition is None:
                continue
            size = self.page_size(self.arguments(definition, child), paged=False)
            count = times * (size if size is not None else self.list_size_estimate)
            self.charge(count)
            self.selection_set(
                child.selection_set, get_named_type(definition.type), count, spreading
            )


SEARCH_FIELDS = ("search", "searchHits")


def search_price(base: int, text: Any) -> int:
    """What a search for ``text`` costs: ``base``, and ``SEARCH_TRIGRAM_PRICE`` per distinct
    trigram of its key, each a posting list of the trigram index that the statement reads
    (and, for keys long enough to match similar spellings, a similarity to compute for each
    row it finds). A text that is not known yet (it does not coerce) costs ``base``."""
    if not isinstance(text, str):
        return base
    return base + SEARCH_TRIGRAM_PRICE * len(trigrams(search_key(text)))


def _has_variable(value: ValueNode) -> bool:
    if isinstance(value, VariableNode):
        return True
    if isinstance(value, ListValueNode):
        return any(_has_variable(v) for v in value.values)
    if isinstance(value, ObjectValueNode):
        return any(_has_variable(f.value) for f in value.fields)
    return False


def _field_nodes(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    spreading: frozenset[str],
) -> list[FieldNode]:
    """The fields of a selection set, fragments (inline or spread) expanded."""
    found: list[FieldNode] = []
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            found.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            found += _field_nodes(selection.selection_set, fragments, spreading)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in spreading:
                found += _field_nodes(fragment.selection_set, fragments, spreading | {name})
    return found


def operation_variables(
    schema: GraphQLSchema, operation: OperationDefinitionNode, variables: Mapping[str, Any] | None
) -> VariableValues | None:
    """The operation's variables as execution will see them: the values sent, coerced, and
    the declared defaults of those not sent. None: they do not coerce (execution says why)."""
    try:
        coerced = get_variable_values(
            schema,
            operation.variable_definitions or (),
            dict(variables or {}),
            max_errors=1,
            hide_suggestions=True,
        )
    except (GraphQLError, TypeError, ValueError):
        return None
    return coerced if isinstance(coerced, VariableValues) else None


@dataclass(frozen=True)
class Cost:
    total: int
    work: int  # what prices contribute (gql.admission admits expensive operations by it)
    variables_coerce: bool  # False: execution will refuse the variables and run nothing
    # Within the limit, and no argument read for it names a variable: every request of the
    # same document costs the same, whatever its variables (those that do not coerce read
    # no argument they name, so they read the same ones).
    fixed: bool = False


def cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    settings: Settings,
) -> Cost:
    """The cost of the operation to run, from the argument values it runs with; stops
    counting once past ``settings.max_cost``. Variables that do not coerce count the most
    their arguments could ask for."""
    coerce, work, varies = True, 0, False
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    total = 0
    for operation in _operations(document, operation_name):
        coerced = operation_variables(schema, operation, variables)
        coerce = coerce and coerced is not None
        costing = _Costing(
            schema=schema,
            fragments=fragments,
            variables=coerced,
            default_page_size=settings.default_page_size,
            max_page_size=settings.max_page_size,
            list_size_estimate=settings.list_size_estimate,
            limit=settings.max_cost - total,
            unknown_variables=coerced is None,
        )
        root = schema.get_root_type(operation.operation)
        try:
            costing.selection_set(operation.selection_set, root, 1, frozenset())
        except _TooBig:
            return Cost(total + costing.total, work + costing.work, coerce)
        total += costing.total
        work += costing.work
        varies = varies or costing.varies
    return Cost(total, work, coerce, fixed=coerce and not varies)


# -- the extension --------------------------------------------------------------------------------

# What does not change between requests of one document (its query text: the same text parses
# to the same document), kept as gql.document_cache keeps the documents: the shape, by the
# depth and alias limits; the cost, by the limits it is counted under, when it is ``fixed``.
_SHAPES: LRUCache[tuple[Any, ...], Shape] = LRUCache(DOCUMENTS)
_COSTS: LRUCache[tuple[Any, ...], Cost] = LRUCache(DOCUMENTS)


class OperationLimits(SchemaExtension):
    """Applies the limits of the request's settings (``Context.settings``) to its operation."""

    cost: int | None = None

    def _settings(self) -> Settings:
        settings = getattr(self.execution_context.context, "settings", None)
        return settings if isinstance(settings, Settings) else Settings()

    def on_operation(self) -> Iterator[None]:
        self.cost = None
        settings = self._settings()
        query = self.execution_context.query or ""
        size = len(query.encode("utf-8"))
        if size > settings.max_document_bytes:
            raise errors.LimitExceeded(
                errors.DOCUMENT_TOO_LARGE,
                f"The document is {size} bytes; the limit is {settings.max_document_bytes}.",
                limit=settings.max_document_bytes,
            )
        self.execution_context.parse_options["max_tokens"] = settings.max_tokens
        if not settings.introspection:
            rules = tuple(self.execution_context.validation_rules)
            self.execution_context.validation_rules = (*rules, NoSchemaIntrospectionCustomRule)
        yield

    def on_validate(self) -> Iterator[None]:
        settings = self._settings()
        document = self.execution_context.graphql_document
        name = self.execution_context.operation_name
        query = self.execution_context.query
        if document is not None:
            shape_key = (query, name, settings.max_depth, settings.max_aliases)
            shape = _SHAPES.get(shape_key) if query else None
            if shape is None:
                shape = measure(document, name, settings.max_depth, settings.max_aliases)
                if query:
                    _SHAPES[shape_key] = shape
            if shape.depth > settings.max_depth:
                raise errors.LimitExceeded(
                    errors.QUERY_TOO_DEEP,
                    f"The operation is nested more than {settings.max_depth} levels deep.",
                    limit=settings.max_depth,
                )
            if shape.aliases > settings.max_aliases:
                raise errors.LimitExceeded(
                    errors.TOO_MANY_ALIASES,
                    f"The operation uses more than {settings.max_aliases} aliases "
                    "(counting each use of a fragment).",
                    limit=settings.max_aliases,
                )
        yield
        if document is None or self.execution_context.pre_execution_errors:
            return
        schema = self.execution_context.schema._schema
        cost_key = (
            query,
            name,
            schema,
            settings.max_cost,
            settings.default_page_size,
            settings.max_page_size,
            settings.list_size_estimate,
        )
        counted = _COSTS.get(cost_key) if query else None
        if counted is None:
            counted = cost(schema, document, name, self.execution_context.variables, settings)
            if query and counted.fixed:
                _COSTS[cost_key] = counted
        self.cost = counted.total
        if isinstance(self.execution_context.context, Context):
            self.execution_context.context.cost = self.cost
            self.execution_context.context.work = counted.work
        # Variables that do not coerce: execution reports them and runs nothing, so that is
        # the error the client needs, not the cost of values it did not send.
        if self.cost > settings.max_cost and counted.variables_coerce:
            raise errors.LimitExceeded(
                errors.QUERY_TOO_COSTLY,
                f"The operation would cost more than {settings.max_cost} "
                "(objects fetched, weighted by page sizes); ask for smaller pages or fewer "
                "nested lists.",
                limit=settings.max_cost,
            )

    def get_results(self) -> dict[str, Any]:
        return {"cost": self.cost}
