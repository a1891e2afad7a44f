"""Facet counts kept by the database for one theme's works: works per (theme, co-theme).

A list filtered by one theme (W7) read its kinds, decades and ``totalCount`` from 0016's
``theme_work_counts``, but counted its top themes live: every tag of every work the theme
tags (340 ms at 100,000 works for a common theme, issue #23). ``theme_pair_counts`` keeps,
for each two themes (a theme with itself too: its own works), how many works both tag, so
``db.facet_counts`` reads one theme's top themes as that theme's few hundred rows.

The counts depend only on ``work_themes`` (not on a work's kind or year), so triggers on it
alone keep them, in the transaction of every write, as 0016's keep theirs:

- PostgreSQL: statement triggers with transition tables (insert, update, delete). A work's
  deleted tags are deleted by the foreign key's cascade, which fires them too. For each
  work whose tags a statement changed, the pairs with an added tag among the work's tags
  now are added, and those with a removed tag among its tags before are taken (``kept``:
  its tags the statement left alone). TRUNCATE empties the counts, and a bulk load defers
  them and recounts once (``db.facet_counts.deferred``), as 0016's.
- SQLite: row triggers doing the same per row.

A count that falls to 0 is deleted, so the table holds exactly the pairs the live count
finds.

Note for later migrations: SQLite's batch mode rebuilds a table by copying it, and a rebuilt
``work_themes`` loses these triggers; such a migration must create them again.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# -- PostgreSQL: statement triggers ------------------------------------------------------------
# as 0016's: a bulk load sets this for its transaction and recounts once at the end
DEFERRED = "coalesce(current_setting('nkcinema.defer_facet_counts', true), '') = 'on'"

# The pairs a statement changed, of the works it changed (``changed``: their added or their
# removed tags, ``kept``: their other tags): each changed tag with each changed tag of its
# work (itself too), and each changed tag with each kept tag, both ways round.
_PG_PAIRS = """
        SELECT a.theme_id, b.theme_id AS other_id
        FROM changed a JOIN changed b ON b.work_id = a.work_id
        UNION ALL
        SELECT a.theme_id, k.theme_id FROM changed a JOIN kept k ON k.work_id = a.work_id
        UNION ALL
        SELECT k.theme_id, a.theme_id FROM changed a JOIN kept k ON k.work_id = a.work_id"""
# ``{changed}``: rows with work_id and theme_id; ``{added}``: the statement's added rows,
# which work_themes holds now and which are not kept
_PG_CHANGED = """
    WITH changed AS ({changed}),
    kept AS (
        SELECT wt.work_id, wt.theme_id FROM work_themes wt
        WHERE wt.work_id IN (SELECT work_id FROM changed)
        EXCEPT SELECT x.work_id, x.theme_id FROM {added} x
    )"""
# Counts are added in key order, so that two writers lock the rows they share in one order
# (a deadlock between them is still possible, through the subtractions: ``db.races`` retries).
_PG_ADD = f"""{_PG_CHANGED}
    INSERT INTO theme_pair_counts AS c (theme_id, other_id, works)
    SELECT p.theme_id, p.other_id, count(*) FROM ({_PG_PAIRS}
    ) p GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (theme_id, other_id) DO UPDATE SET works = c.works + excluded.works;"""
_PG_TAKE = f"""{_PG_CHANGED}
    UPDATE theme_pair_counts c SET works = c.works - d.n
    FROM (SELECT p.theme_id, p.other_id, count(*) AS n FROM ({_PG_PAIRS}
    ) p GROUP BY 1, 2) d
    WHERE c.theme_id = d.theme_id AND c.other_id = d.other_id;{_PG_CHANGED}
    DELETE FROM theme_pair_counts c
    WHERE c.works <= 0 AND (c.theme_id, c.other_id) IN ({_PG_PAIRS}
    );"""
_PG_NEW_ONLY = (
    "(SELECT work_id, theme_id FROM new_rows EXCEPT SELECT work_id, theme_id FROM old_rows)"
)
_PG_OLD_ONLY = (
    "(SELECT work_id, theme_id FROM old_rows EXCEPT SELECT work_id, theme_id FROM new_rows)"
)
_NOTHING = "(SELECT work_id, theme_id FROM work_themes WHERE false)"

POSTGRESQL_UP = (
    f"""
CREATE FUNCTION theme_pair_counts_follow_tags() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {DEFERRED} THEN
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN{_PG_ADD.format(changed="SELECT * FROM new_rows", added="new_rows")}
    ELSIF TG_OP = 'DELETE' THEN{_PG_TAKE.format(changed="SELECT * FROM old_rows", added=_NOTHING)}
    ELSIF EXISTS {_PG_NEW_ONLY} OR EXISTS {_PG_OLD_ONLY} THEN
        -- a tag moved to another work or theme (an update of positions alone changes nothing)
        {_PG_ADD.format(changed=_PG_NEW_ONLY[1:-1], added=_PG_NEW_ONLY)}
        {_PG_TAKE.format(changed=_PG_OLD_ONLY[1:-1], added=_PG_NEW_ONLY)}
    END IF;
    RETURN NULL;
