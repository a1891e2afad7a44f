"""A credit carries what a person's page of works shows of each work: title and theme tags.

W3 of ``bench.load`` (100 directors x their first 10 works, with titles, years and themes)
read each director's page from ``credits``' ordered index (0008), then fetched every work on
it by primary key: 450-500 random probes into ``works``, whose heap is ten times larger at
100,000 works than at 10,000, and each probe about twice as slow there (cache misses, not
more pages: ``bench/README.md``, "Why W3 grows with the catalog"). Those probes were what
remained of W3's growth with the catalog after 0010.

Here a credit also carries its work's ``title`` and (0010's) ``theme_ids``, and the index
that orders a person's works in a role holds them: ``work_title`` as a last key column (after
``work_id``, which is unique per person and role, so the order is unchanged) and, on
PostgreSQL, ``work_theme_ids`` as an INCLUDE column. A page that shows only what the credit
carries (title, year, id, themes, and anything reached through the work's id) is then read
from that person's adjacent index entries alone (``gql.compiled.sql``). SQLite reads a
work's themes from work_themes' covering index as before (see 0010), so its index does not
hold the array; the column is kept there all the same, one schema for both.

The copies are the database's to keep, as 0008's are, by the same triggers, widened: on
every insert into ``credits`` (and change of its ``work_id``) from the work's row, and on
every change of a work's year, title, title key or theme tags to its credits. A tag write
therefore rewrites the work's row (0010) and then its credits (about four per work).

Note for later migrations: SQLite's batch mode rebuilds a table by copying it, and a rebuilt
``credits`` or ``works`` loses these triggers; such a migration must create them again.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT_LENGTH = 500
KEYS = ("person_id", "role", "work_year_unknown", "work_year", "work_title_key", "work_id")
OLD_INDEX = "ix_credits_person_id_role_work_order"
INDEX = "ix_credits_person_id_role_work_page"
THEME_IDS = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# -- PostgreSQL: 0008's two functions, replaced by ones that copy two more columns, and the
# works trigger's column list widened.


def _postgresql_functions(copy_all: bool) -> tuple[str, ...]:
    credit_columns = "year, title_key, title, theme_ids" if copy_all else "year, title_key"
    credit_assignments = (
        "NEW.work_title := work.title;\n        NEW.work_theme_ids := work.theme_ids;"
        if copy_all
        else ""
    )
    work_assignments = (
        ",\n        work_title = NEW.title,\n        work_theme_ids = NEW.theme_ids"
        if copy_all
        else ""
    )
    return (
        f"""
CREATE OR REPLACE FUNCTION credits_copy_work_order() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    work record;
BEGIN
    SELECT {credit_columns} INTO work FROM works WHERE id = NEW.work_id;
    IF FOUND THEN  -- else the foreign key rejects the row, as it did before
        NEW.work_year_unknown := CASE WHEN work.year IS NULL THEN 1 ELSE 0 END;
        NEW.work_year := coalesce(work.year, 0);
        NEW.work_title_key := work.title_key;
        {credit_assignments}
    END IF;
    RETURN NEW;
END
$$""",
        f"""
CREATE OR REPLACE FUNCTION works_copy_order_to_credits() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE credits SET
        work_year_unknown = CASE WHEN NEW.year IS NULL THEN 1 ELSE 0 END,
        work_year = coalesce(NEW.year, 0),
        work_title_key = NEW.title_key{work_assignments}
    WHERE work_id = NEW.id;
    RETURN NULL;
END
$$""",
    )


def _works_trigger(columns: Sequence[str], postgresql_: bool) -> tuple[str, ...]:
    if postgresql_:
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
        return (
            "DROP TRIGGER works_copy_order_to_credits ON works",
            f"""
