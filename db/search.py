"""Search over works, people and themes, backed by trigram indexes on both databases.

A record's ``search_text`` holds the romanization-folded keys of all its names, of the
generated romanizations of its Hangul ones, and, after them, of its prose (synopsis,
biography, notes) (``db.text.search_document``). A query matches when its key is a
substring of the document or, for keys of ``FUZZY_MIN_LENGTH`` to ``FUZZY_MAX_LENGTH``
letters (a name's length), when a name (not the prose) holds most of its trigrams (typo
tolerance). Both databases look up the same
trigrams and score with the same function, so they find and order the same rows: on
PostgreSQL, ``LIKE`` over a GIN trigram index (pg_trgm) and ``nk_word_similarity`` (migration
0014); on SQLite, an FTS5 trigram table of whole documents (migration 0003) for substrings, a
names-only one and its vocabulary (0017) for typo candidates, and the same function in Python
(``db.text.word_similarity``).

Ranking (``score``): a whole name 1.0, a name's start 0.9, inside a name 0.75, inside the
prose 0.6, a similar spelling of a name below 0.5 (half its similarity) — a typo never scores
as an exact match, and a word of a synopsis never outranks a name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Float,
    Integer,
    String,
    bindparam,
    case,
    func,
    literal,
    literal_column,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter

from db import models as m
from db.romanization import romanize
from db.text import (
    TEXTS_MARK,
    key_length,
    literal_key,
    resembles,
    search_key,
    shared_trigrams_needed,
    trigrams,
    word_similarity,
)

SEARCHABLE_TABLES = ("works", "people", "themes")


def is_search_index(name: str) -> bool:
    """Whether a table or index is part of the search indexes of migrations 0003-0004 and 0017,
    which are dialect-specific and have no model: FTS5 tables (``works_search``,
    ``works_search_names`` and the shadow tables FTS5 keeps beside them) and trigram GIN
    indexes (``ix_works_search_text_trgm``)."""
    return any(name.startswith(f"{table}_search") for table in SEARCHABLE_TABLES) or (
        name.startswith("ix_") and name.endswith("_search_text_trgm")
    )


FUZZY_MIN_LENGTH = 5
# Typo tolerance is for a name's length: the longest title is 30 letters. A longer key of
# common syllables makes most rows candidates, each scored (832 ms on PostgreSQL for 200
# characters, SECURITY.md), and no name resembles it anyway.
FUZZY_MAX_LENGTH = 32
FUZZY_THRESHOLD = 0.6  # as PostgreSQL's default pg_trgm.word_similarity_threshold
# db.text.word_similarity in SQL: a Python function on SQLite connections, an SQL function
# on PostgreSQL (migration 0014); the same name on both
SIMILARITY_FUNCTION = "nk_word_similarity"
RESEMBLES_FUNCTION = "nk_resembles"  # SQLite: word_similarity(key, document) >= threshold


def _resembles(key: str, document: str) -> bool:
    return resembles(key, document, FUZZY_THRESHOLD)


SQLITE_FUNCTIONS = {SIMILARITY_FUNCTION: word_similarity, RESEMBLES_FUNCTION: _resembles}
"""The Python functions SQLite connections register (``db.engine``) for the SQL this module
compiles; each takes a query key and a search document."""


@dataclass(frozen=True)
class KeyShape:
    """What a search statement's text depends on besides its key's values: whether it looks
    for typos, whether the key is long enough for an FTS5 phrase (SQLite), and how many
    distinct trigrams the typo part spells out. Statements are built (and prepared) per shape,
    the key's values bound as parameters (``key_parameters``): varied search traffic reuses a
    few statements instead of building one per key."""

    fuzzy: bool
    phrase: bool
    grams: int  # 0 unless fuzzy

    @classmethod
    def of(cls, key: str) -> KeyShape:
        fuzzy = FUZZY_MIN_LENGTH <= key_length(key) <= FUZZY_MAX_LENGTH
        return cls(fuzzy, len(key) >= 3, len(trigrams(key)) if fuzzy else 0)

    @property
    def parameters(self) -> tuple[str, ...]:
        """The names of the parameters its statements take (``key_parameters``' keys)."""
        grams = range(self.grams)
        return (
            _KEY_PARAMETERS
            + tuple(f"search_gram_{i}" for i in grams)
            + tuple(f"search_gram_pattern_{i}" for i in grams)
        )


_KEY_PARAMETERS = (
    "search_key",
    "search_pattern",
    "search_whole",
    "search_start",
    "search_phrase",
    "search_no_match",
)


def key_parameters(key: str, shape: KeyShape | None = None) -> dict[str, str]:
    """The values of a statement's key parameters (``KeyShape``, ``_Key.bound``) for ``key``.
    A key holds only letters and digits (``db.text.search_key``): no pattern needs escaping."""
    grams = _in_order(key)
    values = {
        "search_key": key,
        "search_pattern": f"%{key}%",
        "search_whole": f"%|{key}|%",
        "search_start": f"%|{key}%",
        "search_phrase": f'"{key}"',
        # SQLite: an FTS5 query no row matches, for when no row's names can resemble the key
        "search_no_match": f'"{grams[0]}" NOT "{grams[0]}"' if grams else "",
    }
    if (shape or KeyShape.of(key)).grams:
        values.update((f"search_gram_{i}", gram) for i, gram in enumerate(grams))
        values.update((f"search_gram_pattern_{i}", f"%{gram}%") for i, gram in enumerate(grams))
    return values


class _Key:
    """A search key in a statement: its parameters, bound by name (``bound``: the statement
    serves every key of its shape, ``key_parameters`` gives the values) or unique with the
    key's values (``valued``: a filter's condition in a caller's statement). On PostgreSQL a
    valued key is written into the text, as ``_literal`` allows (``_matches_postgresql``)."""

    def __init__(self, shape: KeyShape, values: dict[str, str] | None) -> None:
        self.shape = shape
        self.valued = values is not None

        def parameter(name: str) -> BindParameter[str]:
            if values is None:
                return bindparam(name, type_=String())
            return bindparam(None, values[name], type_=String(), unique=True)

        self.key = parameter("search_key")
        self.pattern = parameter("search_pattern")
        self.whole = parameter("search_whole")
        self.start = parameter("search_start")
        self.phrase = parameter("search_phrase")
        self.no_match = parameter("search_no_match")
        self.grams = [parameter(f"search_gram_{i}") for i in range(shape.grams)]
        self.gram_patterns = [parameter(f"search_gram_pattern_{i}") for i in range(shape.grams)]
        # a row resembles the key only if its names hold at least `needed` of its trigrams
        self.needed = shared_trigrams_needed(shape.grams, FUZZY_THRESHOLD)
        self.rarest = shape.grams - self.needed + 1

    @classmethod
    def bound(cls, shape: KeyShape) -> _Key:
        return cls(shape, None)

    @classmethod
    def with_values(cls, key: str, shape: KeyShape | None = None) -> _Key:
        shape = shape or KeyShape.of(key)
        return cls(shape, key_parameters(key, shape))


class _Matches(ColumnElement[bool]):
    """``table``'s search document contains the key (or resembles it); compiled per dialect."""

    inherit_cache = False
    type = Boolean()
    # A condition in its own right: without this, dialects with no native boolean (SQLite)
    # get `… = 1` appended, which hides the IN (index lookup) from the planner.
    _is_implicitly_boolean = True

    def __init__(self, table: str, key: _Key, enough: int | None = None) -> None:
        self.table = table
        self.term = key
        self.fuzzy = key.shape.fuzzy
        # SQLite, a ranked search's best ``enough``: the typos rank below every row holding
        # the key, so they are looked for only while fewer than ``enough`` rows hold it
        self.enough = enough
        # SQLite: FTS5's trigram index answers a phrase of three characters or more from the
        # index alone — the rows holding the key's trigrams one after another, that is the
        # key — where LIKE reads each candidate's whole document (names and prose) to test it:
        # 4-10 times the time for common keys at 100,000 works. A shorter key has no trigram
        # (a phrase of it matches nothing): LIKE then. A key holds only letters and digits
        # (``db.text.search_key``), so the phrase needs no escaping.
        self.use_phrase = key.shape.phrase


class _Similarity(ColumnElement[float]):
    """How closely ``table``'s best-matching name resembles the key (0 to 1)."""

    inherit_cache = False
    type = Float()

    def __init__(self, table: str, key: _Key) -> None:
        self.table = table
        self.term = key


class _KeySql:
    """A key's parameters as PostgreSQL's SQL text holds them: written in (a valued key: each
    key planned for what it matches) or bound (``_Key.bound``)."""

    def __init__(self, key: _Key, compiler: SQLCompiler, **kw: Any) -> None:
        self.key = key
        self.compiler = compiler
        self.kw = kw
        if key.valued:
            _literal(key.key.value)  # letters and digits only: nothing to quote

    def value(self, parameter: BindParameter[str]) -> str:
        if self.key.valued:
            return f"'{parameter.value}'"
        return self.compiler.process(parameter, **self.kw)

    def gram(self, index: int) -> str:
        """The key's ``index``-th trigram (``_in_order``)."""
        return self.value(self.key.grams[index])

    def containing(self, index: int) -> str:
        """The ``LIKE`` pattern of the rows holding the key's ``index``-th trigram."""
        return self.value(self.key.gram_patterns[index])


@compiles(_Matches, "postgresql")
def _matches_postgresql(element: _Matches, compiler: SQLCompiler, **kw: Any) -> str:
    # A valued key is written into the statement, not bound: statements are prepared and
    # cached per connection, and after five executions PostgreSQL may plan a prepared
    # statement once for any key — a generic plan that walks the title index and tests every
    # row, which for a rare key reads the whole table (bench/README.md, "The gate and the
    # load benchmark"). With the key in the text, each key is planned for what it matches. A
    # bound key's statement (the root search's, built per ``KeyShape``) has its values
    # written in by its caller before it runs (``gql.compiled.driver``). A search key holds
    # only letters and digits (``db.text.search_key``), so it needs no quoting beyond the
    # literal's own; ``_literal`` refuses anything else.
    key = _KeySql(element.term, compiler, **kw)
    column = f"{element.table}.search_text"
    like = f"{column} LIKE {key.value(element.term.pattern)}"
    if not element.fuzzy:
        return like
    # typo tolerance as on SQLite, so both find the same rows: the candidates, then the
    # same similarity decides
    similar = f"{_typo_similarity_postgresql(column, key)} >= {FUZZY_THRESHOLD}"
    return f"({like} OR ({_typo_candidates_postgresql(column, key)} AND {similar}))"


def _typo_candidates_postgresql(column: str, key: _KeySql) -> str:
    """The rows of ``column`` (a search document) that may resemble the key, to be decided by
    the similarity, as on SQLite (``_typos_sqlite``).

    A row resembles the key only if one name holds `needed` of its n trigrams, so the row
    misses at most n - needed of them and holds one of every n - needed + 1 (pigeonhole).
    PostgreSQL has no vocabulary to pick the rarest from, so it asks for one of each group of
    that size (``_groups``: each trigram a lookup in the names' GIN index, the groups' rows
    intersected). (pg_trgm's own `<%` pads words with blanks and scores an extent of the
    document, not a name: it finds other rows than SQLite.)

    The similarity is the share of the key's trigrams that one name holds, and a name holds
    no more of them than the names section does: a row whose names hold fewer than `needed`
    cannot reach the threshold (as ``db.text.resembles`` rules rows out). Checked before the
    similarity (a subquery a row, the costly part: ``_typo_similarity_postgresql``), this
    spares it for most candidates — those whose prose holds the trigrams (a synopsis's "Mount
    Paektu" for "mountain") or whose names share a syllable only ("pyo" of Pyongyang for
    "saebyeok") — and finds no other rows."""
    grams = range(key.key.shape.grams)  # the key's trigrams (``_in_order``) by index
    needed = key.key.needed
    names = _names_sql(column)
    holds = " AND ".join(
        "(" + " OR ".join(f"{names} LIKE {key.containing(g)}" for g in group) + ")"
        for group in _groups(len(grams), key.key.rarest)
    )
    held = " + ".join(
        f"(CASE WHEN {names} LIKE {key.containing(g)} THEN 1 ELSE 0 END)" for g in grams
    )
    return f"{holds} AND ({held}) >= {needed}"


def _in_order(key: str) -> list[str]:
    """A key's distinct trigrams in the order the key spells them (``key_parameters``)."""
    return list(dict.fromkeys(key[i : i + 3] for i in range(len(key) - 2)))


def _groups(count: int, size: int) -> list[list[int]]:
    """Groups of ``size`` consecutive trigrams (by index, ``_in_order``) that together hold
    all ``count``: from the start, the last one ending at the end. Any groups of that size
    serve the pigeonhole (``_typo_candidates_postgresql``); consecutive ones part the key's
    words, so a row holding one common word of it (every "Flower …" title for ``flower
    girl``, 4,000 at 100,000 works) misses a group and is no candidate, where groups of
    trigrams in alphabetical order each held one of that word's."""
    if size <= 0 or count < size:
        return []
    starts = [*range(0, count - size + 1, size)]
    if count % size:
        starts.append(count - size)
    return [list(range(start, start + size)) for start in starts]


def _typo_similarity_postgresql(column: str, key: _KeySql) -> str:
    """``nk_word_similarity(key, column)`` written out for this key (of three characters or
    more, as typo tolerance's are): the most of the key's distinct trigrams one name holds,
    over their count — the same division of the same numbers, so the same double (a name
    holding the key holds all its trigrams: the function's 1 when the names hold it). The
    function is an SQL function that is not inlined (a WITH, a generate_series and a join
    a call: about 50 µs); this is a subquery over the names with the trigrams spelled out."""
    grams = range(key.key.shape.grams)
    held = " + ".join(f"(strpos(n, {key.gram(g)}) > 0)::integer" for g in grams)
    names = f"string_to_array({_names_sql(column)}, '|')"
    found = f"(SELECT coalesce(max({held}), 0) FROM unnest({names}) AS n)"
    return f"({found}::double precision / {len(grams)})"


def _literal(key: str | None) -> str:
    if not key or not all(c.isalnum() for c in key):
        raise ValueError(f"not a search key: {key!r}")
    return key


@compiles(_Matches)
def _matches_sqlite(element: _Matches, compiler: SQLCompiler, **kw: Any) -> str:
    fts = f"{element.table}_search"
    key = element.term
    if element.use_phrase:
        found = f"SELECT rowid FROM {fts} WHERE {fts} MATCH {compiler.process(key.phrase, **kw)}"
    else:
        found = (
            f"SELECT rowid FROM {fts} WHERE {fts}.search_text LIKE "
            f"{compiler.process(key.pattern, **kw)}"
        )
    if element.fuzzy:  # two disjoint sets of rows: no duplicates to look for (UNION)
        found += f" UNION ALL {_typos_sqlite(element, found, compiler, **kw)}"
    return f"{element.table}.id IN ({found})"


def _typos_sqlite(element: _Matches, found: str, compiler: SQLCompiler, **kw: Any) -> str:
    """The rows whose names resemble the key but do not hold it (``found``, the rows that
    hold it, are the match's other half), from the names-only index (migration 0017): prose
    holds most trigrams of a name somewhere and is not compared (``db.text.word_similarity``).

    A row resembles the key only if its names hold ``needed`` of the key's n trigrams. Those
    no row's names hold (absent from the vocabulary) it misses too, so of the ``present``
    others it misses at most ``present - needed``: it holds one of any ``present - needed +
    1`` of them (pigeonhole; none can resemble when that is 0 or less). The present trigrams,
    rarest first, are cut into groups of that size, and a candidate holds one of each group
    (an FTS5 query: one OR per group, the groups ANDed): an exact pre-filter, which leaves
    few rows to the similarity function (a Python call per row)."""
    names = f"{element.table}_search_names"
    key = element.term
    grams = ", ".join(compiler.process(t, **kw) for t in key.grams)
    spare = key.needed - 1  # a group's size is `present - spare`
    present = (
        f"SELECT term, count(*) OVER () - {spare} AS size, "
        f"row_number() OVER (ORDER BY doc, term) - 1 AS place "
        f"FROM {names}_vocab WHERE term IN ({grams})"
    )
    groups = (
        "SELECT '(' || group_concat('\"' || term || '\"', ' OR ') || ')' AS any_of "
        f"FROM ({present}) WHERE size > 0 GROUP BY place / size HAVING count(*) = max(size)"
    )
    query = (
        f"coalesce((SELECT group_concat(any_of, ' AND ') FROM ({groups})), "
        f"{compiler.process(key.no_match, **kw)})"
    )
    similar = f"{element.table}_similar"
    candidates = f"SELECT rowid FROM {names} WHERE {names} MATCH {query} EXCEPT {found}"
    query_key = compiler.process(key.key, **kw)
    # A gate of no table, which SQLite tests once before the loop: for a common key (6,000
    # works hold "novel") the substring matches fill the page, and the 1,500 works whose
    # names resemble it are not each compared in Python (150 ms at 100,000 works).
    gate = ""
    if element.enough is not None:
        enough = int(element.enough)
        gate = f"(SELECT count(*) FROM ({found} LIMIT {enough})) < {enough} AND "
    return (
        f"SELECT {similar}.id FROM {element.table} AS {similar} "
        f"WHERE {gate}{similar}.id IN ({candidates}) "
        f"AND {RESEMBLES_FUNCTION}({query_key}, {similar}.search_text)"
    )


@compiles(_Similarity)
def _similarity(element: _Similarity, compiler: SQLCompiler, **kw: Any) -> str:
    key = compiler.process(element.term.key, **kw)
    return f"{SIMILARITY_FUNCTION}({key}, {element.table}.search_text)"


class _Names(ColumnElement[str]):
    """The names part of a search document (``db.text.names_section``), in SQL."""

    inherit_cache = False
    type = String()

    def __init__(self, document: ColumnElement[str]) -> None:
        self.document = document


@compiles(_Names, "postgresql")
def _names_postgresql(element: _Names, compiler: SQLCompiler, **kw: Any) -> str:
    return _names_sql(compiler.process(element.document, **kw))


def _names_sql(document: str) -> str:
    """PostgreSQL: the names section of the search document ``document`` (SQL), spelled as
    the names' trigram index (migration 0018) is, so that its conditions use it."""
    return f"split_part({document}, '{TEXTS_MARK}', 1)"


@compiles(_Names)
def _names_sqlite(element: _Names, compiler: SQLCompiler, **kw: Any) -> str:
    document = compiler.process(element.document, **kw)
    return f"substr({document}, 1, instr({document} || '{TEXTS_MARK}', '{TEXTS_MARK}') - 1)"


def search_condition(table: str, text: str | None) -> ColumnElement[bool]:
    """The rows of ``table`` (works, people or themes) whose names or prose match ``text``.

    A blank text is no condition; a text with nothing searchable in it matches nothing.
    """
    if text is None or not text.strip():
        return true()
    key = search_key(text)
    if not key:
        return literal(False)
    return _Matches(table, _Key.with_values(key))


# -- ranked search across types ----------------------------------------------------------------


@dataclass(frozen=True)
class SearchHit:
    """One match: what it is, how well it matched (1 = a whole name)."""

    kind: str  # "work" | "person" | "theme"
    id: int
    score: float


_KINDS = (
    ("work", m.Work, "works", m.Work.title_key),
    ("person", m.Person, "people", m.Person.name_key),
    ("theme", m.Theme, "themes", m.Theme.name_key),
)
# a whole name, a name's start, inside a name, inside the prose (synopsis, biography, notes)
_SCORES = {4: 1.0, 3: 0.9, 2: 0.75, 1: 0.6}


def _rank(document: Any, key: _Key) -> ColumnElement[int]:
    """4 for a whole name, 3 for a name's prefix, 2 inside a name, 1 inside the prose
    (0: a similar name only). Only names are ``|``-delimited, so the first two are found in
    names alone."""
    return case(
        (document.like(key.whole), 4),
        (document.like(key.start), 3),
        (_Names(document).like(key.pattern), 2),
        (document.like(key.pattern), 1),
        else_=0,
    )


def score(rank: int, similarity: float) -> float:
    """Exact > prefix > inside a name > inside the prose > similar; similar matches score by
    their similarity, below 0.5."""
    return _SCORES.get(rank, round(0.5 * similarity, 4))


async def search(
    session: AsyncSession, text: str, limit: int, kinds: Sequence[str] = ("work", "person", "theme")
) -> list[SearchHit]:
    """The best ``limit`` matches across types: one indexed statement per type."""
    key = search_key(text)
    if not key or limit <= 0:
        return []
    dialect = session.get_bind().dialect.name
    found: list[tuple[str, bool, Sequence[Sequence[Any]]]] = []
    for kind, entity, table, name in _KINDS:
        if kind not in kinds:
            continue
        if dialect == "postgresql":  # the key written in (``_matches_postgresql``)
            statement, fuzzy = _statement(
                entity, table, name, _Key.with_values(key), limit, dialect
            )
            rows = await session.execute(statement)
        else:
            statement, fuzzy = kind_statement(kind, KeyShape.of(key), limit, dialect)
            rows = await session.execute(statement, key_parameters(key))
        found.append((kind, fuzzy, list(rows)))
    return [hit for hit, _row in best_hits(found, limit)]


def _statement(
    entity: Any, table: str, name: Any, key: _Key, limit: int, dialect: str
) -> tuple[Any, bool]:
    """The statement of one type's best ``limit`` rows ``(id, rank, similarity, name)``, and
    whether its rows are to be picked by ``_best``. SQLite keeps one plain statement: it
    reads the substring matches twice in the gated form (measured slower: 28 -> 34 ms median
    root search at 10,000 works), and its typo candidates are few already (names only, and
    not the rows holding the key: ``_typos_sqlite``). PostgreSQL reads each rank apart
    (``_tiers``)."""
    if dialect == "postgresql":
        return _tiers(entity, table, name, key, limit), True
    rank = _rank(entity.search_text, key)
    # a substring match is wholly inside one name (similarity 1): only similar-only rows
    # need the trigram comparison (on SQLite, a Python function call per row)
    similarity = case((rank > 0, literal(1.0)), else_=_Similarity(table, key))
    return (
        select(entity.id, rank, similarity, name)
        .where(_Matches(table, key, enough=limit))
        .order_by(rank.desc(), similarity.desc(), name, entity.id)
        .limit(limit)
    ), False


class _KeyCondition(ColumnElement[Any]):
    """PostgreSQL SQL of a key's parameters (``_KeySql``), written when compiled."""

    inherit_cache = False

    def __init__(self, key: _Key, write: Any, type_: Any = None) -> None:
        self.term = key
        self.write = write  # (_KeySql) -> str
        self.type = type_ if type_ is not None else Boolean()


@compiles(_KeyCondition)
def _key_condition(element: _KeyCondition, compiler: SQLCompiler, **kw: Any) -> str:
    return str(element.write(_KeySql(element.term, compiler, **kw)))


def _tiers(entity: Any, table: str, name: Any, key: _Key, limit: int) -> Any:
    """PostgreSQL: one type's best ``limit`` rows, a rank at a time. ``_rank``'s four ranks
    part the rows holding the key: a whole name (``|key|``), a name's start (``|key``), inside
    a name, inside the prose only (``|`` is in the names alone). Within a rank the order is
    the name's and the id's, which the ``(name key, id)`` index gives: each rank is its own
    ``ORDER BY name, id LIMIT limit``, which for a common key walks that index and stops at
    the ``limit``-th match, and for a rare one reads its few rows by the trigram index (each
    condition holds a ``LIKE`` of the key the index answers). One statement ordered by the
    rank first read and ranked every row holding the key instead: 30-50 ms at 100,000 works
    for keys thousands of works hold (``pulgasari``, ``novel``), against under 1 ms a rank.

    A rank is read only while the ranks above it found fewer than ``limit`` rows (a gate,
    evaluated once, before the rank's rows are read); so when it is read, every rank
    above was read whole. The similar spellings (rank 0) are read last, and only then: the
    rows that resemble the key without holding it (``_similar_only``). Rows are ``(id,
    rank, similarity, name)`` as SQLite's statement gives them (similarity 1 for a
    substring), to be picked by ``_best``. The numbers are written into the statement
    (``_constant``)."""
    column = f"{table}.search_text"
    names = _names_sql(column)

    def condition(write: Any) -> _KeyCondition:
        return _KeyCondition(key, write)

    ranks = (
        (4, "whole", condition(lambda k: f"{names} LIKE {k.value(key.whole)}")),
        (
            3,
            "start",
            condition(
                lambda k: (
                    f"{names} LIKE {k.value(key.start)} AND {names} NOT LIKE {k.value(key.whole)}"
                )
            ),
        ),
        (
            2,
            "inside",
            condition(
                lambda k: (
                    f"{column} LIKE {k.value(key.pattern)} "
                    f"AND {names} LIKE {k.value(key.pattern)} "
                    f"AND NOT {column} LIKE {k.value(key.start)}"
                )
            ),
        ),
        (
            1,
            "prose",
            condition(
                lambda k: (
                    f"{column} LIKE {k.value(key.pattern)} "
                    f"AND NOT {names} LIKE {k.value(key.pattern)}"
                )
            ),
        ),
    )
    parts: list[Any] = []
    found: ColumnElement[int] | None = None  # how many rows the ranks read so far hold
    for rank, label, where in ranks:
        statement = (
            select(
                entity.id,
                literal_column(str(rank), Integer()).label("rank"),
                literal_column("CAST(1 AS DOUBLE PRECISION)", Float()).label("similarity"),
                name,
            )
            .where(where)
            .order_by(name, entity.id)
            .limit(_constant(limit))
        )
        if found is not None:
            statement = statement.where(found < _constant(limit))
        # named per table: one statement may read several kinds (``kind_statement``)
        part = statement.cte(f"{table}_{label}")
        parts.append(part)
        count = select(func.count()).select_from(part).scalar_subquery()
        found = count if found is None else found + count
    rows = [select(part) for part in parts]
    if key.shape.fuzzy and found is not None:
        gate = found < _constant(limit)
        rows.append(select(_similar_only(entity, table, name, key, limit, gate)))
    return union_all(*rows)


def _constant(number: int) -> ColumnElement[int]:
    """A number written into the statement, not bound: a statement without parameters is
    planned once per connection (PostgreSQL's plan cache keeps its generic plan, which is the
    one plan), and a bound ``LIMIT`` is planned as an unknown one, for a tenth of the rows."""
    return literal_column(str(int(number)), Integer())


def _similar_only(
    entity: Any,
    table: str,
    name: Any,
    key: _Key,
    limit: int,
    gate: ColumnElement[bool],
) -> Any:
    """The best ``limit`` rows that resemble the key without holding it (rank 0), by
    similarity: the typo candidates of ``_matches_postgresql``, each row's similarity
    computed once (a subquery the planner keeps: ``OFFSET 0``)."""
    column = f"{table}.search_text"
    similarity = _KeyCondition(key, lambda k: _typo_similarity_postgresql(column, k), Float())
    candidates = (
        select(entity.id, name, similarity.label("similarity"))
        .where(_KeyCondition(key, lambda k: _typo_candidates_postgresql(column, k)))
        .where(_KeyCondition(key, lambda k: f"{column} NOT LIKE {k.value(key.pattern)}"))
        .where(gate)
        .offset(_constant(0))
        .subquery(f"{table}_similar")
    )
    return (
        select(
            candidates.c.id,
            literal_column("0", Integer()).label("rank"),
            candidates.c.similarity,
            candidates.c[name.key],
        )
        .where(candidates.c.similarity >= literal_column(str(FUZZY_THRESHOLD)))
        .order_by(candidates.c.similarity.desc(), candidates.c[name.key], candidates.c.id)
        .limit(_constant(limit))
        .subquery(f"{table}_similar_best")
    )


def _best(rows: Iterable[Any], limit: int) -> list[Any]:
    """The first ``limit`` distinct rows ``(id, rank, similarity, name)`` in the statements'
    order: rank, similarity (descending), name, id."""
    distinct = {tuple(row) for row in rows}
    return sorted(distinct, key=lambda r: (-int(r[1]), -float(r[2]), r[3], r[0]))[:limit]


def best_name(text: str, names: Sequence[str]) -> str:
    """The name a query matched best: a whole name, then a name's start, then a substring,
    then the most similar (by trigrams); earlier names win ties. A Hangul name matches by its
    generated romanizations too (``naega bon nara`` matched 내가 본 나라)."""
    key = search_key(text)

    def form_quality(name_key: str) -> tuple[int, float]:
        if name_key == key:
            return 3, 1.0
        if name_key.startswith(key):
            return 2, 1.0
        if key in name_key:
            return 1, 1.0
        return 0, word_similarity(key, f"|{name_key}|")

    def quality(name: str) -> tuple[int, float, bool]:
        # a name matched as written beats one matched by its generated romanization only
        own = ((*form_quality(k), True) for k in (search_key(name), literal_key(name)))
        generated = (
            (*form_quality(k), False)
            for form in romanize(name).values()
            for k in (search_key(form), literal_key(form))
        )
        return max((*own, *generated))

    best = max(range(len(names)), key=lambda i: (quality(names[i]), -i), default=None)
    return names[best] if best is not None else ""


# -- search in one statement of the caller's own (gql.compiled) -------------------------------
# ``search``'s parts for a caller that reads every kind's rows in one statement, with more
# columns beside them (the found records' values), and ranks them as ``search`` does.

KINDS = tuple(kind for kind, *_ in _KINDS)  # "work", "person", "theme"

KIND_TABLES = {kind: table for kind, _, table, _ in _KINDS}


def kind_statement(kind: str, shape: KeyShape, limit: int, dialect: str) -> tuple[Any, bool]:
    """``search``'s statement of one kind's best ``limit`` rows ``(id, rank, similarity,
    name)`` for the search keys (``db.text.search_key``) of ``shape`` on ``dialect``, the
    key's values bound (``key_parameters``), over the kind's table unaliased; and whether its
    rows are to be picked by ``best_hits`` (it may hold a row twice, more than ``limit``
    rows)."""
    for candidate, entity, table, name in _KINDS:
        if candidate == kind:
            return _statement(entity, table, name, _Key.bound(shape), limit, dialect)
    raise ValueError(f"not a searchable kind: {kind!r}")


def best_hits(
    kinds: Iterable[tuple[str, bool, Sequence[Sequence[Any]]]], limit: int
) -> list[tuple[SearchHit, Sequence[Any]]]:
    """``search``'s answer from each kind's rows ``(kind, picked, rows)`` as ``kind_statement``
    reads them, each row ``(id, rank, similarity, name, *more)``: the best ``limit`` hits,
    each with its row, ranked as ``search`` ranks them (``picked``: the statement's rows are
    to be picked by ``_best``)."""
    found: list[tuple[float, str, str, int, Sequence[Any]]] = []
    for kind, picked, rows in kinds:
        chosen = rows
        if picked:
            by_id = {row[0]: row for row in rows}
            chosen = [by_id[r[0]] for r in _best((tuple(row[:4]) for row in rows), limit)]
        for row in chosen:
            row_id, row_rank, row_similarity, row_name = row[:4]
            hit_score = score(int(row_rank), float(row_similarity))
            found.append((hit_score, str(row_name), kind, row_id, row))
    found.sort(key=lambda hit: (-hit[0], hit[1], hit[2], hit[3]))
    return [(SearchHit(kind, int(row_id), s), row) for s, _, kind, row_id, row in found[:limit]]
