"""HTTP and response caching around the schema, keyed by the catalog version
(``db.catalog_version``): Strawberry extensions the served schema runs once an operation is
admitted (parsed, validated, within every limit, past the gate) and before it executes.
Each runs only for a query from a request without credentials, and only when no extension
before it has answered:

- ``CatalogVersion`` reads the catalog version (one single-row statement), unless the
  request already read it (the fast lane, finding a stale answer). Reading it *before*
  executing is what makes the caches correct: what the operation then reads is at least as
  new as the version it is filed under, and every write bumps the version.
  Then, over GET, the answer's ``ETag`` is that version plus the request key
  (``web.http_cache``); a matching ``If-None-Match`` answers ``304`` without executing.
- ``Repeats`` keeps what lets the next identical request skip the full path: it marks the
  request cacheable (``CACHEABLE``: the view keeps an answer without errors in the response
  cache) and files the compiled plan that answered (``Context.plan``) as a prepared request
  for the fast lane — never a ``private`` one (an editor's read: see ``gql.execution``).

Usage: ``catalog_schema(serving=[CatalogVersion, Repeats])``; the view puts the
process's stores in each request's scope (``STORES``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from graphql import ExecutionResult, GraphQLError
from starlette.requests import Request
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from db.catalog_version import catalog_version
from gql.admission import EXPENSIVE
from gql.context import Context
from web import http_cache
from web.intake import REQUEST_KEY
from web.prepared import Prepared, PreparedRequests
from web.response_cache import ResponseCache

CACHEABLE = "nkcinema.cacheable"  # scope key: (request key, catalog version) of a cacheable query
STORES = "nkcinema.stores"  # scope key: the process's Stores


@dataclass(frozen=True)
class Stores:
    responses: ResponseCache
    prepared: PreparedRequests


def _cacheable(extension: SchemaExtension) -> tuple[Context, Request] | None:
    """The context and request of an operation the caches may serve, if it is one."""
    execution = extension.execution_context
    context = execution.context
    if (
        execution.result is not None
        or not isinstance(context, Context)
        or context.request is None
        or execution.operation_type != OperationType.QUERY
        or "authorization" in context.request.headers
    ):
        return None
    return context, context.request


class CatalogVersion(SchemaExtension):
    """Reads the catalog version, then gives the answer its entity tag (``_tag``): one
    extension for both, since Strawberry prepares every extension's hooks for every
    operation."""

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if (
            self.execution_context.result is None
            and isinstance(context, Context)
            and context.request is not None
            and context.catalog_version is None
        ):
            try:
                context.catalog_version = await context.database.run(catalog_version)
            except Exception as error:  # answered like a resolver's failure: masked, with a code
                failure = GraphQLError(str(error), original_error=error)
                self.execution_context.result = ExecutionResult(data=None, errors=[failure])
        _tag(self)
        yield


def _tag(extension: SchemaExtension) -> None:
    """Entity tags: over GET, the answer's ``ETag`` is the version plus the request key; a
    matching ``If-None-Match`` answers ``304`` without executing."""
    served = _cacheable(extension)
    if served is None:
        return
    context, request = served
    key = request.scope.get(REQUEST_KEY)
    version = context.catalog_version
    response = context.response
    if request.method == "GET" and key and version is not None and response is not None:
        tag = http_cache.entity_tag(version, key)
        response.headers["ETag"] = tag
        response.headers["Cache-Control"] = http_cache.cache_control(context.settings.cache_max_age)
        if http_cache.matches(request.headers.get("if-none-match"), tag):
            response.status_code = 304
            extension.execution_context.result = ExecutionResult(data={})


class Repeats(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        served = _cacheable(self)
        if served is None:
            yield
            return
        context, request = served
        key = request.scope.get(REQUEST_KEY)
        stores = request.scope.get(STORES)
        version = context.catalog_version
        if not isinstance(stores, Stores) or not key or version is None:
            yield
            return
        if stores.responses.enabled:  # the view keeps the answer if it has no errors
            request.scope[CACHEABLE] = (key, version)
        yield
        plan = context.plan
        if plan is not None and plan.private:
            # Never served to another request: planned only after this one's token passed
            # the editor check (gql.execution). A request without credentials never gets
            # here with one; should it, neither its plan nor its answer is kept.
            request.scope.pop(CACHEABLE, None)
            return
        if plan is not None and context.cost is not None:
            expensive = bool(request.scope.get(EXPENSIVE))
            stores.prepared.put(key, Prepared(plan, context.cost, expensive))


SERVING = (CatalogVersion, Repeats)  # in this order (see each's docstring)


def serving(keeps: bool) -> tuple[type[SchemaExtension], ...]:
    """``SERVING``, without ``Repeats`` when there is nothing for it to keep into (``keeps``:
    the response cache or the prepared requests are on): Strawberry prepares every
    extension's hooks for every operation, whether they then do anything or not."""
    return SERVING if keeps else (CatalogVersion,)
