"""The catalog version: a number every change to the catalog increases (``catalog_state``).

Readers use it to tell whether what they cached is still current (HTTP ``ETag``s); writers
bump it in the same transaction as their change, so a reader never sees new data under an
old version.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import ScalarSelect

from db.models import CatalogState

CATALOG_STATE_ID = 1


def version_subquery() -> ScalarSelect[int]:
    """The version as a scalar subquery, to read beside other values in one statement."""
    statement = select(CatalogState.version).where(CatalogState.id == CATALOG_STATE_ID)
    return statement.scalar_subquery()


async def catalog_version(session: AsyncSession) -> int:
    """The current version (one indexed single-row read)."""
    statement = select(CatalogState.version).where(CatalogState.id == CATALOG_STATE_ID)
    version = (await session.execute(statement)).scalar_one_or_none()
    if version is None:  # a schema from before migration 0005 filled the row: treat as new
        return 1
    return int(version)


async def bump_catalog_version(session: AsyncSession) -> int:
    """Increase the version within the session's transaction; the new version."""
    statement = (
        update(CatalogState)
        .where(CatalogState.id == CATALOG_STATE_ID)
        .values(version=CatalogState.version + 1)
        .returning(CatalogState.version)
    )
    version = (await session.execute(statement)).scalar_one_or_none()
    if version is None:
        session.add(CatalogState(id=CATALOG_STATE_ID, version=2))
        await session.flush()
        return 2
    return int(version)