CREATE TRIGGER works_copy_order_to_credits AFTER UPDATE OF {", ".join(columns)} ON works
FOR EACH ROW WHEN ({changed})
EXECUTE FUNCTION works_copy_order_to_credits()""",
        )
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)
    copies = ["work_year_unknown", "work_year", "work_title_key"]
    values = [
        "CASE WHEN NEW.year IS NULL THEN 1 ELSE 0 END",
        "coalesce(NEW.year, 0)",
        "NEW.title_key",
    ]
    if "theme_ids" in columns:
        copies += ["work_title", "work_theme_ids"]
        values += ["NEW.title", "NEW.theme_ids"]
    assignments = ",\n        ".join(f"{c} = {v}" for c, v in zip(copies, values, strict=True))
    return (
        "DROP TRIGGER works_copy_order_to_credits",
        f"""
CREATE TRIGGER works_copy_order_to_credits AFTER UPDATE OF {", ".join(columns)} ON works
WHEN {changed}
BEGIN
    UPDATE credits SET
        {assignments}
    WHERE work_id = NEW.id;
END""",
    )


# -- SQLite cannot assign NEW in a trigger: 0008's triggers update the inserted row at once,
# in the same statement; here they update the two more columns too.


def _sqlite_credit_triggers(copy_all: bool) -> tuple[str, ...]:
    columns = "work_year_unknown, work_year, work_title_key"
    values = "CASE WHEN year IS NULL THEN 1 ELSE 0 END, coalesce(year, 0), title_key"
    if copy_all:
        columns += ", work_title, work_theme_ids"
        values += ", title, theme_ids"
    copy = f"""
    UPDATE credits SET ({columns}) = (SELECT {values} FROM works WHERE id = NEW.work_id)
    WHERE rowid = NEW.rowid AND EXISTS (SELECT 1 FROM works WHERE id = NEW.work_id);"""
    return (
        "DROP TRIGGER credits_copy_work_order",
        "DROP TRIGGER credits_copy_work_order_on_update",
        f"CREATE TRIGGER credits_copy_work_order AFTER INSERT ON credits BEGIN{copy}\nEND",
        "CREATE TRIGGER credits_copy_work_order_on_update AFTER UPDATE OF work_id ON credits "
        f"BEGIN{copy}\nEND",
    )


BACKFILL = """
UPDATE credits SET (work_title, work_theme_ids) = (
    SELECT title, theme_ids FROM works WHERE works.id = credits.work_id)"""

OLD_WORK_COLUMNS = ("year", "title_key")
WORK_COLUMNS = ("year", "title_key", "title", "theme_ids")


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _triggers(copy_all: bool) -> tuple[str, ...]:
    columns = WORK_COLUMNS if copy_all else OLD_WORK_COLUMNS
    if _postgresql():
        return (*_postgresql_functions(copy_all), *_works_trigger(columns, True))
    return (*_sqlite_credit_triggers(copy_all), *_works_trigger(columns, False))


def upgrade() -> None:
    # Not in batch mode: on SQLite, rebuilding ``credits`` would drop 0008's triggers on it.
    op.add_column(
        "credits",
        sa.Column("work_title", sa.String(length=TEXT_LENGTH), server_default="", nullable=False),
    )
    op.add_column(
        "credits", sa.Column("work_theme_ids", THEME_IDS, server_default="[]", nullable=False)
    )
    for statement in _triggers(copy_all=True):
        op.execute(statement)
    op.execute(BACKFILL)
    op.drop_index(OLD_INDEX, table_name="credits")
    op.create_index(
        INDEX,
        "credits",
        [*KEYS, "work_title"],
        unique=False,
        postgresql_include=["work_theme_ids"],
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="credits")
    op.create_index(OLD_INDEX, "credits", list(KEYS), unique=False)
    for statement in _triggers(copy_all=False):
        op.execute(statement)
    if _postgresql():
        op.drop_column("credits", "work_theme_ids")
        op.drop_column("credits", "work_title")
    else:  # SQLite 3.35+ drops a column in place (no rebuild, 0008's triggers stay)
        op.execute("ALTER TABLE credits DROP COLUMN work_theme_ids")
        op.execute("ALTER TABLE credits DROP COLUMN work_title")
