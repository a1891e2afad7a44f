"""The compiled read path (issue #6): a validated query operation answered by one SQL
statement per root field that builds the response's JSON, without per-field resolution.

``execute_compiled`` is called by ``gql.caching`` once the operation has passed every limit
and missed the response cache. It returns the operation's ``data`` when it can compile the
whole operation, or None — then the resolver path runs, so the two never give different
answers (a differential test holds them equal). Off unless ``NKCINEMA_COMPILED`` is set.
"""

from __future__ import annotations

from typing import Any

from strawberry.types.execution import ExecutionContext

from gql.context import Context


async def execute_compiled(
    execution_context: ExecutionContext, context: Context
) -> dict[str, Any] | None:
    """The operation's data, or None when the compiler does not cover it (not yet: None)."""
    return None
