"""PostgreSQL: what the root search's statement reads a rank at a time needs (issue #23).

PostgreSQL only (SQLite's statement is unchanged): ``db.search`` reads each rank of a kind
apart (a whole name, a name's start, inside a name, inside the prose), each ordered by name
and cut at the page, so that for a key thousands of works hold it walks the name index and
stops at the page's last row, and for a rare one reads its rows by the trigram index. Two
things let the planner choose well between the two:

- a trigram GIN index of the names section alone (``split_part(search_text, '/', 1)``, the
  expression ``db.search`` writes), ``ix_<table>_names_search_text_trgm``: a key in the
  prose of thousands of works (``novel``) but in no name made the "inside a name" rank
  recheck all those rows against the names (30 ms at 100,000 works), now none;
- finer statistics of the documents and of that expression (300 histogram entries, not
  100): the planner estimates a ``LIKE '%…%'`` from the histogram's entries that match it,
  so at 100 one entry is 1% of the rows, and a key 125 people hold was taken for 493 and the
  name index walked past 20,000 of them (``kim hak``: 1 -> 35 ms); at 300 it is taken for
  159 and read by the trigram index. Each ``LIKE`` of a statement is matched against every
  entry when it is planned: 1,000 entries tripled the planning of a root search (30-50 ms
  on a loaded machine, against 10-20 at 300; a statement is planned once per connection and
  key, ``db.search._constant``).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 00:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("works", "people", "themes")
STATISTICS = 300
# the names section of a document (db.text.names_section; "/" is db.text.TEXTS_MARK), as
# db.search writes it, spelled out: a migration does not follow later code
NAMES = "split_part(search_text, '/', 1)"


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgresql():
        return
    for table in TABLES:
        index = f"ix_{table}_names_search_text_trgm"
        op.execute(f"ALTER TABLE {table} ALTER COLUMN search_text SET STATISTICS {STATISTICS}")
        op.execute(f"CREATE INDEX {index} ON {table} USING gin ({NAMES} gin_trgm_ops)")
        op.execute(f"ALTER INDEX {index} ALTER COLUMN 1 SET STATISTICS {STATISTICS}")
        op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    if not _postgresql():
        return
    for table in TABLES:
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_names_search_text_trgm")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN search_text SET STATISTICS -1")
