"""Which operation of a document runs: the GraphQL spec's GetOperation, enforced.

Strawberry runs the first operation of a document when no ``operationName`` is given, even if
the document holds several; the spec makes that a request error (so does a name that matches
no operation, and a document with no operation at all). Checked right after parsing, before
the operation type (GET runs queries only) or any limit is looked at, and answered as a
request error with code ``GRAPHQL_VALIDATION_FAILED``: no data, HTTP 200 for
``application/json`` and 400 for ``application/graphql-response+json`` (``web.over_http``).
An ``operationName`` that is not a string at all is a bad request (HTTP 400, ``BAD_REQUEST``).
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError

from gql import errors


def operation_problem(operations: list[OperationDefinitionNode], name: str | None) -> str | None:
    """Why no single operation of ``operations`` is the one to run (None: one is)."""
    names = ", ".join(o.name.value if o.name else "(anonymous)" for o in operations)
    if not operations:
        return "The document has no operation to run."
    if name is None:
        if len(operations) > 1:
            return (
                f"The document has {len(operations)} operations ({names}): name the one to run "
                "in `operationName`."
            )
        return None
    if not any(o.name is not None and o.name.value == name for o in operations):
        return f"The document has no operation named {name[:100]!r} (it has: {names})."
    return None


class NotAName(CannotGetOperationTypeError):
    """An ``operationName`` that is not a string: not a GraphQL request at all. Strawberry's
    view answers it HTTP 400 (``BAD_REQUEST``) with this reason."""

    def as_http_error_reason(self) -> str:
        return "The GraphQL operation's `operationName` must be a string or null, if provided."


class OperationChoice(SchemaExtension):
    def on_parse(self) -> Iterator[None]:
        yield
        context = self.execution_context
        document = context.graphql_document
        if document is None:  # it did not parse: that error is the answer
            return
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        # The name the request gave: Strawberry's `operation_name` falls back to the first
        # operation's, which is the very thing to avoid.
        given = getattr(context, "_provided_operation_name", None)
        if given is not None and not isinstance(given, str):
            raise NotAName(None)
        problem = operation_problem(operations, given)
        if problem is not None:
            raise GraphQLError(problem, extensions={"code": errors.GRAPHQL_VALIDATION_FAILED})
