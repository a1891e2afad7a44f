"""A credit carries its work's sort keys, so a person's works in a role are read in order.

``person.works(role:, first: 10)`` is ordered by the works' own keys (year unknown last,
year, title, id: ``db.queries.work_ordering``). With those keys only on ``works``, the
database read every work of the person, sorted them, and kept 10: a director of 619 works
cost 15 ms for one page, and W3 of ``bench.load`` (100 directors) read 30% more works than
it returned. Here ``credits`` gets copies of the three keys and one index, (person, role,
keys, work), from which a page is the index's next ``first`` entries.

The copies are the database's to keep, by triggers: on every insert into ``credits`` (and
change of its ``work_id``) from the work's row, and on every change of a work's ``year`` or
``title_key`` to its credits. Every writer (the seeds, catalog imports, curation, the
benchmark's bulk loader, a hand-written UPDATE) keeps them right without knowing of them.

Note for later migrations: SQLite's batch mode rebuilds a table by copying it, and a rebuilt
``credits`` or ``works`` loses these triggers; such a migration must create them again.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT_LENGTH = 500
KEYS = ("work_year_unknown", "work_year", "work_title_key")

POSTGRESQL_UP = (
    """
CREATE FUNCTION credits_copy_work_order() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    work record;
BEGIN
    SELECT year, title_key INTO work FROM works WHERE id = NEW.work_id;
    IF FOUND THEN  -- else the foreign key rejects the row, as it did before
        NEW.work_year_unknown := CASE WHEN work.year IS NULL THEN 1 ELSE 0 END;
        NEW.work_year := coalesce(work.year, 0);
        NEW.work_title_key := work.title_key;
    END IF;
    RETURN NEW;
END
$$""",
    """
CREATE TRIGGER credits_copy_work_order BEFORE INSERT OR UPDATE OF work_id ON credits
FOR EACH ROW EXECUTE FUNCTION credits_copy_work_order()""",
    """
CREATE FUNCTION works_copy_order_to_credits() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE credits SET
        work_year_unknown = CASE WHEN NEW.year IS NULL THEN 1 ELSE 0 END,
        work_year = coalesce(NEW.year, 0),
        work_title_key = NEW.title_key
    WHERE work_id = NEW.id;
    RETURN NULL;
END
$$""",
    """
CREATE TRIGGER works_copy_order_to_credits AFTER UPDATE OF year, title_key ON works
FOR EACH ROW
WHEN (OLD.year IS DISTINCT FROM NEW.year OR OLD.title_key IS DISTINCT FROM NEW.title_key)
EXECUTE FUNCTION works_copy_order_to_credits()""",
)

POSTGRESQL_DOWN = (
    "DROP TRIGGER IF EXISTS works_copy_order_to_credits ON works",
    "DROP FUNCTION IF EXISTS works_copy_order_to_credits()",
    "DROP TRIGGER IF EXISTS credits_copy_work_order ON credits",
    "DROP FUNCTION IF EXISTS credits_copy_work_order()",
)

# SQLite cannot assign NEW in a trigger: the row is inserted with the columns' defaults and
# updated at once, in the same statement. The EXISTS leaves a credit of a missing work to
# the foreign key, as before.
_SQLITE_COPY = """
    UPDATE credits SET (work_year_unknown, work_year, work_title_key) = (
        SELECT CASE WHEN year IS NULL THEN 1 ELSE 0 END, coalesce(year, 0), title_key
        FROM works WHERE id = NEW.work_id)
    WHERE rowid = NEW.rowid AND EXISTS (SELECT 1 FROM works WHERE id = NEW.work_id);"""

SQLITE_UP = (
    f"CREATE TRIGGER credits_copy_work_order AFTER INSERT ON credits BEGIN{_SQLITE_COPY}\nEND",
    "CREATE TRIGGER credits_copy_work_order_on_update AFTER UPDATE OF work_id ON credits "
    f"BEGIN{_SQLITE_COPY}\nEND",
    """
CREATE TRIGGER works_copy_order_to_credits AFTER UPDATE OF year, title_key ON works
WHEN OLD.year IS NOT NEW.year OR OLD.title_key IS NOT NEW.title_key
BEGIN
    UPDATE credits SET
        work_year_unknown = CASE WHEN NEW.year IS NULL THEN 1 ELSE 0 END,
        work_year = coalesce(NEW.year, 0),
        work_title_key = NEW.title_key
    WHERE work_id = NEW.id;
END""",
)

SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS works_copy_order_to_credits",
    "DROP TRIGGER IF EXISTS credits_copy_work_order_on_update",
    "DROP TRIGGER IF EXISTS credits_copy_work_order",
)

BACKFILL = """
UPDATE credits SET (work_year_unknown, work_year, work_title_key) = (
    SELECT CASE WHEN year IS NULL THEN 1 ELSE 0 END, coalesce(year, 0), title_key
    FROM works WHERE works.id = credits.work_id)"""


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    title_key = sa.String(length=TEXT_LENGTH).with_variant(
        sa.String(length=TEXT_LENGTH, collation="C"), "postgresql"
    )
    with op.batch_alter_table("credits") as batch_op:
        batch_op.add_column(
            sa.Column("work_year_unknown", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("work_year", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("work_title_key", title_key, server_default="", nullable=False)
        )
    op.execute(BACKFILL)
    with op.batch_alter_table("credits") as batch_op:
        batch_op.drop_index("ix_credits_person_id_role_work_id")
        batch_op.create_index(
            "ix_credits_person_id_role_work_order",
            ["person_id", "role", *KEYS, "work_id"],
            unique=False,
        )
    for statement in POSTGRESQL_UP if _postgresql() else SQLITE_UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in POSTGRESQL_DOWN if _postgresql() else SQLITE_DOWN:
        op.execute(statement)
    with op.batch_alter_table("credits") as batch_op:
        batch_op.drop_index("ix_credits_person_id_role_work_order")
        batch_op.create_index(
            "ix_credits_person_id_role_work_id", ["person_id", "role", "work_id"], unique=False
        )
        for key in reversed(KEYS):
            batch_op.drop_column(key)
