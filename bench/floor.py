"""The floor: the load benchmark's workloads answered by a minimal Starlette app, each request
with ONE hand-written SQL statement that builds the whole response JSON in the database
(SQLite ``json_object``/``json_group_array``, PostgreSQL ``json_build_object``/``json_agg``),
sent back as it comes. No GraphQL, no ORM, no SQLAlchemy: the raw drivers (aiosqlite,
asyncpg) with a pool of ``POOL_SIZE`` connections, like the app's.

Served by uvicorn like the app::

    BENCH_FLOOR_DATABASE_URL=sqlite:////tmp/x/bench.db \\
        python -m uvicorn bench.floor:create_app --factory --port 8100 --workers 2

``POST /w1`` … ``/w11`` take the workload's GraphQL variables as the JSON body and answer
``{"data": …}``, the same data the app answers (``bench.load`` checks that before timing).
What the app decodes from the variables before it queries (a search key, a cursor's sort
keys, a global id's type and row id) the floor decodes too, in Python.

Each statement takes the best access path the schema offers, as the app's do: W3 reads a
director's first 10 works in order from the credits' copies of the works' sort keys
(migration 0008), not every work of the director sorted, and what it shows of them from the
credits' copies of their titles and (on PostgreSQL) theme tags (migration 0011), fetching no
work.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import json
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from db.search import FUZZY_MAX_LENGTH, FUZZY_MIN_LENGTH, FUZZY_THRESHOLD, SQLITE_FUNCTIONS
from db.text import TEXTS_MARK, key_length, search_key, shared_trigrams_needed, trigrams

POOL_SIZE = 10
WORKLOADS = ("w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "w9", "w10", "w11")
URL_VARIABLE = "BENCH_FLOOR_DATABASE_URL"

# W3's page of a director's works: their first 10 credits, in the works' order, with what the
# credits carry of the works (migrations 0008 and 0011), all from one index; no work fetched.
CREDIT_PAGE = """SELECT c.work_id, c.work_title, c.work_year_unknown, c.work_year,
            c.work_title_key{theme_ids}
          FROM credits c WHERE c.person_id = d.id AND c.role = 'DIRECTOR'
          ORDER BY c.work_year_unknown, c.work_year, c.work_title_key, c.work_id LIMIT 10"""

# -- PostgreSQL --------------------------------------------------------------------------------


def _pg_directors(fields: str) -> str:
    return (
        f"coalesce((SELECT json_agg(json_build_object({fields}) ORDER BY c.position) "
        "FROM credits c JOIN people p ON p.id = c.person_id "
        "WHERE c.work_id = w.id AND c.role = 'DIRECTOR'), '[]'::json)"
    )


def _pg_themes(fields: str) -> str:
    return (
        f"coalesce((SELECT json_agg(json_build_object({fields}) ORDER BY wt.position) "
        "FROM work_themes wt JOIN themes t ON t.id = wt.theme_id "
        "WHERE wt.work_id = w.id), '[]'::json)"
    )


PG_LIST_WORK = (
    "json_build_object('slug', w.slug, 'title', w.title, 'year', w.year, "
    "'directors', " + _pg_directors("'name', p.name") + ", "
    "'themes', " + _pg_themes("'name', t.name") + ")"
)

# Facets (W5, W7, W11): kinds and decades counted over ``works`` (a relation of the list's
# works: id, kind, year), the top 10 themes over ``tags`` (a statement of ``theme_id, n``).
TAGS_OF_F = (
    "SELECT wt.theme_id, count(*) AS n FROM f JOIN work_themes wt ON wt.work_id = f.id "
    "GROUP BY wt.theme_id"
)
ALL_TAGS = "SELECT theme_id, count(*) AS n FROM work_themes GROUP BY theme_id"
CATALOG_PAGE = 20  # W11's page


def _theme_columns(fields: tuple[str, ...], table: str) -> str:
    return "".join(f"{table}.{name}, " for name in fields)


def _pg_facets(works: str, tags: str, theme_fields: tuple[str, ...]) -> str:
    theme = ", ".join(f"'{name}', x.{name}" for name in theme_fields)
    return f"""json_build_object(
    'kinds', (SELECT coalesce(json_agg(json_build_object('kind', kind, 'count', n)
                ORDER BY n DESC, kind), '[]'::json)
              FROM (SELECT kind, count(*) AS n FROM {works} GROUP BY kind) k),
    'decades', (SELECT coalesce(json_agg(json_build_object('decade', decade, 'count', n)
                  ORDER BY decade IS NULL, decade), '[]'::json)
                FROM (SELECT (year / 10) * 10 AS decade, count(*) AS n FROM {works} GROUP BY 1) d),
    'themes', (SELECT coalesce(json_agg(json_build_object('theme',
                  json_build_object({theme}), 'count', x.n)
                  ORDER BY x.n DESC, x.name_key, x.id), '[]'::json)
               FROM (SELECT t.id, {_theme_columns(theme_fields, "t")}t.name_key, c.n
                     FROM ({tags}) c
                     JOIN themes t ON t.id = c.theme_id
                     ORDER BY c.n DESC, t.name_key, t.id LIMIT 10) x))"""


PG_SEARCH = """
SELECT json_build_object('data', json_build_object('works', json_build_object('nodes',
  coalesce(json_agg(json_build_object('slug', w.slug, 'title', w.title, 'year', w.year)
    ORDER BY w.title_key, w.id), '[]'::json))))::text
