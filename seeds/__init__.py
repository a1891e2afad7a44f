"""The bundled seed data and the seeding command's logic (``nkcinema seed``).

Seeding is separate from migrations and idempotent: it upserts by slug, so running it twice
changes nothing the second time.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.catalog_format import CatalogError, Problem
from db.catalog_io import LoadReport, load_catalogs

SEEDS_DIR = Path(__file__).resolve().parent
BUNDLED_CATALOG = SEEDS_DIR / "catalog.json"
SEED_DOCUMENT = SEEDS_DIR / "000_14e5cf84a50bc851.txt"


def read_documents(files: list[Path]) -> list[tuple[str, object]]:
    """Decode each file's JSON; unreadable or malformed files are reported, none is skipped."""
    documents: list[tuple[str, object]] = []
    problems: list[Problem] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            problems.append(Problem(str(path), "", f"cannot read the file ({error})"))
            continue
        try:
            documents.append((str(path), json.loads(text)))
        except json.JSONDecodeError as error:
            problems.append(
                Problem(
                    str(path),
                    f"line {error.lineno} column {error.colno}",
                    f"not valid JSON: {error.msg}",
                )
            )
    if problems:
        raise CatalogError(problems)
    return documents


async def seed(
    sessions: async_sessionmaker[AsyncSession], files: list[Path] | None = None
) -> LoadReport:
    """Load catalog files (default: the bundled seeds) in one transaction: all or nothing."""
    documents = read_documents(files or [BUNDLED_CATALOG])
    async with sessions() as session, session.begin():
        return await load_catalogs(session, documents)
