"""Facet counts kept by the database: works per (kind, year), tags per (theme, kind, decade).

Whole-catalog facets counted every work and every tag: at 100,000 works hundreds of
milliseconds (bench/results-load.md, W5), where a page of 50 works takes 7. ``work_counts``
(a few hundred rows) and ``theme_work_counts`` (a few thousand) hold the same counts grouped
by what the common filters name, so ``db.facet_counts`` answers the whole catalog's facets,
and those under a kind, a year range or one theme, by adding up a small table.

The database keeps them, as 0009-0011 keep their copies, in the transaction of every write,
whoever writes (the catalog import, curation, a migration):

- PostgreSQL: statement triggers with transition tables on ``works`` and ``work_themes``
  (insert, update, delete): a multi-row INSERT of many works (the import) updates each
  count once per statement. A deleted work's tags are subtracted by a row trigger *before*
  the work goes: the foreign key's cascade deletes them after it, when their kind and year
  can no longer be read (the tags' trigger then finds no work and subtracts nothing).
  Deleting the tags there instead would rewrite the work being deleted (0010's
  ``theme_ids``), which PostgreSQL refuses. TRUNCATE empties the counts. A bulk load (the
  catalog import) defers them and recounts once (``db.facet_counts.deferred``).
- SQLite: row triggers doing the same per row.

A count that falls to 0 is deleted, so the tables hold exactly the groups the live counts
find. Unknown years are keyed ``UNKNOWN_YEAR`` (0; a key column cannot be null).

Note for later migrations: SQLite's batch mode rebuilds a table by copying it, and a rebuilt
``works`` or ``work_themes`` loses these triggers; such a migration must create them again.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 17:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

YEAR = "coalesce({row}.year, 0)"
DECADE = "coalesce({row}.year / 10 * 10, 0)"


def _year(row: str) -> str:
    return YEAR.format(row=row)


def _decade(row: str) -> str:
    return DECADE.format(row=row)


# -- PostgreSQL: statement triggers ------------------------------------------------------------
# A bulk load sets this for its transaction and recounts once at the end
# (``db.facet_counts.deferred``): counted statement by statement, every count row was
# rewritten once per batch, and 100,000 works left a table of 5,000 rows on 9 MB of pages
# that every whole-catalog sum read.
DEFERRED = "coalesce(current_setting('nkcinema.defer_facet_counts', true), '') = 'on'"
# Counts are added in key order, so that two writers lock the rows they share in one order
# (a deadlock between them is still possible, through the subtractions: ``db.races`` retries).

# (kind, year) groups of a transition table of works, added to or taken from work_counts
_PG_ADD_WORKS = f"""
    INSERT INTO work_counts AS c (kind, year, works)
    SELECT r.kind, {_year("r")}, count(*) FROM {{rows}} r GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (kind, year) DO UPDATE SET works = c.works + excluded.works;"""
_PG_TAKE_WORKS = f"""
    UPDATE work_counts c SET works = c.works - d.n
    FROM (SELECT r.kind, {_year("r")} AS year, count(*) AS n FROM {{rows}} r GROUP BY 1, 2) d
    WHERE c.kind = d.kind AND c.year = d.year;
    DELETE FROM work_counts WHERE works <= 0;"""
# (theme, kind, decade) groups of tags (``{tags}``: rows with work_id and theme_id) of works
# (``{works}``: rows with id, kind and year)
_PG_ADD_TAGS = f"""
    INSERT INTO theme_work_counts AS c (theme_id, kind, decade, works)
    SELECT t.theme_id, w.kind, {_decade("w")}, count(*)
    FROM {{tags}} t JOIN {{works}} w ON w.id = t.work_id GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (theme_id, kind, decade) DO UPDATE SET works = c.works + excluded.works;"""
_PG_TAKE_TAGS = f"""
    UPDATE theme_work_counts c SET works = c.works - d.n
    FROM (
        SELECT t.theme_id, w.kind, {_decade("w")} AS decade, count(*) AS n
        FROM {{tags}} t JOIN {{works}} w ON w.id = t.work_id GROUP BY 1, 2, 3
    ) d
    WHERE c.theme_id = d.theme_id AND c.kind = d.kind AND c.decade = d.decade;
    DELETE FROM theme_work_counts
    WHERE works <= 0 AND theme_id IN (SELECT t.theme_id FROM {{tags}} t);"""
# the works of an UPDATE whose kind or year changed, as they were ({side} = o) or are (n)
_PG_MOVED = """(
        SELECT {side}.id, {side}.kind, {side}.year FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE o.kind <> n.kind OR o.year IS DISTINCT FROM n.year
    )"""
_PG_MOVED_TAGS = (
    "(SELECT wt.work_id, wt.theme_id FROM work_themes wt WHERE wt.work_id IN "
    "(SELECT o.id FROM old_rows o JOIN new_rows n ON n.id = o.id "
    "WHERE o.kind <> n.kind OR o.year IS DISTINCT FROM n.year))"
)

POSTGRESQL_UP = (
    f"""