FROM (SELECT * FROM works WHERE {condition} ORDER BY title_key, id LIMIT 20) w"""

POSTGRESQL = {
    "w1": f"""
SELECT json_build_object('data', json_build_object('work', (
  SELECT json_build_object('slug', w.slug, 'title', w.title, 'year', w.year, 'kind', w.kind,
    'directors', {_pg_directors("'slug', p.slug, 'name', p.name")},
    'themes', {_pg_themes("'slug', t.slug, 'name', t.name")})
  FROM works w WHERE w.slug = :slug)))::text""",
    "w2": f"""
SELECT json_build_object('data', json_build_object('works', json_build_object('nodes',
  coalesce(json_agg({PG_LIST_WORK} ORDER BY w.title_key, w.id), '[]'::json))))::text
FROM (SELECT * FROM works ORDER BY title_key, id LIMIT 50) w""",
    "w3": f"""
SELECT json_build_object('data', json_build_object('directors', json_build_object('nodes',
  coalesce(json_agg(json_build_object('name', d.name, 'works', json_build_object('nodes', (
    SELECT coalesce(json_agg(json_build_object('title', w.work_title, 'year',
        CASE WHEN w.work_year_unknown = 1 THEN NULL ELSE w.work_year END,
        'themes', (SELECT coalesce(json_agg(json_build_object('name', t.name)
                     ORDER BY (e.value ->> 0)::int), '[]'::json)
                   FROM jsonb_array_elements(w.work_theme_ids) e
                   JOIN themes t ON t.id = (e.value ->> 1)::int))
      ORDER BY w.work_year_unknown, w.work_year, w.work_title_key, w.work_id), '[]'::json)
    FROM ({CREDIT_PAGE.format(theme_ids=", c.work_theme_ids")}) w)))
  ORDER BY d.name_key, d.id), '[]'::json))))::text
FROM (SELECT * FROM people p
      WHERE EXISTS (SELECT 1 FROM credits c WHERE c.person_id = p.id AND c.role = 'DIRECTOR')
      ORDER BY p.name_key, p.id LIMIT 100) d""",
    # Keys of FUZZY_MIN_LENGTH letters or more also match similar spellings: a statement per
    # key (``pg_fuzzy_search``), as the app writes it.
    "w4": PG_SEARCH.format(condition="search_text LIKE :pattern"),
    "w5": f"""
WITH f AS (SELECT id, kind, year FROM works WHERE kind = :kind AND year >= :from AND year <= :to)
SELECT json_build_object('data', json_build_object('works', json_build_object(
  'totalCount', (SELECT count(*) FROM f),
  'nodes', (SELECT coalesce(json_agg({PG_LIST_WORK} ORDER BY w.title_key, w.id), '[]'::json)
            FROM (SELECT w.* FROM works w JOIN f ON f.id = w.id
                  ORDER BY w.title_key, w.id LIMIT 50) w),
  'facets', {_pg_facets("f", TAGS_OF_F, ("name",))})))::text""",
    # W11: the whole catalog's facets, counted over every work and tag as they stand (the app
    # adds up the counts migration 0016 keeps instead: db/facet_counts.py).
    "w11": f"""
