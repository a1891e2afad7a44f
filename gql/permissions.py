"""Who may ask: permission classes for the fields that need a curator's bearer token.

Reads are public. Every mutation and the audit trail (``Query.changes``) declare who may run
them, next to the field::

    @strawberry.mutation(permission_classes=EDITOR, extensions=[Validated()])

``EDITOR`` and ``ADMIN`` are the checks in order: a bearer token is given, it is known and not
revoked (``UNAUTHENTICATED`` otherwise), and its scope covers the field's (``FORBIDDEN``).
Strawberry runs them before the field's other extensions, so a refused request is answered
with a top-level error before its input is validated or anything is read or written. The
token is never logged or echoed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from strawberry.permission import BasePermission

from db.models import ApiToken
from db.tokens import allows, authenticate
from gql.context import Context, Info
from gql.errors import ApiError

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"


class Unauthenticated(ApiError):
    code = UNAUTHENTICATED


class Forbidden(ApiError):
    code = FORBIDDEN


def bearer_token(info: Info) -> str | None:
    return request_bearer(info.context.request)


def request_bearer(request: Request | None) -> str | None:
    header = request.headers.get("authorization", "") if request is not None else ""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


class BearerToken(BasePermission):
    """The request carries ``Authorization: Bearer <token>``."""

    message = "This needs `Authorization: Bearer <token>`."
    error_class = Unauthenticated
    error_extensions = {"code": UNAUTHENTICATED}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.token is not None or bearer_token(info) is not None


async def _detached(session: AsyncSession, bearer: str) -> ApiToken | None:
    """The token, detached from the request's session: each mutation commits its own
    transaction, which would expire a token still attached, and reading it again later in
    the same operation (the next mutation's check) cannot load lazily."""
    token = await authenticate(session, bearer)
    if token is not None:
        session.expunge(token)
    return token


class KnownToken(BasePermission):
    """The bearer token is one the catalog issued and has not revoked; it is kept on the
    context for the rest of the operation (the scope check, the audit trail's actor)."""

    message = "The token is unknown or revoked."
    error_class = Unauthenticated
    error_extensions = {"code": UNAUTHENTICATED}

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return await _known(info.context)


async def _known(context: Context) -> bool:
    """``KnownToken``'s check: the token read once per operation, kept on the context."""
    if context.token is None:
        bearer = request_bearer(context.request)
        if bearer is None:
            return False
        context.token = await context.database.run(_detached, bearer)
    return context.token is not None


class _Scope(BasePermission):
    """The token's scopes cover ``scope``."""

    scope: str
    error_class = Forbidden
    error_extensions = {"code": FORBIDDEN}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.token is not None and allows(info.context.token, self.scope)


class EditorScope(_Scope):
    """The token may curate: change works, people, themes, links and sources."""

    message = "This needs a token with the editor scope."
    scope = "editor"


class AdminScope(_Scope):
    """The token may delete records."""

    message = "This needs a token with the admin scope."
    scope = "admin"


EDITOR: list[type[BasePermission]] = [BearerToken, KnownToken, EditorScope]
ADMIN: list[type[BasePermission]] = [BearerToken, KnownToken, AdminScope]


async def permitted(context: Context, scope: str) -> bool:
    """Whether the request passes ``EDITOR`` (``scope`` "editor") or ``ADMIN`` ("admin"):
    the same checks in the same order, for a caller that is not a field (the compiled path,
    ``gql.execution``, before it plans a guarded field). It keeps the token on the context as
    ``KnownToken`` does; it never answers the refusal: a field's own check does, as ever."""
    if not await _known(context):
        return False
    return context.token is not None and allows(context.token, scope)


def actor(info: Info) -> str:
    """The name of the curator a permitted field acts for (the audit trail's ``actor``)."""
    token = info.context.token
    if token is None:
        raise AssertionError("actor() needs a field declared with EDITOR or ADMIN")
    return token.name
