"""Compiled execution: a query operation answered by its compiled plan (``gql.compiled``:
one SQL statement per root field that builds the response's JSON), when the compiler covers
the whole operation; else the resolvers answer it, as they would have (a differential test
holds the two equal).

Usage: ``extensions=[..., CompiledExecution, ...]``, after every extension that may refuse
the operation or answer it otherwise (limits, admission, caches): it runs only when nothing
before it has answered. On unless ``settings.compiled`` is false. The plan that answered is
left on the context (``Context.plan``) for whoever keeps plans (the fast lane's prepared
requests, ``web.prepared``), with ``X-Execution: compiled`` on the response.

A field only an editor may read (``Query.changes``) is planned only once the request's token
has passed the permission's own checks (``gql.permissions.permitted``), before anything is
planned or read; without it the resolvers answer, refusing as they always have (the same
coded error, the same data). Such a plan is marked ``private``: it is never kept for another
request, nor its answer cached (``web.caching``, ``web.fast_lane``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from graphql import ExecutionResult, GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from gql.compiled import compile_plan, run_plan
from gql.compiled.plan import asks_editor_roots
from gql.context import Context
from gql.permissions import permitted


class CompiledExecution(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        if (
            execution.result is not None
            or not isinstance(context, Context)
            or not context.settings.compiled
            or execution.operation_type != OperationType.QUERY
        ):
            yield
            return
        held = context.token  # the resolvers find it as they would have, should they answer
        editor = await _editor(execution, context)
        if editor is False:
            yield
            return
        try:
            plan = compile_plan(execution, context.settings, editor=bool(editor))
            data = None if plan is None else (await run_plan(plan, context.database))[0]
        except Exception as error:  # as a resolver's failure: masked by ErrorCodes, coded
            failure = GraphQLError(str(error), original_error=error)
            execution.result = ExecutionResult(data=None, errors=[failure])
            yield
            return
        if plan is not None and data is not None:
            execution.result = ExecutionResult(data=data)
            context.plan = plan
            if context.response is not None:
                context.response.headers["X-Execution"] = "compiled"
        else:
            context.token = held
        yield


async def _editor(execution: ExecutionContext, context: Context) -> bool | None:
    """For an operation asking for an editor's field: whether the request's token passes the
    editor check (False: the resolvers answer, refusing; the token is not kept on the context,
    so that their own check reads it again, as it always has: the same statements, the same
    timing). None: the operation asks for no such field."""
    document = execution.graphql_document
    if document is None or not asks_editor_roots(document, execution.operation_name):
        return None
    held = context.token
    try:
        if await permitted(context, "editor"):
            return True
    except Exception:  # the resolvers' own check meets it again, and answers it
        pass
    context.token = held
    return False