SELECT json_build_object('data', json_build_object('works', json_build_object(
  'totalCount', (SELECT count(*) FROM works),
  'nodes', (SELECT coalesce(json_agg(json_build_object('slug', w.slug, 'title', w.title,
                'year', w.year) ORDER BY w.title_key, w.id), '[]'::json)
            FROM (SELECT * FROM works ORDER BY title_key, id LIMIT {CATALOG_PAGE}) w),
  'facets', {_pg_facets("works", ALL_TAGS, ("slug", "name"))})))::text""",
}

# -- SQLite: aggregates take no ORDER BY (before 3.44), so rows are ordered in a subquery; a
# subquery's JSON comes back as text, so it is wrapped in json() to nest as JSON. ---------------


def _sqlite_directors(fields: str, columns: str) -> str:
    return (
        f"json((SELECT json_group_array(json_object({fields})) FROM (SELECT {columns} "
        "FROM credits c JOIN people p ON p.id = c.person_id "
        "WHERE c.work_id = w.id AND c.role = 'DIRECTOR' ORDER BY c.position)))"
    )


def _sqlite_themes(fields: str, columns: str, work_id: str = "w.id") -> str:
    return (
        f"json((SELECT json_group_array(json_object({fields})) FROM (SELECT {columns} "
        "FROM work_themes wt JOIN themes t ON t.id = wt.theme_id "
        f"WHERE wt.work_id = {work_id} ORDER BY wt.position)))"
    )


def _sqlite_facets(works: str, tags: str, theme_fields: tuple[str, ...]) -> str:
    """``_pg_facets`` on SQLite."""
    theme = ", ".join(f"'{name}', {name}" for name in theme_fields)
    return f"""json_object(
    'kinds', json((SELECT json_group_array(json_object('kind', kind, 'count', n))
              FROM (SELECT kind, count(*) AS n FROM {works} GROUP BY kind ORDER BY n DESC, kind))),
    'decades', json((SELECT json_group_array(json_object('decade', decade, 'count', n))
                FROM (SELECT (year / 10) * 10 AS decade, count(*) AS n FROM {works}
                      GROUP BY 1 ORDER BY decade IS NULL, decade))),
    'themes', json((SELECT json_group_array(json_object('theme',
                  json_object({theme}), 'count', n))
               FROM (SELECT {_theme_columns(theme_fields, "t")}c.n
                     FROM ({tags}) c
                     JOIN themes t ON t.id = c.theme_id
                     ORDER BY c.n DESC, t.name_key, t.id LIMIT 10))))"""


SQLITE_LIST_WORK = (
    "json_object('slug', w.slug, 'title', w.title, 'year', w.year, "
    "'directors', " + _sqlite_directors("'name', name", "p.name") + ", "
    "'themes', " + _sqlite_themes("'name', name", "t.name") + ")"
)
SQLITE = {
    "w1": f"""
SELECT json_object('data', json_object('work', json((
  SELECT json_object('slug', w.slug, 'title', w.title, 'year', w.year, 'kind', w.kind,
    'directors', {_sqlite_directors("'slug', slug, 'name', name", "p.slug, p.name")},
    'themes', {_sqlite_themes("'slug', slug, 'name', name", "t.slug, t.name")})
  FROM works w WHERE w.slug = :slug))))""",
    "w2": f"""
SELECT json_object('data', json_object('works', json_object('nodes',
  json_group_array({SQLITE_LIST_WORK}))))
FROM (SELECT * FROM works ORDER BY title_key, id LIMIT 50) w""",
    "w3": f"""
SELECT json_object('data', json_object('directors', json_object('nodes',
  json_group_array(json_object('name', d.name, 'works', json_object('nodes', json((
    SELECT json_group_array(json_object('title', w.work_title, 'year',
        CASE WHEN w.work_year_unknown = 1 THEN NULL ELSE w.work_year END,
        'themes', {_sqlite_themes("'name', name", "t.name", "w.work_id")}))
    FROM ({CREDIT_PAGE.format(theme_ids="")}) w))))))))
FROM (SELECT * FROM people p
      WHERE EXISTS (SELECT 1 FROM credits c WHERE c.person_id = p.id AND c.role = 'DIRECTOR')
      ORDER BY p.name_key, p.id LIMIT 100) d""",
    # w4 is built per request (sqlite_search): the FTS5 trigram lookup the app compiles.
    "w5": f"""
WITH f AS (SELECT id, kind, year FROM works WHERE kind = :kind AND year >= :from AND year <= :to)
SELECT json_object('data', json_object('works', json_object(
  'totalCount', (SELECT count(*) FROM f),
  'nodes', json((SELECT json_group_array({SQLITE_LIST_WORK})
            FROM (SELECT w.* FROM works w JOIN f ON f.id = w.id
                  ORDER BY w.title_key, w.id LIMIT 50) w)),
  'facets', {_sqlite_facets("f", TAGS_OF_F, ("name",))})))""",
    "w11": f"""
