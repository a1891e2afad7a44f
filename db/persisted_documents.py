"""Persisted documents (``persisted_documents``): GraphQL documents known by the SHA-256 of
their text, as the Automatic Persisted Queries protocol names them
(``extensions.persistedQuery.sha256Hash``).

Two kinds share the table: documents clients *registered* (APQ: a hash sent with its
document, stored so that the next request may send the hash alone), bounded in number and
bytes so that registrations cannot fill the database; and documents the operator *trusted*
(``nkcinema documents add``), the only ones that run when trusted documents are on. Trusting
a registered document marks it trusted; trusted documents count against no bound.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import LargeBinary, cast, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from db.models import PersistedDocument

HASH_LENGTH = 64  # hexadecimal digits of a SHA-256


def document_hash(document: str) -> str:
    """The SHA-256 of a document's UTF-8 text, in lowercase hexadecimal (what clients send)."""
    return hashlib.sha256(document.encode("utf-8", "surrogatepass")).hexdigest()


def is_hash(value: object) -> bool:
    """Whether ``value`` is a SHA-256 in lowercase hexadecimal."""
    return (
        isinstance(value, str)
        and len(value) == HASH_LENGTH
        and all(c in "0123456789abcdef" for c in value)
    )


@dataclass(frozen=True)
class Known:
    """A persisted document, as a request needs it."""

    document: str
    trusted: bool


async def find_document(session: AsyncSession, sha256: str) -> Known | None:
    row = (
        await session.execute(
            select(PersistedDocument.document, PersistedDocument.trusted).where(
                PersistedDocument.sha256 == sha256
            )
        )
    ).first()
    return None if row is None else Known(row.document, bool(row.trusted))


def _size(session: AsyncSession) -> ColumnElement[int]:
    """The bytes of a stored document's text (UTF-8), on either database."""
    if session.get_bind().dialect.name == "postgresql":
        return func.octet_length(PersistedDocument.document)
    return func.length(cast(PersistedDocument.document, LargeBinary))


async def register_document(
    session: AsyncSession, sha256: str, document: str, *, max_documents: int, max_bytes: int
) -> bool:
    """Store a client's document (not trusted) unless the registered documents would then
    be more than ``max_documents`` or ``max_bytes``; whether it is stored (a document already
    there, registered by another request or instance meanwhile, counts as stored). Commits."""
    count, size = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(_size(session)), 0)).where(
                PersistedDocument.trusted.is_(False)
            )
        )
    ).one()
    if count + 1 > max_documents or size + len(document.encode("utf-8")) > max_bytes:
        return False
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(
        insert(PersistedDocument)
        .values(sha256=sha256, document=document, trusted=False, created_at=datetime.now(UTC))
        .on_conflict_do_nothing(index_elements=["sha256"])
    )
    await session.commit()
    return True


@dataclass(frozen=True)
class Trusted:
    added: int  # new documents
    marked: int  # registered documents now trusted
    unchanged: int  # trusted already


async def trust_documents(session: AsyncSession, documents: Iterable[str]) -> Trusted:
    """Store ``documents`` as trusted (registered ones become trusted). Flushes; the caller
    commits."""
    added = marked = unchanged = 0
    by_hash = {document_hash(d): d for d in documents}
    found = {
        row.sha256: row
        for row in await session.scalars(
            select(PersistedDocument).where(PersistedDocument.sha256.in_(list(by_hash)))
        )
    }
    now = datetime.now(UTC)
    for sha256, document in by_hash.items():
        row = found.get(sha256)
        if row is None:
            session.add(
                PersistedDocument(sha256=sha256, document=document, trusted=True, created_at=now)
            )
            added += 1
        elif not row.trusted:
            row.trusted = True
            marked += 1
        else:
            unchanged += 1
    await session.flush()
    return Trusted(added, marked, unchanged)


async def list_documents(session: AsyncSession) -> list[PersistedDocument]:
    """Every persisted document: trusted first, then oldest first."""
    return list(
        await session.scalars(
            select(PersistedDocument).order_by(
                PersistedDocument.trusted.desc(),
                PersistedDocument.created_at,
                PersistedDocument.sha256,
            )
        )
    )