CREATE FUNCTION work_counts_follow_works() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {DEFERRED} THEN
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN{_PG_ADD_WORKS.format(rows="new_rows")}
    ELSIF TG_OP = 'DELETE' THEN{_PG_TAKE_WORKS.format(rows="old_rows")}
    ELSIF EXISTS {_PG_MOVED.format(side="n")} THEN{_PG_ADD_WORKS.format(rows=_PG_MOVED.format(side="n"))}
        {_PG_TAKE_WORKS.format(rows=_PG_MOVED.format(side="o"))}
        {_PG_ADD_TAGS.format(tags=_PG_MOVED_TAGS, works=_PG_MOVED.format(side="n"))}
        {_PG_TAKE_TAGS.format(tags=_PG_MOVED_TAGS, works=_PG_MOVED.format(side="o"))}
    END IF;
    RETURN NULL;
END
$$""",
    f"""
CREATE FUNCTION theme_work_counts_follow_tags() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {DEFERRED} THEN
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN{_PG_ADD_TAGS.format(tags="new_rows", works="works")}
    ELSIF TG_OP = 'DELETE' THEN{_PG_TAKE_TAGS.format(tags="old_rows", works="works")}
    ELSE{_PG_ADD_TAGS.format(tags="new_rows", works="works")}
        {_PG_TAKE_TAGS.format(tags="old_rows", works="works")}
    END IF;
    RETURN NULL;
END
$$""",
    f"""
CREATE FUNCTION works_uncount_their_tags() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {DEFERRED} THEN
        RETURN OLD;
    END IF;
    UPDATE theme_work_counts c SET works = c.works - 1
    FROM work_themes t
    WHERE t.work_id = OLD.id AND c.theme_id = t.theme_id AND c.kind = OLD.kind
        AND c.decade = coalesce(OLD.year / 10 * 10, 0);
    DELETE FROM theme_work_counts
    WHERE works <= 0 AND theme_id IN (SELECT theme_id FROM work_themes WHERE work_id = OLD.id);
    RETURN OLD;
END
$$""",
    """
CREATE FUNCTION facet_counts_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'works' THEN
        DELETE FROM work_counts;
    END IF;
    DELETE FROM theme_work_counts;
    RETURN NULL;
END
$$""",
    """
CREATE TRIGGER work_counts_on_insert AFTER INSERT ON works
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION work_counts_follow_works()""",
    """
CREATE TRIGGER work_counts_on_update AFTER UPDATE ON works
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION work_counts_follow_works()""",
    """
CREATE TRIGGER work_counts_on_delete AFTER DELETE ON works
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION work_counts_follow_works()""",
    """
CREATE TRIGGER works_uncount_their_tags BEFORE DELETE ON works
FOR EACH ROW EXECUTE FUNCTION works_uncount_their_tags()""",
    """