SELECT json_object('data', json_object('works', json_object(
  'totalCount', (SELECT count(*) FROM works),
  'nodes', json((SELECT json_group_array(json_object('slug', w.slug, 'title', w.title,
                  'year', w.year))
            FROM (SELECT * FROM works ORDER BY title_key, id LIMIT {CATALOG_PAGE}) w)),
  'facets', {_sqlite_facets("works", ALL_TAGS, ("slug", "name"))})))""",
}


def pg_fuzzy_search(key: str) -> str:
    """W4 on PostgreSQL for a key long enough for typo tolerance: the rows holding it, or one
    trigram of each disjoint group of enough of them (pigeonhole, each a GIN trigram lookup)
    and resembling it by
    ``nk_word_similarity`` (migration 0014). The same rule as ``db.search``, by hand; the
    trigrams are letters and digits, written into the statement as the app writes them."""
    grams = sorted(trigrams(key))
    size = len(grams) - shared_trigrams_needed(len(grams), FUZZY_THRESHOLD) + 1
    groups = [grams[i : i + size] for i in range(0, len(grams) - size + 1, size)]
    holds = " AND ".join(
        "(" + " OR ".join(f"search_text LIKE '%{gram}%'" for gram in group) + ")"
        for group in groups
    )
    similar = f"nk_word_similarity(:key, search_text) >= {FUZZY_THRESHOLD}"
    return PG_SEARCH.format(condition=f"search_text LIKE :pattern OR ({holds} AND {similar})")


def sqlite_search(key: str) -> tuple[str, dict[str, Any]]:
    """W4 on SQLite: the works whose search document contains ``key`` (FTS5 trigram index),
    or, for a key of FUZZY_MIN_LENGTH characters or more, resembles it: candidates holding one
    of its rarest trigrams (from the index vocabulary), confirmed by the registered
    ``nk_resembles`` function. The same rule as ``db.search``, written by hand."""
    parameters: dict[str, Any] = {"pattern": f"%{key}%", "key": key}
    found = "SELECT rowid FROM works_search WHERE works_search.search_text LIKE :pattern"
    grams = sorted(trigrams(key))
    if key_length(key) >= FUZZY_MIN_LENGTH:
        rarest = len(grams) - shared_trigrams_needed(len(grams), FUZZY_THRESHOLD) + 1
        names = []
        for i, gram in enumerate(grams):
            parameters[f"g{i}"] = gram
            names.append(f":g{i}")
        parameters["no_phrase"] = f'"{grams[0]}"' if grams else ""
        found += (
            " UNION SELECT rowid FROM works_search WHERE works_search MATCH coalesce(("
            "SELECT group_concat('\"' || term || '\"', ' OR ') FROM ("
            f"SELECT term FROM works_search_vocab WHERE term IN ({', '.join(names)}) "
            f"ORDER BY doc, term LIMIT {rarest})), :no_phrase) "
            "AND nk_resembles(:key, works_search.search_text)"
        )
    statement = f"""
SELECT json_object('data', json_object('works', json_object('nodes',
  json_group_array(json_object('slug', w.slug, 'title', w.title, 'year', w.year)))))
FROM (SELECT * FROM works WHERE id IN ({found}) ORDER BY title_key, id LIMIT 20) w"""
    return statement, parameters


# -- W6-W10: statements that depend on what the request decodes to --------------------------------

SEARCH_HITS = 20  # W6
PAGE = 20  # W7's and W9's page size

# W6: the root search, as ``db.search.search`` ranks it: per type the best SEARCH_HITS rows
# by (rank, similarity, name, id), then the best SEARCH_HITS of the three by (score, name,
# type, id). Rank 4 a whole name, 3 a name's start, 2 inside a name, 1 inside the prose, 0 a
# similar spelling (its score half its similarity).
SEARCHED = (
    ("work", "works", "title_key"),
    ("person", "people", "name_key"),
    ("theme", "themes", "name_key"),
)


def _fuzzy(key: str) -> bool:
    return FUZZY_MIN_LENGTH <= key_length(key) <= FUZZY_MAX_LENGTH


def _literal(key: str) -> str:
    """A search key written into a PostgreSQL statement, as the app writes it (each key its
    own plan); a key is letters and digits only."""
    if not key or not all(c.isalnum() for c in key):
        raise ValueError(f"not a search key: {key!r}")
    return key


def _pg_match(table: str, key: str) -> str:
    column = f"{table}.search_text"
    like = f"{column} LIKE '%{_literal(key)}%'"
    if not _fuzzy(key):
        return like
    grams = sorted(trigrams(key))
    size = len(grams) - shared_trigrams_needed(len(grams), FUZZY_THRESHOLD) + 1
    groups = [grams[i : i + size] for i in range(0, len(grams) - size + 1, size)]
    holds = " AND ".join(
        "(" + " OR ".join(f"{column} LIKE '%{_literal(g)}%'" for g in group) + ")"
        for group in groups
    )
    similar = f"nk_word_similarity('{key}', {column}) >= {FUZZY_THRESHOLD}"
    return f"({like} OR ({holds} AND {similar}))"


def _sqlite_match(table: str, key: str, parameters: dict[str, Any]) -> str:
    fts = f"{table}_search"
    found = f"SELECT rowid FROM {fts} WHERE {fts}.search_text LIKE :pattern"
    if _fuzzy(key):
        grams = sorted(trigrams(key))
        rarest = len(grams) - shared_trigrams_needed(len(grams), FUZZY_THRESHOLD) + 1
        names = ", ".join(f":g{i}" for i in range(len(grams)))
        found += (
            f" UNION SELECT rowid FROM {fts} WHERE {fts} MATCH coalesce(("
            "SELECT group_concat('\"' || term || '\"', ' OR ') FROM ("
            f"SELECT term FROM {fts}_vocab WHERE term IN ({names}) "
            f"ORDER BY doc, term LIMIT {rarest})), :no_phrase) "
            f"AND nk_resembles(:key, {fts}.search_text)"
        )
    return f"{table}.id IN ({found})"


def _ranked(dialect: str, key: str, parameters: dict[str, Any]) -> str:
    """The three types' best SEARCH_HITS rows, each ``(kind, id, name, score)``."""
    postgresql = dialect == "postgresql"
    if postgresql:
        k = _literal(key)
        exact, start, inside, quoted = f"'%|{k}|%'", f"'%|{k}%'", f"'%{k}%'", f"'{k}'"
    else:
        parameters.update(exact=f"%|{key}|%", start=f"%|{key}%", pattern=f"%{key}%", key=key)
        exact, start, inside, quoted = ":exact", ":start", ":pattern", ":key"
        grams = sorted(trigrams(key))
        parameters.update({f"g{i}": g for i, g in enumerate(grams)})
        parameters["no_phrase"] = f'"{grams[0]}"' if grams else ""
    half = "(0.5 * similarity)::numeric" if postgresql else "0.5 * similarity"
    parts = []
    for kind, table, name in SEARCHED:
        document = f"{table}.search_text"
        names = (
            f"split_part({document}, '{TEXTS_MARK}', 1)"
            if postgresql
            else f"substr({document}, 1, instr({document} || '{TEXTS_MARK}', '{TEXTS_MARK}') - 1)"
        )
        match = _pg_match(table, key) if postgresql else _sqlite_match(table, key, parameters)
        parts.append(f"""SELECT * FROM (
  SELECT kind, id, name, CASE rank WHEN 4 THEN 1.0 WHEN 3 THEN 0.9 WHEN 2 THEN 0.75
      WHEN 1 THEN 0.6 ELSE round({half}, 4) END AS score
  FROM (SELECT kind, id, name, rank,
          CASE WHEN rank > 0 THEN 1.0 ELSE nk_word_similarity({quoted}, document) END AS similarity
        FROM (SELECT '{kind}' AS kind, {table}.id AS id, {table}.{name} AS name,
                {document} AS document,
                CASE WHEN {document} LIKE {exact} THEN 4 WHEN {document} LIKE {start} THEN 3
                  WHEN {names} LIKE {inside} THEN 2 WHEN {document} LIKE {inside} THEN 1
                  ELSE 0 END AS rank
              FROM {table} WHERE {match}) r) s
  ORDER BY rank DESC, similarity DESC, name, id LIMIT {SEARCH_HITS}) {table}_hits""")
    return "\nUNION ALL\n".join(parts)


