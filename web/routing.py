"""Which database answers a request to /graphql (``db.replicas``), and read-your-writes.

- ``DatabaseRouting`` (pure ASGI middleware, inside ``web.intake.Intake``, outside the fast
  lane) chooses the request's route (``ROUTE`` in the scope): the primary for a request that
  carries ``Authorization`` (a curator: writes, the audit trail, and reads that must see
  them), else ``ReplicaSet.route`` — a replica in rotation at least as current as the
  client's ``X-Catalog-Version`` (a whole number, else ``400 BAD_REQUEST``), or the primary.
  Every answer computed at a known catalog version says so in ``X-Catalog-Version`` (whoever
  answered puts it in the scope: ``ANSWERED_AT``); answers tagged for HTTP caches also
  ``Vary`` by it, so a cache never hands a client that sent it an older copy; the access log
  records the database that answered (``web.middleware.ANSWERED_BY``).
- ``DatabaseChoice`` (the first of the served schema's serving extensions): a mutation, or an
  operation that selects ``changes``, runs on the primary; a query on a replica found older
  than the client's version (probes are a moment old) moves to the primary before executing;
  after a mutation, the version that holds its writes is read (on the primary) for the answer.
  The version a query is answered at is read on the database that answers it, before it
  executes (``web.caching.CatalogVersion``): what the caches file under a version is never
  older than that version, whichever database answered.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
)
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionContext
from strawberry.types.graphql import OperationType

from db.catalog_version import catalog_version
from db.replicas import ReplicaSet, Route
from gql import errors
from gql.context import Context
from web import http_cache
from web.encoding import error_response
from web.middleware import ANSWERED_BY, on_response_start

ROUTE = "nkcinema.route"  # scope key: the request's db.replicas.Route
ANSWERED_AT = "nkcinema.answered_at"  # scope key: the catalog version the answer was computed at
HEADER = b"x-catalog-version"
MAX_DIGITS = 18  # a version is a 64-bit integer: anything longer is no version we gave
PRIMARY_FIELDS = frozenset({"changes"})  # Query fields answered from the primary only
INVALID_VERSION = (
    "X-Catalog-Version must be a catalog version: the whole number an earlier answer's "
    "X-Catalog-Version header carried."
)


def requested_version(value: bytes) -> int | None:
    """The version an ``X-Catalog-Version`` header asks for (None: it is not one)."""
    value = value.strip()
    if not value.isdigit() or len(value) > MAX_DIGITS:  # bytes.isdigit: ASCII digits only
        return None
    return int(value)


class DatabaseRouting:
    def __init__(self, app: ASGIApp, *, path: str, replicas: ReplicaSet) -> None:
        self.app = app
        self.path = path
        self.replicas = replicas

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        required: int | None = None
        authorized = False
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorized = True
            elif name == HEADER:
                version = requested_version(value)
                if version is None:
                    refusal = error_response(400, errors.BAD_REQUEST, INVALID_VERSION)
                    await refusal(scope, receive, send)
                    return
                required = version if required is None else max(required, version)
        route = scope[ROUTE] = self.replicas.route(required, primary=authorized)

        on_response_start(scope, _version_headers)
        try:
            await self.app(scope, receive, send)
        finally:
            scope[ANSWERED_BY] = route.name
            route.answered()


def _version_headers(scope: Scope, headers: list[tuple[bytes, bytes]]) -> None:
    """The answer's ``X-Catalog-Version`` (when it was computed at a known version), and
    ``Vary`` by it when HTTP caches may keep it (it has an entity tag)."""
    version = scope.get(ANSWERED_AT)
    if isinstance(version, int):
        headers.append((HEADER, str(version).encode("latin-1")))
    if b"etag" in dict(headers):
        http_cache.vary(headers, b"X-Catalog-Version")


class DatabaseChoice(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        if not isinstance(context, Context) or context.request is None:
            yield
            return
        scope = context.request.scope
        route = scope.get(ROUTE)
        database = context.database
        if execution.result is None:
            if execution.operation_type != OperationType.QUERY or (
                root_fields(execution) & PRIMARY_FIELDS
            ):
                if database.fallback is not None:
                    await database.to_primary()
                    context.catalog_version = None  # read again, on the primary
            elif isinstance(route, Route) and route.required is not None and route.on_replica:
                try:
                    await _at_least(context, route.required)
                except Exception as error:  # as web.caching.CatalogVersion: masked, with a code
                    failure = GraphQLError(str(error), original_error=error)
                    execution.result = ExecutionResult(data=None, errors=[failure])
        yield
        if execution.operation_type == OperationType.MUTATION and database.fallback is None:
            try:  # the version that holds the writes (or a later one)
                context.catalog_version = await database.run(catalog_version)
            except Exception:  # the writes' answer stands; it just carries no version
                context.catalog_version = None
        if context.catalog_version is not None:
            scope[ANSWERED_AT] = context.catalog_version


async def _at_least(context: Context, required: int) -> None:
    """Leave a replica older than ``required`` for the primary (the context's version then
    read again there, by ``web.caching.CatalogVersion``)."""
    database = context.database
    version = context.catalog_version
    if version is None:
        version = await database.run(catalog_version)  # a failing replica: the primary's
    if version < required and database.fallback is not None:
        await database.to_primary()
        context.catalog_version = None
    else:
        context.catalog_version = version


def root_fields(execution: ExecutionContext) -> set[str]:
    """The names of the fields the executed operation selects at its root (through
    fragments)."""
    document = execution.graphql_document
    if document is None:
        return set()
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    selections: list[SelectionNode] = []
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
            execution.operation_name is None
            or (definition.name is not None and definition.name.value == execution.operation_name)
        ):
            selections.extend(definition.selection_set.selections)
    names: set[str] = set()
    spread: set[str] = set()
    while selections:
        selection = selections.pop()
        if isinstance(selection, FieldNode):
            names.add(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            selections.extend(selection.selection_set.selections)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name not in spread and name in fragments:
                spread.add(name)
                selections.extend(fragments[name].selection_set.selections)
    return names
