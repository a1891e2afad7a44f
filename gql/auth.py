"""Who is asking: the bearer token of a request, checked for the scope an operation needs.

Reads are public. Every mutation (and the audit trail) calls ``require`` first: no or an
unknown or revoked token is ``UNAUTHENTICATED``, a token whose scope is too small is
``FORBIDDEN`` — top-level GraphQL errors, before anything is read or written. The token is
never logged or echoed.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ApiToken
from db.tokens import allows, authenticate
from gql.context import Info
from gql.errors import ApiError

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"


class Unauthenticated(ApiError):
    code = UNAUTHENTICATED


class Forbidden(ApiError):
    code = FORBIDDEN


def bearer_token(info: Info) -> str | None:
    request = info.context.request
    header = request.headers.get("authorization", "") if request is not None else ""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


async def _detached(session: AsyncSession, bearer: str) -> ApiToken | None:
    """The token, detached from the request's session: each mutation commits its own
    transaction, which would expire a token still attached, and reading it again later in
    the same operation (the next mutation's ``require``) cannot load lazily."""
    token = await authenticate(session, bearer)
    if token is not None:
        session.expunge(token)
    return token


async def require(info: Info, scope: str = "editor") -> ApiToken:
    """The request's token, if it may act with ``scope``; else an error (nothing done)."""
    token = info.context.token
    if token is None:
        bearer = bearer_token(info)
        if bearer is None:
            raise Unauthenticated("This needs `Authorization: Bearer <token>`.")
        token = await info.context.database.run(_detached, bearer)
        if token is None:
            raise Unauthenticated("The token is unknown or revoked.")
        info.context.token = token
    if not allows(token, scope):
        raise Forbidden(f"This needs a token with the {scope} scope.")
    return token
