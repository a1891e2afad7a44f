"""The Strawberry schema: the public contract (shared/contract/api.graphql) and more.

``schema`` is the schema itself; ``catalog_schema(serving=...)`` builds it with the serving
layer's extensions placed where they belong (``web.view`` serves that one).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionResult

from gql.admission import DEADLINE, AdmissionControl
from gql.document_cache import DocumentCache
from gql.errors import request_timeout
from gql.execution import CompiledExecution
from gql.extensions import ErrorCodes
from gql.limits import OperationLimits
from gql.mutations import Mutation
from gql.operation_choice import OperationChoice
from gql.query import Query
from gql.types.person import Person
from gql.types.studio import Studio
from gql.types.theme import Theme
from gql.types.work import Work
from settings import Settings


class CatalogSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Expected errors are the client's business; ErrorCodes logs the unexpected ones."""

    async def execute(self, query: str | None, *args: Any, **kwargs: Any) -> ExecutionResult:
        """Every operation within the request deadline (``settings.request_timeout``): past
        it, the operation is cancelled and answers a ``TIMEOUT`` error; each SQL statement
        has its own, shorter timeout on the database (``db.engine``)."""
        context = kwargs.get("context_value")
        settings = getattr(context, "settings", None)
        deadline = settings.request_timeout if isinstance(settings, Settings) else None
        request = getattr(context, "request", None)
        # The deadline counts from the request's arrival (gql.admission), queueing included.
        at = request.scope.get(DEADLINE) if request is not None else None
        if not isinstance(at, float) and deadline is not None:
            at = asyncio.get_running_loop().time() + deadline
        try:
            async with asyncio.timeout_at(at):
                return await super().execute(query, *args, **kwargs)
        except TimeoutError:
            assert deadline is not None  # no deadline, no timeout
            return ExecutionResult(data=None, errors=[request_timeout(deadline)])


def catalog_schema(
    serving: Sequence[type[SchemaExtension]] = (),
    outermost: Sequence[type[SchemaExtension]] = (),
    *,
    compiled: bool = True,
) -> CatalogSchema:
    """The schema, with ``serving``'s extensions run once the operation is admitted (parsed,
    validated, within every limit, past the gate) and before it executes: where caches that
    answer without executing belong (the serving layer's ETags and response cache).
    ``outermost``'s run around everything else (the operation's trace span). ``compiled``:
    whether the compiled path may answer (``CompiledExecution``); a schema served with
    ``settings.compiled`` off leaves it out, since Strawberry prepares every extension's
    hooks for every operation, whether they then do anything or not."""
    return CatalogSchema(
        query=Query,
        mutation=Mutation,
        types=[Work, Person, Theme, Studio],
        extensions=[
            *outermost,
            OperationChoice,
            OperationLimits,
            DocumentCache,
            AdmissionControl,
            *serving,
            *((CompiledExecution,) if compiled else ()),
            ErrorCodes,
        ],
        config=StrawberryConfig(auto_camel_case=True),
    )


schema = catalog_schema()
