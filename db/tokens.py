"""API tokens for curators: created once (shown once), stored as a SHA-256, revocable.

A token is ``nkc_`` and 43 URL-safe characters (256 random bits); its hash is what the
database keeps and what a request's bearer token is looked up by.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import TOKEN_SCOPES, ApiToken
from db.text import slugify

TOKEN_PREFIX = "nkc_"
CURATOR_KEY_PREFIX = "curator-"  # source keys reserved for curators' own statements
SCOPE_RANK = {"editor": 1, "admin": 2}


class TokenError(ValueError):
    """A token command that cannot be carried out (the message says why)."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def curator_source_key(name: str) -> str:
    """The key of the source standing for what the curator ``name`` states without citing
    one (``db.curation.common.curator_source``): ``curator-`` and the name as a slug."""
    return f"{CURATOR_KEY_PREFIX}{slugify(name) or 'unnamed'}"[:100]


async def create_token(session: AsyncSession, name: str, scope: str = "editor") -> str:
    """Store a new token named ``name``; the token itself, which is never stored.

    Names must differ in more than case and punctuation (``Bob`` and ``bob!`` would share the
    source ``curator-bob``, and so each other's statements)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise TokenError("a token needs a name of 1 to 100 characters")
    if scope not in TOKEN_SCOPES:
        raise TokenError(f"scope must be one of {', '.join(TOKEN_SCOPES)}, not {scope!r}")
    key = curator_source_key(name)
    for other in await session.scalars(select(ApiToken.name)):
        if other == name:
            raise TokenError(f"a token named {name!r} exists already")
        if curator_source_key(other) == key:
            raise TokenError(
                f"a token named {other!r} exists already: names must differ in more than "
                f"case and punctuation (both would state things as {key!r})"
            )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(name=name, scope=scope, token_hash=token_hash(token), created_at=datetime.now(UTC))
    )
    await session.flush()
    return token


async def list_tokens(session: AsyncSession) -> list[ApiToken]:
    return list(await session.scalars(select(ApiToken).order_by(ApiToken.name)))


async def revoke_token(session: AsyncSession, name: str) -> None:
    token = await session.scalar(select(ApiToken).where(ApiToken.name == name))
    if token is None:
        raise TokenError(f"no token named {name!r}")
    if token.revoked_at is None:
        token.revoked_at = datetime.now(UTC)
        await session.flush()


async def authenticate(session: AsyncSession, bearer: str) -> ApiToken | None:
    """The live token a bearer value names, or None (unknown or revoked)."""
    if not bearer.startswith(TOKEN_PREFIX) or len(bearer) > 100:
        return None
    statement = select(ApiToken).where(
        ApiToken.token_hash == token_hash(bearer), ApiToken.revoked_at.is_(None)
    )
    return await session.scalar(statement)


def allows(token: ApiToken, needed: str) -> bool:
    return SCOPE_RANK.get(token.scope, 0) >= SCOPE_RANK[needed]
