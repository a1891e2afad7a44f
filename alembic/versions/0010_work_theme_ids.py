"""A work's row carries its theme tags, so a page of works reads their themes without a probe.

Every work on a nested page (W3: 100 directors x 10 works) found its themes by a probe into
``work_themes``' covering index. At 100,000 works that index is ten times the size it is at
10,000 and a probe took 6-7 us instead of 2-3 (cache misses, not more pages); with the
works' primary-key probes it made most of W3's growth with the catalog
(``bench/README.md``, "Why W3 grows with the catalog"). On PostgreSQL the compiled read path
now reads a work's tags from ``works.theme_ids``, ``[[position, theme id], ...]``, on the row
it reads anyway, and joins ``themes`` (300 rows, hashed once per statement). On SQLite,
``json_each`` over the array measured no faster than the covering index, so reads keep the
index there; the column is kept all the same, so that both databases have one schema and one
import path.

The copies are the database's to keep, as 0008 and 0009 keep theirs, but here a child's
change rewrites its parent's row, so they are kept per *statement*, not per tag:

- PostgreSQL: statement triggers with transition tables on ``work_themes`` (insert, update,
  delete) recompute the arrays of the works the statement touched, in one UPDATE that skips
  works whose array is already right; a TRUNCATE empties every array. A multi-row INSERT of
  many works' tags (the catalog import, the benchmark's loader) rewrites each work once, or
  not at all when the writer stored the array with the work (both loaders do: rewriting
  every freshly loaded row would double the table and its indexes until a VACUUM FULL).
- SQLite has row triggers only: every tag written recomputes its work's array. SQLite
  rewrites the row alone (no index covers the column), about as costly as the tag itself.

The array is JSON on SQLite and jsonb on PostgreSQL (compared by value, so a writer's
array and the trigger's agree however they are spaced). Elements carry their position, so
no aggregate's order matters (SQLite's aggregates take no ORDER BY before 3.44).

Note for later migrations: SQLite's batch mode rebuilds a table by copying it, and a rebuilt
``work_themes`` loses these triggers; such a migration must create them again.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

THEME_IDS = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

POSTGRESQL_UP = (
    """
CREATE FUNCTION works_sync_theme_ids(work_ids integer[]) RETURNS void LANGUAGE sql AS $$
UPDATE works w SET theme_ids = x.tags
FROM (
    SELECT ids.id, coalesce(
        (SELECT jsonb_agg(jsonb_build_array(t.position, t.theme_id) ORDER BY t.position)
         FROM work_themes t WHERE t.work_id = ids.id),
        '[]'::jsonb) AS tags
    FROM unnest(work_ids) AS ids(id)
) x
WHERE w.id = x.id AND w.theme_ids IS DISTINCT FROM x.tags
$$""",
    """
CREATE FUNCTION work_themes_sync_works() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM works_sync_theme_ids(ARRAY(SELECT DISTINCT work_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM works_sync_theme_ids(ARRAY(SELECT DISTINCT work_id FROM old_rows));
    ELSE
        PERFORM works_sync_theme_ids(
            ARRAY(SELECT work_id FROM new_rows UNION SELECT work_id FROM old_rows));
    END IF;
    RETURN NULL;
END
$$""",
    """
CREATE TRIGGER work_themes_sync_works_on_insert AFTER INSERT ON work_themes
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION work_themes_sync_works()""",
    """
CREATE TRIGGER work_themes_sync_works_on_update AFTER UPDATE ON work_themes
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION work_themes_sync_works()""",
    """
CREATE TRIGGER work_themes_sync_works_on_delete AFTER DELETE ON work_themes
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION work_themes_sync_works()""",
    """
CREATE FUNCTION work_themes_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE works SET theme_ids = '[]'::jsonb WHERE theme_ids <> '[]'::jsonb;
    RETURN NULL;
END
$$""",
    """
CREATE TRIGGER work_themes_truncated AFTER TRUNCATE ON work_themes
FOR EACH STATEMENT EXECUTE FUNCTION work_themes_truncated()""",
)

POSTGRESQL_DOWN = (
    "DROP TRIGGER IF EXISTS work_themes_truncated ON work_themes",
    "DROP FUNCTION IF EXISTS work_themes_truncated()",
    "DROP TRIGGER IF EXISTS work_themes_sync_works_on_delete ON work_themes",
    "DROP TRIGGER IF EXISTS work_themes_sync_works_on_update ON work_themes",
    "DROP TRIGGER IF EXISTS work_themes_sync_works_on_insert ON work_themes",
    "DROP FUNCTION IF EXISTS work_themes_sync_works()",
    "DROP FUNCTION IF EXISTS works_sync_theme_ids(integer[])",
)


def _sqlite_sync(work: str) -> str:
    return f"""
    UPDATE works SET theme_ids = (
        SELECT json_group_array(json_array(position, theme_id))
        FROM work_themes WHERE work_id = {work})
    WHERE id = {work};"""


SQLITE_UP = (
    "CREATE TRIGGER work_themes_sync_works_on_insert AFTER INSERT ON work_themes "
    f"BEGIN{_sqlite_sync('NEW.work_id')}\nEND",
    "CREATE TRIGGER work_themes_sync_works_on_update AFTER UPDATE ON work_themes "
    f"BEGIN{_sqlite_sync('OLD.work_id')}{_sqlite_sync('NEW.work_id')}\nEND",
    "CREATE TRIGGER work_themes_sync_works_on_delete AFTER DELETE ON work_themes "
    f"BEGIN{_sqlite_sync('OLD.work_id')}\nEND",
)

SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS work_themes_sync_works_on_delete",
    "DROP TRIGGER IF EXISTS work_themes_sync_works_on_update",
    "DROP TRIGGER IF EXISTS work_themes_sync_works_on_insert",
)

POSTGRESQL_BACKFILL = "SELECT works_sync_theme_ids(ARRAY(SELECT DISTINCT work_id FROM work_themes))"
SQLITE_BACKFILL = """
UPDATE works SET theme_ids = (
    SELECT json_group_array(json_array(position, theme_id))
    FROM work_themes WHERE work_id = works.id)
WHERE EXISTS (SELECT 1 FROM work_themes WHERE work_id = works.id)"""


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    # Not in batch mode: on SQLite, rebuilding ``works`` would drop 0008's triggers on it.
    op.add_column("works", sa.Column("theme_ids", THEME_IDS, server_default="[]", nullable=False))
    for statement in POSTGRESQL_UP if _postgresql() else SQLITE_UP:
        op.execute(statement)
    op.execute(POSTGRESQL_BACKFILL if _postgresql() else SQLITE_BACKFILL)


def downgrade() -> None:
    for statement in POSTGRESQL_DOWN if _postgresql() else SQLITE_DOWN:
        op.execute(statement)
    if _postgresql():
        op.drop_column("works", "theme_ids")
    else:  # SQLite 3.35+ drops a column in place (no rebuild, 0008's triggers stay)
        op.execute("ALTER TABLE works DROP COLUMN theme_ids")
