"""Search documents of #22: Hangul findable by fragments of any length, romanization folded
only in words that can be romanized Korean, generated RR/MR forms of Hangul names, and prose
(synopses, biographies, dispute notes) after the names; one similarity on both databases.

Every record's ``search_text`` is rebuilt from its fields (``db.search_documents``, as
``nkcinema seed`` builds it; SQLite's FTS5 triggers of 0003 follow the updates). PostgreSQL
gets ``nk_word_similarity``, the SQL twin of ``db.text.word_similarity`` (SQLite registers
the Python function on every connection), so a typo is found and scored alike on both.
Downgrade rebuilds the documents as 0003-0011 made them (names only, every word folded).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 14:30:00
"""

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alembic import op
from db.enums import Qualifier, TitleKind
from db.search_documents import person_document, searchable_forms, theme_document, work_document

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# db.text.word_similarity in SQL: the share of the key's distinct trigrams that the best
# name of the document's names section (before any '/') holds; 1 when a name holds the key.
WORD_SIMILARITY = """
CREATE OR REPLACE FUNCTION nk_word_similarity(key text, document text)
RETURNS double precision LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
WITH names AS (SELECT split_part(document, '/', 1) AS section),
wanted AS (
    SELECT DISTINCT substr(key, i, 3) AS trigram
    FROM generate_series(1, char_length(key) - 2) AS i
)
SELECT CASE
    WHEN NOT EXISTS (SELECT 1 FROM wanted) THEN 0.0::double precision
    WHEN strpos((SELECT section FROM names), key) > 0 THEN 1.0::double precision
    ELSE coalesce((
        SELECT max(found) FROM (
            SELECT count(*)::double precision AS found
            FROM unnest(string_to_array((SELECT section FROM names), '|'))
                WITH ORDINALITY AS n(name, at)
            JOIN wanted ON strpos(n.name, wanted.trigram) > 0
            WHERE n.name <> ''
            GROUP BY n.at
        ) AS per_name
    ), 0.0::double precision) / (SELECT count(*) FROM wanted)
END
$$
"""

BATCH = 1000


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _listed(conn: Connection, sql: str) -> dict[int, list[tuple[str, ...]]]:
    """{parent id: rows} of an ordered child table."""
    found: dict[int, list[tuple[str, ...]]] = defaultdict(list)
    for row in conn.execute(sa.text(sql)):
        found[row[0]].append(tuple(row[1:]))
    return found


def _write(conn: Connection, table: str, documents: Iterable[tuple[int, str]]) -> None:
    batch: list[dict[str, object]] = []
    statement = sa.text(f"UPDATE {table} SET search_text = :document WHERE id = :id")
    for row_id, document in documents:
        batch.append({"id": row_id, "document": document})
        if len(batch) == BATCH:
            conn.execute(statement, batch)
            batch = []
    if batch:
        conn.execute(statement, batch)


def _rebuild(
    work: Callable[..., str], person: Callable[..., str], theme: Callable[[str], str]
) -> None:
    conn = op.get_bind()
    titles = _listed(
        conn,
        "SELECT work_id, title FROM work_alternative_titles ORDER BY work_id, position",
    )
    disputes = _listed(
        conn, "SELECT work_id, reported, note FROM disputes ORDER BY work_id, position"
    )
    # the typed forms of migration 0012 (db.search_documents.searchable_forms)
    work_forms = _listed(
        conn,
        "SELECT work_id, text, kind, qualifier FROM work_titles ORDER BY work_id, position",
    )
    works = conn.execute(sa.text("SELECT id, title, original_title, synopsis FROM works"))
    _write(
        conn,
        "works",
        [
            (
                i,
                work(
                    title,
                    original,
                    [t for (t,) in titles[i]],
                    synopsis,
                    disputes[i],
                    _forms(work_forms[i]),
                ),
            )
            for i, title, original, synopsis in works
        ],
    )
    names = _listed(
        conn,
        "SELECT person_id, name FROM person_alternative_names ORDER BY person_id, position",
    )
    person_forms = _listed(
        conn,
        "SELECT person_id, text, kind, qualifier FROM person_names ORDER BY person_id, position",
    )
    people = conn.execute(sa.text("SELECT id, name, original_name, biography FROM people"))
    _write(
        conn,
        "people",
        [
            (i, person(name, original, [n for (n,) in names[i]], biography, _forms(person_forms[i])))
            for i, name, original, biography in people
        ],
    )
    themes = conn.execute(sa.text("SELECT id, name FROM themes"))
    _write(conn, "themes", [(i, theme(name)) for i, name in themes])


def _forms(rows: list[tuple[Any, ...]]) -> list[str]:
    return searchable_forms(
        (text, TitleKind(kind), Qualifier(qualifier) if qualifier else None)
        for text, kind, qualifier in rows
    )


def upgrade() -> None:
    if _postgresql():
        op.execute(WORD_SIMILARITY)
    _rebuild(work_document, person_document, theme_document)


def downgrade() -> None:
    _rebuild(
        lambda title, original, titles, synopsis, disputes, forms: _old_document(
            [title, *([original] if original else []), *titles]
        ),
        lambda name, original, names, biography, forms: _old_document(
            [name, *([original] if original else []), *names]
        ),
        lambda name: _old_document([name]),
    )
    if _postgresql():
        op.execute("DROP FUNCTION IF EXISTS nk_word_similarity(text, text)")


# -- the search documents of 0003-0011 (db.text as it was), frozen for the downgrade ----------

_OLD_VARIANTS = {
    "choi": "choe", "lee": "ri", "yi": "ri", "rhee": "ri", "i": "ri", "shin": "sin",
    "park": "pak", "bak": "pak",
}  # fmt: skip
_OLD_FOLDS = (
    ("eo", "o"), ("eu", "u"), ("sh", "s"), ("ch", "c"), ("j", "c"), ("g", "k"), ("d", "t"),
    ("b", "p"), ("l", "r"),
)  # fmt: skip


def _old_key(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    plain = unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )
    words = []
    for word in re.findall(r"[^\W_]+", plain.casefold().replace("'", "")):
        word = _OLD_VARIANTS.get(word, word)
        if word.endswith("y") and len(word) > 2:
            word = word[:-1] + "i"
        for old, new in _OLD_FOLDS:
            word = word.replace(old, new)
        words.append(word)
    return re.sub(r"(.)\1+", r"\1", "".join(words))


def _old_document(names: list[str]) -> str:
    keys = [key for key in dict.fromkeys(_old_key(name) for name in names) if key]
    return "|" + "|".join(keys) + "|" if keys else ""