def search_statement(dialect: str, key: str) -> tuple[str, dict[str, Any]]:
    """W6: ``search(query:, first: 20)`` with each hit's fields, in one statement."""
    parameters: dict[str, Any] = {}
    ranked = _ranked(dialect, key, parameters)
    if dialect == "postgresql":
        hit = """CASE h.kind
      WHEN 'work' THEN (SELECT json_build_object('__typename', 'Work', 'slug', w.slug,
                          'title', w.title, 'year', w.year) FROM works w WHERE w.id = h.id)
      WHEN 'person' THEN (SELECT json_build_object('__typename', 'Person', 'slug', p.slug,
                            'name', p.name) FROM people p WHERE p.id = h.id)
      ELSE (SELECT json_build_object('__typename', 'Theme', 'slug', t.slug, 'name', t.name)
            FROM themes t WHERE t.id = h.id) END"""
        statement = f"""
SELECT json_build_object('data', json_build_object('search', coalesce(json_agg({hit}
    ORDER BY h.score DESC, h.name, h.kind, h.id), '[]'::json)))::text
FROM ({ranked}
      ORDER BY score DESC, name, kind, id LIMIT {SEARCH_HITS}) h"""
    else:
        hit = """json(CASE h.kind
      WHEN 'work' THEN (SELECT json_object('__typename', 'Work', 'slug', w.slug,
                          'title', w.title, 'year', w.year) FROM works w WHERE w.id = h.id)
      WHEN 'person' THEN (SELECT json_object('__typename', 'Person', 'slug', p.slug,
                            'name', p.name) FROM people p WHERE p.id = h.id)
      ELSE (SELECT json_object('__typename', 'Theme', 'slug', t.slug, 'name', t.name)
            FROM themes t WHERE t.id = h.id) END)"""
        statement = f"""
SELECT json_object('data', json_object('search', json_group_array({hit})))
FROM (SELECT * FROM ({ranked}) ORDER BY score DESC, name, kind, id LIMIT {SEARCH_HITS}) h"""
    return statement, parameters


# W7: a theme's works with facets, as W5 for another filter (here the tags' own copies of
# their themes' slugs, migration 0009, as the app filters).
FACET_PAGE_FILTER = (
    "SELECT id, kind, year FROM works "
    "WHERE id IN (SELECT wt.work_id FROM work_themes wt WHERE wt.theme_slug = :theme)"
)


def _pg_facet_page() -> str:
    return f"""
WITH f AS ({FACET_PAGE_FILTER})
SELECT json_build_object('data', json_build_object('works', json_build_object(
  'totalCount', (SELECT count(*) FROM f),
  'nodes', (SELECT coalesce(json_agg(json_build_object('slug', w.slug, 'title', w.title,
                'year', w.year, 'directors', {_pg_directors("'name', p.name")})
              ORDER BY w.title_key, w.id), '[]'::json)
            FROM (SELECT w.* FROM works w JOIN f ON f.id = w.id
                  ORDER BY w.title_key, w.id LIMIT {PAGE}) w),
  'facets', {_pg_facets("f", TAGS_OF_F, ("slug", "name"))})))::text"""


