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
