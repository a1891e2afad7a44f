"""Search indexes: trigram indexes over the search documents of works, people and themes.

PostgreSQL: the pg_trgm extension and GIN trigram indexes, used by substring (LIKE) and
word-similarity (<%) matching. SQLite: FTS5 tables with the trigram tokenizer, kept in step
with their tables by triggers, used the same way through ``rowid`` lookups.

These objects are dialect-specific and have no SQLAlchemy model; alembic/env.py leaves them
out of autogenerate comparisons (``db.search.is_search_index``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 05:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("works", "people", "themes")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for table in TABLES:
            op.execute(
                f"CREATE INDEX ix_{table}_search_text_trgm ON {table} "
                "USING gin (search_text gin_trgm_ops)"
            )
        return
    for table in TABLES:
        fts = f"{table}_search"
        op.execute(
            f"CREATE VIRTUAL TABLE {fts} USING fts5("
            f"search_text, content='{table}', content_rowid='id', tokenize='trigram')"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN "
            f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text); END"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, search_text) "
            f"VALUES ('delete', old.id, old.search_text); END"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_update AFTER UPDATE OF search_text ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, search_text) "
            f"VALUES ('delete', old.id, old.search_text); "
            f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text); END"
        )
        op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP INDEX IF EXISTS ix_{table}_search_text_trgm")
        return  # the extension may serve others; it is left installed
    for table in TABLES:
        fts = f"{table}_search"
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS {fts}_{trigger}")
        op.execute(f"DROP TABLE IF EXISTS {fts}")
