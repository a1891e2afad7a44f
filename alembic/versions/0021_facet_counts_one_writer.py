"""Writers of the kept facet counts queue for them instead of deadlocking (PostgreSQL).

0016's and 0019's statement triggers add to and take from shared count rows (a theme's
count per kind and decade, the pair rows of two themes). Additions lock their rows in key
order, but subtractions lock them in whatever order the plan's join yields, so a tag and an
untag of two works with the same themes, written at once, lock the same rows in opposite
orders. PostgreSQL breaks each such deadlock after ``deadlock_timeout`` (1 s) by aborting one
writer, which ``db.races`` runs again; with 20 curators tagging works of the same two themes
at once, the chain of deadlocks held writers past the 5 s statement timeout
(tests/gql/test_races.py).

Here every statement that changes the counts first takes one transaction-level advisory
lock, before any count row: writers of counts then run one after another from their first
such statement to their commit, and no two of them ever hold count rows the other waits for.
The lock is taken by BEFORE statement triggers, which fire before the AFTER triggers that
count, on exactly the statements that can change counts: any insert or delete of works or
tags, an update of a work's kind or year (not the version bumps every write makes), an update
of tags. A bulk load that defers the counts (``db.facet_counts.deferred``) takes no lock.
SQLite runs one writer at a time and needs nothing.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 07:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The advisory lock's key: any fixed number the application uses for nothing else
# (the bytes of "facetcnt").
LOCK_KEY = 0x66616365_74636E74
DEFERRED = "coalesce(current_setting('nkcinema.defer_facet_counts', true), '') = 'on'"

UP = (
    f"""
CREATE FUNCTION facet_counts_queue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT {DEFERRED} THEN
        PERFORM pg_advisory_xact_lock({LOCK_KEY});
    END IF;
    RETURN NULL;
END
$$""",
    """
CREATE TRIGGER facet_counts_queue BEFORE INSERT OR DELETE OR UPDATE OF kind, year ON works
FOR EACH STATEMENT EXECUTE FUNCTION facet_counts_queue()""",
    """
CREATE TRIGGER facet_counts_queue BEFORE INSERT OR DELETE OR UPDATE ON work_themes
FOR EACH STATEMENT EXECUTE FUNCTION facet_counts_queue()""",
)

DOWN = (
    "DROP TRIGGER IF EXISTS facet_counts_queue ON work_themes",
    "DROP TRIGGER IF EXISTS facet_counts_queue ON works",
    "DROP FUNCTION IF EXISTS facet_counts_queue()",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in DOWN:
            op.execute(statement)
