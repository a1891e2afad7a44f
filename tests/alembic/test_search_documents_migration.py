"""Migration 0014 rebuilds every search document of an existing database (and 0014's
downgrade rebuilds them as before): a database moved forward searches as a new one does."""

from __future__ import annotations

import asyncio

from alembic.script import ScriptDirectory
from sqlalchemy import text

from alembic import command
from cli import alembic_config
from db.engine import create_engine
from db.search_documents import person_document, theme_document, work_document

REVISION = "0014"

ROWS = (
    "INSERT INTO sources (id, key, title, url) VALUES (1, 'seed', 'Seed', NULL)",
    "INSERT INTO themes (id, slug, name, name_key, description, search_text) "
    "VALUES (1, 'love', 'Love', 'love', NULL, '|rove|')",
    "INSERT INTO people (id, slug, name, name_key, original_name, biography, search_text) "
    "VALUES (1, 'pak-hak', 'Pak Hak', 'pak hak', '박학', 'A director of Pyongyang.', "
    "'|pakhak|박학|hakpak|')",
    "INSERT INTO person_alternative_names (person_id, position, name) VALUES (1, 0, 'Hak Pak')",
    "INSERT INTO works (id, slug, title, title_key, original_title, kind, year, synopsis, "
    "search_text) VALUES (1, 'sea-of-blood', 'Sea of Blood', 'sea of blood', '피바다', 'FILM', "
    "1971, 'An opera.', '|seaofprot|피바다|혈해|')",
    "INSERT INTO work_alternative_titles (work_id, position, title) VALUES (1, 0, '혈해')",
    "INSERT INTO disputes (id, work_id, position, field, stated, reported, source_id, note) "
    "VALUES (1, 1, 0, 'directors', 'Kim Ki-nam', 'Choe Ik-gyu', 1, 'A note.')",
)


async def _documents(url: str) -> tuple[str, str, str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            found = []
            for table in ("works", "people", "themes"):
                found.append(str(await conn.scalar(text(f"SELECT search_text FROM {table}"))))
            return found[0], found[1], found[2]
    finally:
        await engine.dispose()


async def _write(url: str, statements: tuple[str, ...]) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def test_0014_rebuilds_the_search_documents_and_back(empty_database: str) -> None:
    config = alembic_config(empty_database)
    before = ScriptDirectory.from_config(config).get_revision(REVISION).down_revision
    assert isinstance(before, str)
    await asyncio.to_thread(command.upgrade, config, before)
    await _write(empty_database, ROWS)

    await asyncio.to_thread(command.upgrade, config, REVISION)
    assert await _documents(empty_database) == (
        work_document(
            "Sea of Blood", "피바다", ["혈해"], "An opera.", [("Choe Ik-gyu", "A note.")]
        ),
        person_document("Pak Hak", "박학", ["Hak Pak"], "A director of Pyongyang."),
        theme_document("Love"),
    )

    await asyncio.to_thread(command.downgrade, config, before)
    # as 0003-0011 made them: names only, every word folded, Hangul as written
    assert await _documents(empty_database) == (
        "|seaofprot|피바다|혈해|",
        "|pakhak|박학|hakpak|",
        "|rove|",
    )
