"""db.interchange.export: the whole catalog read out of the database, as canonical JSON."""

from __future__ import annotations

import json

from sqlalchemy.ext.asyncio import AsyncSession

from db.interchange.export import export_catalog
from db.interchange.format import FORMAT, dump_catalog
from seeds import BUNDLED_CATALOG

KINDS = ("sources", "themes", "studios", "people", "works")


async def test_export_of_the_seeded_catalog_is_the_bundled_file_byte_for_byte(
    session: AsyncSession,
) -> None:
    exported = await export_catalog(session)
    assert exported.encode("utf-8") == BUNDLED_CATALOG.read_bytes()


async def test_export_is_canonical_json(session: AsyncSession) -> None:
    exported = await export_catalog(session)
    document = json.loads(exported)
    assert list(document) == ["format", *KINDS]
    assert document["format"] == FORMAT
    assert dump_catalog(document) == exported
    slugs = [w["slug"] for w in document["works"]]
    assert slugs == sorted(slugs)
    assert "피바다" in exported  # not \uXXXX-escaped
