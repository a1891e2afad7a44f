"""Names-only search indexes, for SQLite's typo-tolerant search.

SQLite only (PostgreSQL reads the names section of a document in SQL and needs nothing
more): beside each FTS5 table of migration 0003 (whole documents, names and prose), a
contentless FTS5 trigram table ``<table>_search_names`` of the names section alone
(``db.text.names_section``: the document up to its first ``/``) and its vocabulary
``<table>_search_names_vocab`` (as 0004's). Typo tolerance compares names only, so its
candidates are looked up here: since 0014 put synopses and biographies in the documents, the
trigrams of a query were common in prose and the whole-document index handed thousands of
rows to the similarity function (``db.search``; bench/README.md, issue #20).

The database keeps them, as 0003's, by triggers on every write of ``search_text`` (the
catalog import, curation, migrations). A contentless table stores no text: a row is removed
by giving FTS5 the text it was indexed with, which the triggers compute from ``old``.

Note for later migrations: SQLite's batch mode rebuilds a table by copying it, and a rebuilt
``works``, ``people`` or ``themes`` loses these triggers; such a migration must create them
again.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 21:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("works", "people", "themes")


def _names(document: str) -> str:
    """The names section of a document in SQL (``db.text.names_section``; ``/`` is
    ``db.text.TEXTS_MARK``, spelled out: a migration does not follow later code)."""
    return f"substr({document}, 1, instr({document} || '/', '/') - 1)"


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        fts = f"{table}_search_names"
        op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5(names, content='', tokenize='trigram')")
        op.execute(f"CREATE VIRTUAL TABLE {fts}_vocab USING fts5vocab({fts}, 'row')")
        insert = f"INSERT INTO {fts}(rowid, names) VALUES (new.id, {_names('new.search_text')});"
        delete = (
            f"INSERT INTO {fts}({fts}, rowid, names) "
            f"VALUES ('delete', old.id, {_names('old.search_text')});"
        )
        op.execute(f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN {insert} END")
        op.execute(f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN {delete} END")
        op.execute(
            f"CREATE TRIGGER {fts}_update AFTER UPDATE OF search_text ON {table} "
            f"BEGIN {delete} {insert} END"
        )
        op.execute(
            f"INSERT INTO {fts}(rowid, names) SELECT id, {_names('search_text')} FROM {table}"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        fts = f"{table}_search_names"
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS {fts}_{trigger}")
        op.execute(f"DROP TABLE IF EXISTS {fts}_vocab")
        op.execute(f"DROP TABLE IF EXISTS {fts}")
