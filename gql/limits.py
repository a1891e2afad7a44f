"""Operation limits: what a single GraphQL operation may ask of the service.

Checked in this order, each before the work it protects, so a rejected operation never
reaches the database (SECURITY.md lists the defaults; ``settings.py`` reads them):

1. document size (bytes), before parsing;
2. tokens, while parsing (graphql-core stops counting at the limit);
3. depth and aliases, before validation (some standard validation rules cost more than linear
   time in aliases): fragment spreads are expanded where they are used, so aliases hidden in a
   fragment count once per spread;
4. cost, after validation, with the request's variables: every object a field returns costs
   1, times the number of parent objects; a paged list (``first``/``last``) counts as its page
   size (the default page size when neither is given), a list that is not paged as
   ``list_size_estimate``, ``totalCount`` as one more statement per parent. So
   ``first: 100`` nested three deep costs about 100³. Introspection costs nothing.

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

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension

from gql import errors
from gql.context import Context
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


@dataclass
class _Costing:
    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any]
    default_page_size: int
    max_page_size: int
    list_size_estimate: int
    limit: int
    total: int = field(default=0)

    def charge(self, amount: int) -> None:
        self.total += amount
        if self.total > self.limit:
            raise _TooBig

    def argument(self, node: FieldNode, name: str) -> Any:
        for argument in node.arguments or ():
            if argument.name.value == name:
                value = argument.value
                if isinstance(value, VariableNode):
                    return self.variables.get(value.name.value)
                if isinstance(value, IntValueNode):
                    return int(value.value)
                if isinstance(value, ListValueNode):
                    return list(value.values)
                return None
        return None

    def page_size(self, node: FieldNode) -> int | None:
        """The number of items a paged field asks for (None: the field is not paged)."""
        field_args = {a.name.value for a in node.arguments or ()}
        asked = [self.argument(node, name) for name in PAGE_ARGUMENTS if name in field_args]
        sizes = [a for a in asked if isinstance(a, int) and not isinstance(a, bool)]
        if sizes:
            return max(0, min(max(sizes), self.max_page_size))
        if asked:  # a variable that is missing or not a number: execution will say so
            return self.max_page_size
        ids = self.argument(node, "ids")
        if isinstance(ids, list):
            return len(ids)
        return None

    def selection_set(
        self,
        selection_set: SelectionSetNode | None,
        parent: Any,
        times: int,
        spreading: frozenset[str],
        page: int | None = None,
    ) -> None:
        """Charge a selection made on ``times`` objects of type ``parent``; ``page`` is the page
        size when ``parent`` is a connection (its ``nodes``/``edges`` hold that many each)."""
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                self.field(selection, parent, times, spreading, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                self.selection_set(selection.selection_set, target, times, spreading, page)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in spreading:
                    continue
                target = self.schema.get_type(fragment.type_condition.name.value)
                self.selection_set(fragment.selection_set, target, times, spreading | {name}, page)

    def field(
        self,
        node: FieldNode,
        parent: Any,
        times: int,
        spreading: frozenset[str],
        page: int | None,
    ) -> None:
        name = node.name.value
        if name.startswith("__"):
            return  # introspection and __typename: no database work
        fields = getattr(parent, "fields", None)
        definition = fields.get(name) if fields else None
        if definition is None:
            return
        if name == "totalCount":  # a COUNT per connection
            self.charge(times)
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
        if named.name.endswith("Connection"):  # one connection per parent, paged
            paged = self.page_size(node)
            self.charge(times)
            size = self.default_page_size if paged is None else paged
            self.selection_set(node.selection_set, named, times, spreading, size)
            return
        if parent.name.endswith("Edge"):  # an edge's node: counted with the edges
            self.selection_set(node.selection_set, named, times, spreading)
            return
        is_list = isinstance(output, GraphQLList) or (
            isinstance(output, GraphQLNonNull) and isinstance(output.of_type, GraphQLList)
        )
        paged = self.page_size(node)
        if paged is not None:
            size = paged
        elif is_list:
            size = self.list_size_estimate
        else:
            size = 1
        count = times * size
        self.charge(count)
        self.selection_set(node.selection_set, named, count, spreading)


def cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    settings: Settings,
) -> int:
    """The cost of the operation to run; stops counting once past ``settings.max_cost``."""
    costing = _Costing(
        schema=schema,
        fragments={
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        },
        variables=variables or {},
        default_page_size=settings.default_page_size,
        max_page_size=settings.max_page_size,
        list_size_estimate=settings.list_size_estimate,
        limit=settings.max_cost,
    )
    for operation in _operations(document, operation_name):
        root = schema.get_root_type(operation.operation)
        try:
            costing.selection_set(operation.selection_set, root, 1, frozenset())
        except _TooBig:
            break
    return costing.total


# -- the extension --------------------------------------------------------------------------------


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
        if document is not None:
            shape = measure(document, name, settings.max_depth, settings.max_aliases)
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
        self.cost = cost(
            self.execution_context.schema._schema,
            document,
            name,
            self.execution_context.variables,
            settings,
        )
        if isinstance(self.execution_context.context, Context):
            self.execution_context.context.cost = self.cost
        if self.cost > settings.max_cost:
            raise errors.LimitExceeded(
                errors.QUERY_TOO_COSTLY,
                f"The operation would cost more than {settings.max_cost} "
                "(objects fetched, weighted by page sizes); ask for smaller pages or fewer "
                "nested lists.",
                limit=settings.max_cost,
            )

    def get_results(self) -> dict[str, Any]:
        return {"cost": self.cost}
