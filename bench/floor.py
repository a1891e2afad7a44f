"""The floor: the load benchmark's workloads answered by a minimal Starlette app, each request
with ONE hand-written SQL statement that builds the whole response JSON in the database
(SQLite ``json_object``/``json_group_array``, PostgreSQL ``json_build_object``/``json_agg``),
sent back as it comes. No GraphQL, no ORM, no SQLAlchemy: the raw drivers (aiosqlite,
asyncpg) with a pool of ``POOL_SIZE`` connections, like the app's.

Served by uvicorn like the app::

    BENCH_FLOOR_DATABASE_URL=sqlite:////tmp/x/bench.db \\
        python -m uvicorn bench.floor:create_app --factory --port 8100 --workers 2

``POST /w1`` … ``/w5`` take the workload's GraphQL variables as the JSON body and answer
``{"data": …}``, the same data the app answers (``bench.load`` checks that before timing).

Each statement takes the best access path the schema offers, as the app's do: W3 reads a
director's first 10 works in order from the credits' copies of the works' sort keys
(migration 0008), not every work of the director sorted, and what it shows of them from the
credits' copies of their titles and (on PostgreSQL) theme tags (migration 0011), fetching no
work.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from db.search import FUZZY_MIN_LENGTH, FUZZY_THRESHOLD, SQLITE_FUNCTIONS
from db.text import key_length, search_key, shared_trigrams_needed, trigrams

POOL_SIZE = 10
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
  'facets', json_build_object(
    'kinds', (SELECT coalesce(json_agg(json_build_object('kind', kind, 'count', n)
                ORDER BY n DESC, kind), '[]'::json)
              FROM (SELECT kind, count(*) AS n FROM f GROUP BY kind) k),
    'decades', (SELECT coalesce(json_agg(json_build_object('decade', decade, 'count', n)
                  ORDER BY decade IS NULL, decade), '[]'::json)
                FROM (SELECT (year / 10) * 10 AS decade, count(*) AS n FROM f GROUP BY 1) d),
    'themes', (SELECT coalesce(json_agg(json_build_object('theme',
                  json_build_object('name', x.name), 'count', x.n)
                  ORDER BY x.n DESC, x.name_key, x.id), '[]'::json)
               FROM (SELECT t.id, t.name, t.name_key, c.n
                     FROM (SELECT wt.theme_id, count(*) AS n
                           FROM f JOIN work_themes wt ON wt.work_id = f.id
                           GROUP BY wt.theme_id) c
                     JOIN themes t ON t.id = c.theme_id
                     ORDER BY c.n DESC, t.name_key, t.id LIMIT 10) x)))))::text""",
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
  'facets', json_object(
    'kinds', json((SELECT json_group_array(json_object('kind', kind, 'count', n))
              FROM (SELECT kind, count(*) AS n FROM f GROUP BY kind ORDER BY n DESC, kind))),
    'decades', json((SELECT json_group_array(json_object('decade', decade, 'count', n))
                FROM (SELECT (year / 10) * 10 AS decade, count(*) AS n FROM f
                      GROUP BY 1 ORDER BY decade IS NULL, decade))),
    'themes', json((SELECT json_group_array(json_object('theme', json_object('name', name),
                  'count', n))
               FROM (SELECT t.name, c.n
                     FROM (SELECT wt.theme_id, count(*) AS n
                           FROM f JOIN work_themes wt ON wt.work_id = f.id
                           GROUP BY wt.theme_id) c
                     JOIN themes t ON t.id = c.theme_id
                     ORDER BY c.n DESC, t.name_key, t.id LIMIT 10)))))))""",
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
        parameters = _parameters(workload, body)
        if workload == "w4":
            statement, parameters = sqlite_search(parameters["key"])
        else:
            statement = SQLITE[workload]
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

    routes = [Route(f"/{w}", endpoint(w), methods=["POST"]) for w in ("w1", "w2", "w3", "w4", "w5")]
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