def _sqlite_facet_page() -> str:
    directors = _sqlite_directors("'name', name", "p.name")
    return f"""
WITH f AS ({FACET_PAGE_FILTER})
SELECT json_object('data', json_object('works', json_object(
  'totalCount', (SELECT count(*) FROM f),
  'nodes', json((SELECT json_group_array(json_object('slug', w.slug, 'title', w.title,
                  'year', w.year, 'directors', {directors}))
            FROM (SELECT w.* FROM works w JOIN f ON f.id = w.id
                  ORDER BY w.title_key, w.id LIMIT {PAGE}) w)),
  'facets', {_sqlite_facets("f", TAGS_OF_F, ("slug", "name"))})))"""


# W8: a work's page: every credit with its person, themes, sources, disputes, external ids.
def _pg_detail() -> str:
    def listed(fields: str, order: str, rest: str) -> str:
        aggregate = f"json_agg(json_build_object({fields}) ORDER BY {order})"
        return f"coalesce((SELECT {aggregate} {rest}), '[]'::json)"

    credits = listed(
        "'role', c.role, 'person', json_build_object('slug', p.slug, 'name', p.name)",
        "c.position",
        "FROM credits c JOIN people p ON p.id = c.person_id WHERE c.work_id = w.id",
    )
    sources = listed(
        "'key', s.key, 'title', s.title, 'url', s.url",
        "ws.position",
        "FROM work_sources ws JOIN sources s ON s.id = ws.source_id WHERE ws.work_id = w.id",
    )
    disputes = listed(
        "'field', d.field, 'stated', d.stated, 'reported', d.reported, 'note', d.note, "
        "'source', json_build_object('title', s.title)",
        "d.position",
        "FROM disputes d JOIN sources s ON s.id = d.source_id WHERE d.work_id = w.id",
    )
    external = listed(
        "'system', x.system, 'value', x.value",
        "x.system",
        "FROM work_external_ids x WHERE x.work_id = w.id",
    )
    return f"""
SELECT json_build_object('data', json_build_object('work', (
  SELECT json_build_object('slug', w.slug, 'title', w.title, 'originalTitle', w.original_title,
    'year', w.year, 'kind', w.kind, 'synopsis', w.synopsis, 'credits', {credits},
    'themes', {_pg_themes("'slug', t.slug, 'name', t.name")}, 'sources', {sources},
    'disputes', {disputes}, 'externalIds', {external})
  FROM works w WHERE w.slug = :slug)))::text"""


def _sqlite_detail() -> str:
    def listed(fields: str, columns: str, rest: str) -> str:
        return (
            f"json((SELECT json_group_array(json_object({fields})) FROM (SELECT {columns} {rest})))"
        )

    credits = listed(
        "'role', role, 'person', json_object('slug', slug, 'name', name)",
        "c.role, p.slug, p.name",
        "FROM credits c JOIN people p ON p.id = c.person_id WHERE c.work_id = w.id "
        "ORDER BY c.position",
    )
    sources = listed(
        "'key', source_key, 'title', title, 'url', url",
        "s.key AS source_key, s.title, s.url",
        "FROM work_sources ws JOIN sources s ON s.id = ws.source_id WHERE ws.work_id = w.id "
        "ORDER BY ws.position",
    )
    disputes = listed(
        "'field', field, 'stated', stated, 'reported', reported, 'note', note, "
        "'source', json_object('title', title)",
        "d.field, d.stated, d.reported, d.note, s.title",
        "FROM disputes d JOIN sources s ON s.id = d.source_id WHERE d.work_id = w.id "
        "ORDER BY d.position",
    )
    external = listed(
        "'system', system, 'value', value",
        "x.system, x.value",
        "FROM work_external_ids x WHERE x.work_id = w.id ORDER BY x.system",
    )
    themes = _sqlite_themes("'slug', slug, 'name', name", "t.slug, t.name")
    return f"""
SELECT json_object('data', json_object('work', json((
  SELECT json_object('slug', w.slug, 'title', w.title, 'originalTitle', w.original_title,
    'year', w.year, 'kind', w.kind, 'synopsis', w.synopsis, 'credits', {credits},
    'themes', {themes}, 'sources', {sources}, 'disputes', {disputes}, 'externalIds', {external})
  FROM works w WHERE w.slug = :slug))))"""


