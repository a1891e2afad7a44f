"""Errors the API returns on purpose, each with a stable ``extensions.code``.

Anything else a resolver raises is unexpected: ``gql.extensions.ErrorCodes`` masks it as
``INTERNAL_SERVER_ERROR`` (with a request id that is logged with the traceback).
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

BAD_USER_INPUT = "BAD_USER_INPUT"
INVALID_CURSOR = "INVALID_CURSOR"
INVALID_ID = "INVALID_ID"
PAGE_SIZE_EXCEEDED = "PAGE_SIZE_EXCEEDED"
GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
# operation limits (gql/limits.py) and transport (web/); see SECURITY.md
QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
DOCUMENT_TOO_LARGE = "DOCUMENT_TOO_LARGE"
QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
TIMEOUT = "TIMEOUT"
REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
BAD_REQUEST = "BAD_REQUEST"  # a request that is not a GraphQL request (HTTP 400)
NOT_FOUND = "NOT_FOUND"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"  # e.g. a mutation over GET (HTTP 405)
UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
# persisted queries and trusted documents (web/persisted.py); see SECURITY.md
PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"  # a hash this service does not know
PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"  # NKCINEMA_PERSISTED_QUERIES off
PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"  # not the document's SHA-256
PERSISTED_QUERY_REQUIRED = "PERSISTED_QUERY_REQUIRED"  # trusted documents on: not one of them


class ApiError(GraphQLError):
    """An expected error: shown to the client as it is, with its code."""

    code = BAD_USER_INPUT

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message, extensions={"code": self.code, **extensions})


class BadUserInput(ApiError):
    code = BAD_USER_INPUT


class InvalidCursor(ApiError):
    code = INVALID_CURSOR


class InvalidId(ApiError):
    code = INVALID_ID


class PageSizeExceeded(ApiError):
    code = PAGE_SIZE_EXCEEDED


class LimitExceeded(ApiError):
    """An operation over one of the limits of SECURITY.md; ``code`` names which."""

    def __init__(self, code: str, message: str, **extensions: Any) -> None:
        GraphQLError.__init__(self, message, extensions={"code": code, **extensions})


def request_timeout(deadline: float) -> GraphQLError:
    """The error of an operation stopped at the request deadline (``settings.request_timeout``)."""
    message = f"The request took longer than {deadline:g} s and was stopped."
    return GraphQLError(message, extensions={"code": TIMEOUT, "limit": deadline})