CREATE TRIGGER theme_work_counts_on_insert AFTER INSERT ON work_themes
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION theme_work_counts_follow_tags()""",
    """
CREATE TRIGGER theme_work_counts_on_update AFTER UPDATE ON work_themes
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION theme_work_counts_follow_tags()""",
    """
CREATE TRIGGER theme_work_counts_on_delete AFTER DELETE ON work_themes
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION theme_work_counts_follow_tags()""",
    """
CREATE TRIGGER facet_counts_truncated AFTER TRUNCATE ON works
FOR EACH STATEMENT EXECUTE FUNCTION facet_counts_truncated()""",
    """
CREATE TRIGGER facet_counts_truncated AFTER TRUNCATE ON work_themes
FOR EACH STATEMENT EXECUTE FUNCTION facet_counts_truncated()""",
)

POSTGRESQL_DOWN = (
    "DROP TRIGGER IF EXISTS facet_counts_truncated ON work_themes",
    "DROP TRIGGER IF EXISTS facet_counts_truncated ON works",
    "DROP TRIGGER IF EXISTS theme_work_counts_on_delete ON work_themes",
    "DROP TRIGGER IF EXISTS theme_work_counts_on_update ON work_themes",
    "DROP TRIGGER IF EXISTS theme_work_counts_on_insert ON work_themes",
    "DROP TRIGGER IF EXISTS works_uncount_their_tags ON works",
    "DROP TRIGGER IF EXISTS work_counts_on_delete ON works",
    "DROP TRIGGER IF EXISTS work_counts_on_update ON works",
    "DROP TRIGGER IF EXISTS work_counts_on_insert ON works",
    "DROP FUNCTION IF EXISTS facet_counts_truncated()",
    "DROP FUNCTION IF EXISTS works_uncount_their_tags()",
    "DROP FUNCTION IF EXISTS theme_work_counts_follow_tags()",
    "DROP FUNCTION IF EXISTS work_counts_follow_works()",
)

# -- SQLite: row triggers ----------------------------------------------------------------------


def _sqlite_add_work(row: str) -> str:
    return f"""
    INSERT INTO work_counts (kind, year, works) VALUES ({row}.kind, {_year(row)}, 1)
    ON CONFLICT (kind, year) DO UPDATE SET works = works + 1;"""


def _sqlite_take_work(row: str) -> str:
    where = f"kind = {row}.kind AND year = {_year(row)}"
    return f"""
    UPDATE work_counts SET works = works - 1 WHERE {where};
    DELETE FROM work_counts WHERE {where} AND works <= 0;"""


def _sqlite_add_tags(work: str, tags: str) -> str:
    """Count the tags (``tags``: a select of theme ids) at the work's kind and decade."""
    return f"""
    INSERT INTO theme_work_counts (theme_id, kind, decade, works)
    SELECT theme_id, {work}.kind, {_decade(work)}, 1 FROM ({tags}) WHERE true
    ON CONFLICT (theme_id, kind, decade) DO UPDATE SET works = works + 1;"""


def _sqlite_take_tags(work: str, tags: str) -> str:
    where = f"kind = {work}.kind AND decade = {_decade(work)} AND theme_id IN ({tags})"
    return f"""
    UPDATE theme_work_counts SET works = works - 1 WHERE {where};
    DELETE FROM theme_work_counts WHERE {where} AND works <= 0;"""


def _sqlite_add_tag(tag: str) -> str:
    return f"""
    INSERT INTO theme_work_counts (theme_id, kind, decade, works)
    SELECT {tag}.theme_id, w.kind, {_decade("w")}, 1 FROM works w WHERE w.id = {tag}.work_id
    ON CONFLICT (theme_id, kind, decade) DO UPDATE SET works = works + 1;"""