# W9: a person's works after a cursor (their sort keys: year unknown, year, title key, id), in
# the app's filmography order, each work once whatever the person's credits on it: the page's
# works are the person's next credits in that order (migration 0020's index, without the
# role), one group per work (its credits in several roles carry the same keys), then fetched.
WORK_SORT_KEYS = (
    "CASE WHEN w.year IS NULL THEN 1 ELSE 0 END, coalesce(w.year, 0), w.title_key, w.id"
)
CREDIT_SORT_KEYS = "c.work_year_unknown, c.work_year, c.work_title_key, c.work_id"
PERSON_PAGE = f"""SELECT w.* FROM works w
          WHERE w.id IN (SELECT c.work_id FROM credits c
            WHERE c.person_id = p.id
              AND ({CREDIT_SORT_KEYS}) > (CAST(:year_unknown AS INTEGER),
                CAST(:year AS INTEGER), CAST(:title AS TEXT), CAST(:id AS INTEGER))
            GROUP BY {CREDIT_SORT_KEYS} ORDER BY {CREDIT_SORT_KEYS} LIMIT {PAGE})
          ORDER BY {WORK_SORT_KEYS} LIMIT {PAGE}"""


def _pg_person_page() -> str:
    return f"""
SELECT json_build_object('data', json_build_object('person', (
  SELECT json_build_object('name', p.name, 'works', json_build_object('nodes', (
    SELECT coalesce(json_agg(json_build_object('slug', w.slug, 'title', w.title, 'year', w.year,
        'themes', {_pg_themes("'name', t.name")})
      ORDER BY {WORK_SORT_KEYS}), '[]'::json)
    FROM ({PERSON_PAGE}) w)))
  FROM people p WHERE p.slug = :slug)))::text"""


def _sqlite_person_page() -> str:
    return f"""
SELECT json_object('data', json_object('person', json((
  SELECT json_object('name', p.name, 'works', json_object('nodes', json((
    SELECT json_group_array(json_object('slug', w.slug, 'title', w.title, 'year', w.year,
        'themes', {_sqlite_themes("'name', name", "t.name")}))
    FROM ({PERSON_PAGE}) w))))
  FROM people p WHERE p.slug = :slug))))"""


def cursor_keys(cursor: str) -> dict[str, Any]:
    """The sort keys a person's-works cursor holds (``gql.cursors``: base64 of ``[tag,
    [year unknown, year, title key, id]]``)."""
    _tag, values = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
    year_unknown, year, title, work_id = values
    return {"year_unknown": year_unknown, "year": year, "title": title, "id": work_id}


# W10: node(id:): the global id (``gql.ids``: base64 of "Type:id") names the table.
NODE_FIELDS = {
    "Work": ("works", "'slug', x.slug, 'title', x.title, 'year', x.year"),
    "Person": ("people", "'slug', x.slug, 'name', x.name"),
    "Theme": ("themes", "'slug', x.slug, 'name', x.name"),
}


def _node(dialect: str, type_name: str) -> str:
    table, fields = NODE_FIELDS[type_name]
    if dialect == "postgresql":
        return f"""
SELECT json_build_object('data', json_build_object('node', (
  SELECT json_build_object('__typename', '{type_name}', {fields})
  FROM {table} x WHERE x.id = :id)))::text"""
    return f"""
SELECT json_object('data', json_object('node', json((
  SELECT json_object('__typename', '{type_name}', {fields})
  FROM {table} x WHERE x.id = :id))))"""


def global_id(value: str) -> tuple[str, int]:
    type_name, _, row_id = base64.b64decode(value.encode("ascii")).decode("utf-8").partition(":")
    return type_name, int(row_id)


NO_NODE = '{"data": {"node": null}}'
STATIC = {"w7": (_pg_facet_page(), _sqlite_facet_page()), "w8": (_pg_detail(), _sqlite_detail())}
STATIC_PERSON = (_pg_person_page(), _sqlite_person_page())


def request_statement(
    dialect: str, workload: str, body: dict[str, Any]
) -> tuple[str, dict[str, Any]] | None:
    """W6-W10's statement and parameters for a request (None: the answer needs no statement)."""
    side = 0 if dialect == "postgresql" else 1
    if workload == "w6":
        key = search_key(str(body["query"]))
        if not key:
            return None
        return search_statement(dialect, key)
    if workload == "w7":
        return STATIC["w7"][side], {"theme": str(body["theme"])}
    if workload == "w8":
        return STATIC["w8"][side], {"slug": str(body["slug"])}
    if workload == "w9":
        return STATIC_PERSON[side], {"slug": str(body["slug"]), **cursor_keys(str(body["after"]))}
    if workload == "w10":
        type_name, row_id = global_id(str(body["id"]))
        if type_name not in NODE_FIELDS:
            return None
        return _node(dialect, type_name), {"id": row_id}
    raise KeyError(workload)


EMPTY_ANSWERS = {"w6": '{"data": {"search": []}}', "w10": NO_NODE}
REQUEST_WORKLOADS = ("w6", "w7", "w8", "w9", "w10")


_NAMED = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


def to_numbered(statement: str) -> tuple[str, list[str]]:
    """``:name`` placeholders to asyncpg's ``$1``…, and the names in that order."""
    order: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in order:
            order.append(name)
        return f"${order.index(name) + 1}"

    return _NAMED.sub(number, statement), order