END
$$""",
    """
CREATE FUNCTION theme_pair_counts_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM theme_pair_counts;
    RETURN NULL;
END
$$""",
    """
CREATE TRIGGER theme_pair_counts_on_insert AFTER INSERT ON work_themes
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION theme_pair_counts_follow_tags()""",
    """
CREATE TRIGGER theme_pair_counts_on_update AFTER UPDATE ON work_themes
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION theme_pair_counts_follow_tags()""",
    """
CREATE TRIGGER theme_pair_counts_on_delete AFTER DELETE ON work_themes
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION theme_pair_counts_follow_tags()""",
    """
CREATE TRIGGER theme_pair_counts_truncated AFTER TRUNCATE ON work_themes
FOR EACH STATEMENT EXECUTE FUNCTION theme_pair_counts_truncated()""",
)

POSTGRESQL_DOWN = (
    "DROP TRIGGER IF EXISTS theme_pair_counts_truncated ON work_themes",
    "DROP TRIGGER IF EXISTS theme_pair_counts_on_delete ON work_themes",
    "DROP TRIGGER IF EXISTS theme_pair_counts_on_update ON work_themes",
    "DROP TRIGGER IF EXISTS theme_pair_counts_on_insert ON work_themes",
    "DROP FUNCTION IF EXISTS theme_pair_counts_truncated()",
    "DROP FUNCTION IF EXISTS theme_pair_counts_follow_tags()",
)

# -- SQLite: row triggers ----------------------------------------------------------------------
_SQLITE_TAGS = "SELECT theme_id FROM work_themes WHERE work_id = {row}.work_id"


def _sqlite_add(row: str) -> str:
    """Count the tag ``row`` (which work_themes holds) with each tag of its work, itself too."""
    tags = _SQLITE_TAGS.format(row=row)
    return f"""
    INSERT INTO theme_pair_counts (theme_id, other_id, works)
    SELECT a, b, 1 FROM (
        SELECT {row}.theme_id AS a, theme_id AS b FROM ({tags})
        UNION ALL
        SELECT theme_id, {row}.theme_id FROM ({tags}) WHERE theme_id <> {row}.theme_id
    ) WHERE true
    ON CONFLICT (theme_id, other_id) DO UPDATE SET works = works + 1;"""


def _sqlite_take(row: str, others: str) -> str:
    """Uncount the tag ``row`` (gone) with itself and each of ``others`` (a select of theme
    ids: the work's other tags); as two conditions, each read by the key's index."""
    own = f"theme_id = {row}.theme_id AND (other_id = {row}.theme_id OR other_id IN ({others}))"
    theirs = f"other_id = {row}.theme_id AND theme_id IN ({others})"
    return "".join(
        f"""
    UPDATE theme_pair_counts SET works = works - 1 WHERE {where};
    DELETE FROM theme_pair_counts WHERE {where} AND works <= 0;"""
        for where in (own, theirs)
    )


SQLITE_UP = (
    "CREATE TRIGGER theme_pair_counts_on_insert AFTER INSERT ON work_themes BEGIN"
    f"{_sqlite_add('NEW')}\nEND",
    "CREATE TRIGGER theme_pair_counts_on_delete AFTER DELETE ON work_themes BEGIN"
    f"{_sqlite_take('OLD', _SQLITE_TAGS.format(row='OLD'))}\nEND",
    # the old tag's work's other tags are its tags now but the moved one
    "CREATE TRIGGER theme_pair_counts_on_update AFTER UPDATE OF work_id, theme_id ON work_themes "
    "WHEN OLD.work_id IS NOT NEW.work_id OR OLD.theme_id IS NOT NEW.theme_id BEGIN"
    f"{_sqlite_add('NEW')}"
    + _sqlite_take(
        "OLD",
        _SQLITE_TAGS.format(row="OLD")
        + " AND NOT (work_id = NEW.work_id AND theme_id = NEW.theme_id)",
    )
    + "\nEND",
)

SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS theme_pair_counts_on_update",
    "DROP TRIGGER IF EXISTS theme_pair_counts_on_delete",
    "DROP TRIGGER IF EXISTS theme_pair_counts_on_insert",
)

BACKFILL = (
    "INSERT INTO theme_pair_counts (theme_id, other_id, works) "
    "SELECT a.theme_id, b.theme_id, count(*) "
    "FROM work_themes a JOIN work_themes b ON b.work_id = a.work_id GROUP BY 1, 2"
    " ORDER BY 1, 2"  # a theme's rows on few pages
)


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table(
        "theme_pair_counts",
        sa.Column("theme_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("other_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("works", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("theme_id", "other_id"),
    )
    op.execute(BACKFILL)
    # Not in batch mode: on SQLite, rebuilding ``work_themes`` would drop its triggers.
    for statement in POSTGRESQL_UP if _postgresql() else SQLITE_UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in POSTGRESQL_DOWN if _postgresql() else SQLITE_DOWN:
        op.execute(statement)
    op.drop_table("theme_pair_counts")