def _sqlite_take_tag(tag: str) -> str:
    # a tag whose work is gone was subtracted before the work was (works_uncount_their_tags)
    group = (
        f"theme_id = {tag}.theme_id AND (kind, decade) = "
        f"(SELECT w.kind, {_decade('w')} FROM works w WHERE w.id = {tag}.work_id)"
    )
    return f"""
    UPDATE theme_work_counts SET works = works - 1 WHERE {group};
    DELETE FROM theme_work_counts WHERE theme_id = {tag}.theme_id AND works <= 0;"""


_TAGS_OF = "SELECT theme_id FROM work_themes WHERE work_id = {row}.id"

SQLITE_UP = (
    f"CREATE TRIGGER work_counts_on_insert AFTER INSERT ON works BEGIN"
    f"{_sqlite_add_work('NEW')}\nEND",
    f"CREATE TRIGGER work_counts_on_delete AFTER DELETE ON works BEGIN"
    f"{_sqlite_take_work('OLD')}\nEND",
    "CREATE TRIGGER work_counts_on_update AFTER UPDATE OF kind, year ON works "
    "WHEN OLD.kind IS NOT NEW.kind OR OLD.year IS NOT NEW.year BEGIN"
    f"{_sqlite_add_work('NEW')}{_sqlite_take_work('OLD')}"
    f"{_sqlite_add_tags('NEW', _TAGS_OF.format(row='NEW'))}"
    f"{_sqlite_take_tags('OLD', _TAGS_OF.format(row='NEW'))}\nEND",
    "CREATE TRIGGER works_uncount_their_tags BEFORE DELETE ON works BEGIN"
    f"{_sqlite_take_tags('OLD', _TAGS_OF.format(row='OLD'))}\nEND",
    f"CREATE TRIGGER theme_work_counts_on_insert AFTER INSERT ON work_themes BEGIN"
    f"{_sqlite_add_tag('NEW')}\nEND",
    f"CREATE TRIGGER theme_work_counts_on_delete AFTER DELETE ON work_themes BEGIN"
    f"{_sqlite_take_tag('OLD')}\nEND",
    "CREATE TRIGGER theme_work_counts_on_update AFTER UPDATE OF work_id, theme_id "
    f"ON work_themes BEGIN{_sqlite_add_tag('NEW')}{_sqlite_take_tag('OLD')}\nEND",
)

SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS theme_work_counts_on_update",
    "DROP TRIGGER IF EXISTS theme_work_counts_on_delete",
    "DROP TRIGGER IF EXISTS theme_work_counts_on_insert",
    "DROP TRIGGER IF EXISTS works_uncount_their_tags",
    "DROP TRIGGER IF EXISTS work_counts_on_update",
    "DROP TRIGGER IF EXISTS work_counts_on_delete",
    "DROP TRIGGER IF EXISTS work_counts_on_insert",
)

BACKFILL = (
    f"INSERT INTO work_counts (kind, year, works) "
    f"SELECT w.kind, {_year('w')}, count(*) FROM works w GROUP BY 1, 2",
    f"INSERT INTO theme_work_counts (theme_id, kind, decade, works) "
    f"SELECT t.theme_id, w.kind, {_decade('w')}, count(*) "
    f"FROM work_themes t JOIN works w ON w.id = t.work_id GROUP BY 1, 2, 3",
)


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table(
        "work_counts",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("works", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "year"),
    )
    op.create_table(
        "theme_work_counts",
        sa.Column("theme_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("decade", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("works", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("theme_id", "kind", "decade"),
    )
    for statement in BACKFILL:
        op.execute(statement)
    # Not in batch mode: on SQLite, rebuilding ``works`` would drop 0008-0011's triggers.
    for statement in POSTGRESQL_UP if _postgresql() else SQLITE_UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in POSTGRESQL_DOWN if _postgresql() else SQLITE_DOWN:
        op.execute(statement)
    op.drop_table("theme_work_counts")
    op.drop_table("work_counts")