@functools.lru_cache(maxsize=512)
def _numbered(statement: str) -> tuple[str, tuple[str, ...]]:
    sql, order = to_numbered(statement)
    return sql, tuple(order)


def _parameters(workload: str, body: dict[str, Any]) -> dict[str, Any]:
    if workload == "w1":
        return {"slug": str(body["slug"])}
    if workload == "w4":
        key = search_key(str(body["term"]))
        return {"key": key, "pattern": f"%{key}%", "fuzzy": key_length(key) >= FUZZY_MIN_LENGTH}
    if workload == "w5":
        return {"kind": str(body["kind"]), "from": int(body["from"]), "to": int(body["to"])}
    return {}


class Database:
    """One statement in, one JSON text out."""

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    async def answer(self, workload: str, body: dict[str, Any]) -> str:
        raise NotImplementedError


class PostgreSQL(Database):
    def __init__(self, url: str) -> None:
        self.url = "postgresql://" + url.partition("://")[2]
        self.statements = {k: to_numbered(s) for k, s in POSTGRESQL.items()}
        self.pool: Any = None

    async def start(self) -> None:
        import asyncpg

        self.pool = await asyncpg.create_pool(self.url, min_size=POOL_SIZE, max_size=POOL_SIZE)

    async def stop(self) -> None:
        if self.pool is not None:
            await self.pool.close()

    async def answer(self, workload: str, body: dict[str, Any]) -> str:
        if workload in REQUEST_WORKLOADS:
            found = request_statement("postgresql", workload, body)
            if found is None:
                return EMPTY_ANSWERS[workload]
            sql, names = _numbered(found[0])
            async with self.pool.acquire() as connection:
                return str(await connection.fetchval(sql, *(found[1][n] for n in names)))
        parameters = _parameters(workload, body)
        if workload == "w4" and parameters["fuzzy"]:
            sql, names = to_numbered(pg_fuzzy_search(parameters["key"]))
        else:
            sql, names = self.statements[workload]
        arguments = [parameters[name] for name in names]
        async with self.pool.acquire() as connection:
            return str(await connection.fetchval(sql, *arguments))


class SQLite(Database):
    def __init__(self, url: str) -> None:
        self.path = url.partition(":///")[2]
        self.idle: asyncio.Queue[Any] = asyncio.Queue()
        self.connections: list[Any] = []

    async def start(self) -> None:
        import aiosqlite

        for _ in range(POOL_SIZE):
            connection = await aiosqlite.connect(self.path)
            for name, function in SQLITE_FUNCTIONS.items():
                await connection.create_function(name, 2, function, deterministic=True)
            self.connections.append(connection)
            self.idle.put_nowait(connection)

    async def stop(self) -> None:
        for connection in self.connections:
            await connection.close()

    async def answer(self, workload: str, body: dict[str, Any]) -> str:
        if workload in REQUEST_WORKLOADS:
            found = request_statement("sqlite", workload, body)
            if found is None:
                return EMPTY_ANSWERS[workload]
            statement, parameters = found
        elif workload == "w4":
            statement, parameters = sqlite_search(_parameters(workload, body)["key"])
        else:
            statement, parameters = SQLITE[workload], _parameters(workload, body)
        connection = await self.idle.get()
        try:
            async with connection.execute(statement, parameters) as cursor:
                row = await cursor.fetchone()
        finally:
            self.idle.put_nowait(connection)
        return str(row[0])


def database(url: str) -> Database:
    return SQLite(url) if url.startswith("sqlite") else PostgreSQL(url)


def create_app(url: str | None = None) -> Starlette:
    db = database(url or os.environ[URL_VARIABLE])

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await db.start()
        try:
            yield
        finally:
            await db.stop()

    def endpoint(workload: str) -> Callable[[Request], Awaitable[Response]]:
        async def answer(request: Request) -> Response:
            body = json.loads(await request.body() or b"{}")
            return Response(await db.answer(workload, body), media_type="application/json")

        return answer

    async def healthz(_request: Request) -> Response:
        return PlainTextResponse("ok")

    routes = [Route(f"/{w}", endpoint(w), methods=["POST"]) for w in WORKLOADS]
    return Starlette(routes=[*routes, Route("/healthz", healthz)], lifespan=lifespan)


def serve(port: int, workers: int) -> None:
    """Serve the floor as ``nkcinema serve`` serves the app: with several workers, on a socket
    bound with TCP_NODELAY (``cli.listening_socket``; plain uvicorn stalls ~40 ms per
    keep-alive request there)."""
    import uvicorn

    from cli import listening_socket

    where: dict[str, Any] = {"host": "127.0.0.1", "port": port}
    shared = listening_socket("127.0.0.1", port) if workers > 1 else None
    if shared is not None:
        where = {"fd": shared.fileno()}
    uvicorn.run(
        "bench.floor:create_app",
        factory=True,
        workers=workers,
        access_log=False,
        log_level="warning",
        **where,
    )


if __name__ == "__main__":
    import sys

    serve(int(sys.argv[1]), int(sys.argv[2]))
