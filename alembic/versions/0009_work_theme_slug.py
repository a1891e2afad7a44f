"""A work's theme tag carries its theme's slug, so a filter by theme is planned per theme.

``works(filter: {themes: [...]})`` names its themes by slug, and matched them through a join
to ``themes``. PostgreSQL then planned every theme as the average one (1,000 of 300,000 tags
in the 100,000-work benchmark catalog): a page of 50 works of the commonest theme (39,355
works) collected and sorted every match, 86 ms at the median and 171 ms for that theme
(``bench/results.md``, F2), where walking the title index finds 50 matches in 128 works.
With the slug on ``work_themes`` the condition is on a column the planner keeps per-value
statistics for, and it chooses per theme: the title index for a common theme, the new
(theme_slug, work_id) index and a small sort for a rare one. The same index answers the
walk's probe ("is this work tagged with it?") on its own.

The copies are the database's to keep, by triggers, as migration 0008 keeps the credits'
copies of their works' sort keys: on every insert into ``work_themes`` (and change of its
``theme_id``) from the theme's row, and on every change of a theme's slug to its tags.
Every writer (the seeds, catalog imports, curation, the benchmark's bulk loader, a
hand-written UPDATE) keeps them right without knowing of them.

Note for later migrations: SQLite's batch mode rebuilds a table by copying it, and a rebuilt
``work_themes`` or ``themes`` loses these triggers; such a migration must create them again.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLUG_LENGTH = 200
INDEX = "ix_work_themes_theme_slug_work_id"

POSTGRESQL_UP = (
    """
CREATE FUNCTION work_themes_copy_theme_slug() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    theme record;
BEGIN
    SELECT slug INTO theme FROM themes WHERE id = NEW.theme_id;
    IF FOUND THEN  -- else the foreign key rejects the row, as it did before
        NEW.theme_slug := theme.slug;
    END IF;
    RETURN NEW;
END
$$""",
    """
CREATE TRIGGER work_themes_copy_theme_slug BEFORE INSERT OR UPDATE OF theme_id ON work_themes
FOR EACH ROW EXECUTE FUNCTION work_themes_copy_theme_slug()""",
    """
CREATE FUNCTION themes_copy_slug_to_work_themes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE work_themes SET theme_slug = NEW.slug WHERE theme_id = NEW.id;
    RETURN NULL;
END
$$""",
    """
CREATE TRIGGER themes_copy_slug_to_work_themes AFTER UPDATE OF slug ON themes
FOR EACH ROW WHEN (OLD.slug IS DISTINCT FROM NEW.slug)
EXECUTE FUNCTION themes_copy_slug_to_work_themes()""",
)

POSTGRESQL_DOWN = (
    "DROP TRIGGER IF EXISTS themes_copy_slug_to_work_themes ON themes",
    "DROP FUNCTION IF EXISTS themes_copy_slug_to_work_themes()",
    "DROP TRIGGER IF EXISTS work_themes_copy_theme_slug ON work_themes",
    "DROP FUNCTION IF EXISTS work_themes_copy_theme_slug()",
)

# SQLite cannot assign NEW in a trigger: the row is inserted with the column's default and
# updated at once, in the same statement. The EXISTS leaves a tag of a missing theme to the
# foreign key, as before.
_SQLITE_COPY = """
    UPDATE work_themes SET theme_slug = (SELECT slug FROM themes WHERE id = NEW.theme_id)
    WHERE work_id = NEW.work_id AND theme_id = NEW.theme_id
      AND EXISTS (SELECT 1 FROM themes WHERE id = NEW.theme_id);"""

SQLITE_UP = (
    f"CREATE TRIGGER work_themes_copy_theme_slug AFTER INSERT ON work_themes BEGIN{_SQLITE_COPY}"
    "\nEND",
    "CREATE TRIGGER work_themes_copy_theme_slug_on_update AFTER UPDATE OF theme_id ON work_themes "
    f"BEGIN{_SQLITE_COPY}\nEND",
    """
CREATE TRIGGER themes_copy_slug_to_work_themes AFTER UPDATE OF slug ON themes
WHEN OLD.slug IS NOT NEW.slug
BEGIN
    UPDATE work_themes SET theme_slug = NEW.slug WHERE theme_id = NEW.id;
END""",
)

SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS themes_copy_slug_to_work_themes",
    "DROP TRIGGER IF EXISTS work_themes_copy_theme_slug_on_update",
    "DROP TRIGGER IF EXISTS work_themes_copy_theme_slug",
)

BACKFILL = """
UPDATE work_themes SET theme_slug = (
    SELECT slug FROM themes WHERE themes.id = work_themes.theme_id)"""


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    with op.batch_alter_table("work_themes") as batch_op:
        batch_op.add_column(
            sa.Column(
                "theme_slug", sa.String(length=SLUG_LENGTH), server_default="", nullable=False
            )
        )
    op.execute(BACKFILL)
    with op.batch_alter_table("work_themes") as batch_op:
        batch_op.create_index(INDEX, ["theme_slug", "work_id"], unique=False)
    for statement in POSTGRESQL_UP if _postgresql() else SQLITE_UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in POSTGRESQL_DOWN if _postgresql() else SQLITE_DOWN:
        op.execute(statement)
    with op.batch_alter_table("work_themes") as batch_op:
        batch_op.drop_index(INDEX)
        batch_op.drop_column("theme_slug")
