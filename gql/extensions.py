"""Schema extensions: every error leaves with a stable ``extensions.code``; unexpected ones
are masked (no stack trace, SQL or connection string reaches the client) and logged with the
request id the response carries."""

from __future__ import annotations

import logging

from graphql import GraphQLError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from strawberry.extensions import MaskErrors

from db.errors import causes
from db.statement_timeout import is_statement_timeout
from gql import errors
from gql.admission import unavailable
from gql.limits import without_suggestions
from settings import Settings

logger = logging.getLogger("nkcinema.errors")

# asyncpg's connection failures, named so that importing the driver stays optional.
_CONNECTION_ERRORS = {
    "ConnectionDoesNotExistError",
    "CannotConnectNowError",
    "ConnectionFailureError",
}


def _is_unavailable(error: BaseException) -> bool:
    """Whether an error means the database cannot be reached (not that a query went wrong)."""
    if isinstance(error, PoolTimeout):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    for cause in causes(error, implicit=True):
        if isinstance(cause, (OSError, ConnectionError, TimeoutError)):
            return True
        if type(cause).__name__ in _CONNECTION_ERRORS:
            return True
        # SQLite's lock still held by another writer after the busy timeout: the database is
        # busy, not the request wrong (another process, a seed, holds a long write).
        if getattr(cause, "sqlite_errorname", None) in ("SQLITE_BUSY", "SQLITE_LOCKED"):
            return True
    return False


# graphql-core's messages about a variable's *value* (coercion), as opposed to its use in
# the document (validation: "is never used", "is not defined", "used in position …").
_VARIABLE_VALUE_MESSAGES = ("invalid value", "was not provided", "must not be null")


def _is_variable_value(error: GraphQLError) -> bool:
    return any(text in error.message for text in _VARIABLE_VALUE_MESSAGES)


class ErrorCodes(MaskErrors):
    def _process_errors(self, errors_: list[GraphQLError]) -> list[GraphQLError]:
        processed = [self._process(error) for error in errors_]
        if not self._settings().suggestions:
            # graphql-core suggests in validation, variable coercion and enum parsing alike:
            # strip every message, whatever its code.
            for error in processed:
                error.message = without_suggestions(error.message)
        return processed

    def _settings(self) -> Settings:
        settings = getattr(self.execution_context.context, "settings", None)
        return settings if isinstance(settings, Settings) else Settings()

    def _request_id(self) -> str:
        context = self.execution_context.context
        return str(getattr(context, "request_id", "-"))

    def _process(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if original is None:
            code = error.extensions.get("code") if error.extensions else None
            if not code:
                if "tokens. Parsing aborted" in error.message:
                    code = errors.TOO_MANY_TOKENS
                elif error.message.startswith("Syntax Error"):
                    code = errors.GRAPHQL_PARSE_FAILED
                elif error.message.startswith("Variable '$") and _is_variable_value(error):
                    code = errors.BAD_USER_INPUT
                else:
                    code = errors.GRAPHQL_VALIDATION_FAILED
            error.extensions = {**(error.extensions or {}), "code": code}
            return error
        if isinstance(original, GraphQLError):
            if (original.extensions or {}).get("code"):
                return error
            if error.path is None:  # raised while coercing the request's variables
                error.extensions = {**(error.extensions or {}), "code": errors.BAD_USER_INPUT}
                return error
        request_id = self._request_id()
        driver_error = getattr(original, "orig", None)
        if is_statement_timeout(original) or (
            isinstance(driver_error, BaseException) and is_statement_timeout(driver_error)
        ):
            logger.warning(
                "statement timeout [request %s]: %r",
                request_id,
                original,
                extra={"request_id": request_id},
            )
            limit = self._settings().statement_timeout
            code = errors.TIMEOUT
            message = f"A database statement took longer than {limit:g} s and was stopped."
        elif _is_unavailable(original):
            logger.warning(
                "database unavailable [request %s]: %r",
                request_id,
                original,
                extra={"request_id": request_id},
            )
            code, message = errors.SERVICE_UNAVAILABLE, "The catalog is unavailable; retry shortly."
            unavailable(self.execution_context.context)  # HTTP 503 with Retry-After
        else:
            logger.error(
                "unexpected error [request %s] at %s",
                request_id,
                error.path,
                exc_info=(type(original), original, original.__traceback__),
                extra={"request_id": request_id},
            )
            code, message = errors.INTERNAL_SERVER_ERROR, "Unexpected error."
        return GraphQLError(
            message=message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions={"code": code, "requestId": request_id},
        )
