"""HTTP and response caching, keyed by the catalog version (``db.catalog_version``).

Runs as the operation's execution starts — after parsing, validation and every limit of
``gql.limits``, so an operation that is refused never reads anything — and reads the catalog
version (one single-row statement). Then, for a query from a request without credentials:

- over GET, the answer's ``ETag`` is that version plus a digest of the request
  (``gql.http_cache``); a matching ``If-None-Match`` answers ``304`` without executing;
- the answer may come from the process's response cache (``gql.response_cache``), keyed by
  the same; an answer without errors is kept for the next identical request.

Reading the version *before* executing is what makes this correct: what the operation then
reads is at least as new as the version it is filed under, and every write bumps the version.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from graphql import ExecutionResult, GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from db.catalog_version import catalog_version
from gql import http_cache
from gql.compiled import execute_compiled
from gql.context import Context
from gql.response_cache import request_key


class CatalogCaching(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if not isinstance(context, Context) or context.request is None:
            yield
            return
        try:
            version = context.catalog_version = await context.database.run(catalog_version)
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
        parameters = {
            "query": self.execution_context.query,
            "variables": self.execution_context.variables,
            "operationName": self.execution_context.operation_name,
        }
        response = context.response
        if request.method == "GET" and response is not None:
            tag = http_cache.entity_tag(version, parameters)
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
        key = request_key(version, parameters) if cache is not None and cache.enabled else None
        if cache is not None and key is not None:
            cached = cache.get(key)
            if cached is not None:
                if response is not None:
                    response.headers["X-Cache"] = "hit"
                self.execution_context.result = ExecutionResult(data=json.loads(cached))
                yield
                return
        if context.settings.compiled:
            data = await execute_compiled(self.execution_context, context)
            if data is not None:
                self.execution_context.result = ExecutionResult(data=data)
                if response is not None:
                    response.headers["X-Execution"] = "compiled"
        yield
        if cache is None or key is None:
            return
        result: Any = self.execution_context.result
        if isinstance(result, ExecutionResult) and not result.errors and result.data is not None:
            cache.put(key, json.dumps(result.data, ensure_ascii=False).encode("utf-8"))
