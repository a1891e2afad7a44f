"""HTTP and response caching, keyed by the catalog version (``db.catalog_version``).

Runs as the operation's execution starts — after parsing, validation and every limit of
``gql.limits``, so an operation that is refused never reads anything — and reads the catalog
version (one single-row statement). Then, for a query from a request without credentials:

- over GET, the answer's ``ETag`` is that version plus a digest of the request
  (``gql.http_cache``); a matching ``If-None-Match`` answers ``304`` without executing;
- the request is marked cacheable for the app (``CACHEABLE``), which keeps an answer without
  errors in the process's response cache (``gql.response_cache``) and serves the next
  identical request from it while the catalog version is unchanged, before any parsing.

Reading the version *before* executing is what makes this correct: what the operation then
reads is at least as new as the version it is filed under, and every write bumps the version.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from graphql import ExecutionResult, GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from db.catalog_version import catalog_version
from gql import http_cache
from gql.compiled import compile_plan, run_plan
from gql.context import Context
from gql.prepared import Prepared

CACHEABLE = "nkcinema.cacheable"  # scope key: (request key, catalog version) of a cacheable query
CATALOG_VERSION = "nkcinema.catalog_version"  # scope key: the version, once read this request
REQUEST_KEY = "nkcinema.request_key"  # scope key: gql.response_cache.request_key of the request


class CatalogCaching(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if not isinstance(context, Context) or context.request is None:
            yield
            return
        try:
            read = context.request.scope.get(CATALOG_VERSION)
            version = read if isinstance(read, int) else await context.database.run(catalog_version)
            context.catalog_version = version
        except Exception as error:  # answered like a resolver's failure: masked, with a code
            failure = GraphQLError(str(error), original_error=error)
            self.execution_context.result = ExecutionResult(data=None, errors=[failure])
            yield
            return
        request = context.request
        if (
            self.execution_context.operation_type != OperationType.QUERY
            or "authorization" in request.headers
        ):
            yield
            return
        key = request.scope.get(REQUEST_KEY)  # set by the app from the request as sent
        if not isinstance(key, str):
            yield
            return
        response = context.response
        if request.method == "GET" and response is not None:
            tag = http_cache.entity_tag(version, key)
            response.headers["ETag"] = tag
            response.headers["Cache-Control"] = http_cache.cache_control(
                context.settings.cache_max_age
            )
            if http_cache.matches(request.headers.get("if-none-match"), tag):
                response.status_code = 304
                self.execution_context.result = ExecutionResult(data={})
                yield
                return
        cache = context.responses
        if cache is not None and cache.enabled:  # the app keeps the answer if it has no errors
            request.scope[CACHEABLE] = (key, version)
        if context.settings.compiled:
            try:
                plan = compile_plan(self.execution_context, context)
                data = None if plan is None else (await run_plan(plan, context.database))[0]
            except Exception as error:  # as a resolver's failure: masked by ErrorCodes, coded
                failure = GraphQLError(str(error), original_error=error)
                self.execution_context.result = ExecutionResult(data=None, errors=[failure])
                yield
                return
            if plan is not None and data is not None:
                self.execution_context.result = ExecutionResult(data=data)
                if response is not None:
                    response.headers["X-Execution"] = "compiled"
                if context.prepared is not None and context.cost is not None:
                    context.prepared.put(key, Prepared(plan, context.cost))  # gql.fast_lane
        yield
