"""Search vocabularies: how many rows hold each trigram, for SQLite's typo-tolerant search.

SQLite only (PostgreSQL's pg_trgm needs nothing more): an ``fts5vocab`` table beside each
FTS5 search table of migration 0003. Typo-tolerant matching looks up the query's rarest
trigrams in it and reads only the rows holding one of them (``db.search``) instead of every
row that shares any trigram with the query. The vocabularies are views of the FTS5 index:
they hold no data and need no triggers.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 07:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("works", "people", "themes")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        op.execute(
            f"CREATE VIRTUAL TABLE {table}_search_vocab USING fts5vocab({table}_search, 'row')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        op.execute(f"DROP TABLE IF EXISTS {table}_search_vocab")
