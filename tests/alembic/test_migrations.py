"""The Alembic migrations against a brand-new database of the backend under test.

upgrade head -> no drift from the models -> downgrade base leaves no catalog object ->
upgrade head again -> still no drift. Alembic's env.py runs its own event loop, so its
commands run in a worker thread.
"""

from __future__ import annotations

import asyncio

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from alembic import command
from cli import alembic_config
from db import models  # noqa: F401  (registers the tables on the metadata)
from db.base import Base
from db.engine import create_engine
from db.search import is_search_index

ALEMBIC_TABLE = "alembic_version"


async def _schema(database_url: str) -> dict[str, set[str]]:
    """{table: column names} of every table in the database, Alembic's own excluded."""

    def read(conn: Connection) -> dict[str, set[str]]:
        inspector = inspect(conn)
        return {
            table: {column["name"] for column in inspector.get_columns(table)}
            for table in inspector.get_table_names()
            if table != ALEMBIC_TABLE and not is_search_index(table)
        }

    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(read)
    finally:
        await engine.dispose()


async def _leftover_objects(database_url: str) -> list[str]:
    """Indexes, views, triggers, functions, sequences or types that are not Alembic's own."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                rows = await conn.execute(
                    text(
                        "SELECT type || ' ' || name FROM sqlite_master "
                        "WHERE tbl_name != :alembic AND name NOT LIKE 'sqlite_%'"
                    ),
                    {"alembic": ALEMBIC_TABLE},
                )
                return [row[0] for row in rows]
            sequences = await conn.execute(
                text(
                    "SELECT 'sequence ' || sequence_name FROM information_schema.sequences "
                    "WHERE sequence_schema = current_schema()"
                )
            )
            types = await conn.execute(
                text(
                    "SELECT 'type ' || t.typname FROM pg_type t "
                    "JOIN pg_namespace n ON n.oid = t.typnamespace "
                    "WHERE n.nspname = current_schema() AND t.typtype IN ('e', 'd')"
                )
            )
            views = await conn.execute(
                text(
                    "SELECT 'view ' || table_name FROM information_schema.views "
                    "WHERE table_schema = current_schema()"
                )
            )
            functions = await conn.execute(
                text(
                    "SELECT 'function ' || p.proname FROM pg_proc p "
                    "JOIN pg_namespace n ON n.oid = p.pronamespace "
                    "WHERE n.nspname = current_schema() AND NOT EXISTS ("
                    "  SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')"
                )
            )
            results = (sequences, types, views, functions)
            return [row[0] for result in results for row in result]
    finally:
        await engine.dispose()


def _model_schema() -> dict[str, set[str]]:
    return {name: {c.name for c in table.columns} for name, table in Base.metadata.tables.items()}


async def test_upgrade_check_downgrade_upgrade_check(empty_database: str) -> None:
    config = alembic_config(empty_database)
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1  # one line of history
    assert await _schema(empty_database) == {}

    await asyncio.to_thread(command.upgrade, config, "head")
    # The migration creates exactly the models' tables and columns ...
    assert await _schema(empty_database) == _model_schema()
    # ... and autogenerate finds nothing more to do (check raises on any drift).
    await asyncio.to_thread(command.check, config)

    await asyncio.to_thread(command.downgrade, config, "base")
    assert await _schema(empty_database) == {}
    assert await _leftover_objects(empty_database) == []

    await asyncio.to_thread(command.upgrade, config, "head")
    assert await _schema(empty_database) == _model_schema()
    await asyncio.to_thread(command.check, config)


async def test_the_models_declare_the_catalog_tables() -> None:
    """Guards the comparison above against an accidentally empty metadata."""
    assert {"works", "people", "themes", "sources"} <= set(Base.metadata.tables)
