"""Compiled statements run on the driver's connection directly (PostgreSQL, asyncpg): for the
fast lane (``gql.fast_lane``), where a request is one read statement and SQLAlchemy's session
would add a transaction (BEGIN and ROLLBACK: two more round trips) and its per-statement
bookkeeping.

Each root-field statement is compiled once (``driver_statement``) to the driver's SQL, its
parameters in the driver's order, its own values already through SQLAlchemy's bind
processors. A statement runs outside any transaction, which on PostgreSQL is one snapshot,
on a connection checked out of the app's pool; a connection that fails or is interrupted
mid-statement (the request deadline) is discarded, never returned to the pool.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine

from db.version_reads import VERSION_SQL, version_value
from gql.compiled import STATEMENTS, statement
from gql.compiled.plan import Connection, Obj, RootObject
from gql.compiled.sql import SLUG


@dataclass(frozen=True)
class DriverStatement:
    sql: str
    names: tuple[str, ...]  # the parameters, in the driver's positional order
    values: dict[str, Any]  # the statement's own parameter values, processed

    @property
    def with_version(self) -> str:
        """The statement with the catalog version read beside it: one statement, so one
        snapshot (PostgreSQL): the version is exactly the catalog the value comes from."""
        return f"SELECT ({VERSION_SQL}), ({self.sql})"


@functools.lru_cache(maxsize=STATEMENTS)
def driver_statement(dialect: Dialect, root: Obj | Connection) -> DriverStatement | None:
    built = statement(dialect.name, root)
    if built is None:
        return None
    compiled = built.compile(dialect=dialect)
    names = tuple(compiled.positiontup or ())
    processors: dict[str, Any] = dict(compiled._bind_processors)
    raw = compiled.construct_params({SLUG: ""} if isinstance(root, Obj) else None)
    values = {
        name: processors[name](value) if name in processors else value
        for name, value in raw.items()
    }
    return DriverStatement(compiled.string, names, values)


async def fetch_json(
    engine: AsyncEngine, root: RootObject | Connection, *, version: bool = False
) -> tuple[int | None, Any]:
    """The root field's JSON text (or None), as ``gql.compiled._value`` reads it, and with
    ``version`` the catalog version it was read at (else None)."""
    if isinstance(root, RootObject):
        prepared = driver_statement(engine.dialect, root.node)
        given = {SLUG: root.slug}
    else:
        prepared, given = driver_statement(engine.dialect, root), {}
    if prepared is None:
        return None, []
    arguments = [given[n] if n in given else prepared.values[n] for n in prepared.names]
    connection = await engine.raw_connection()
    try:
        driver: Any = connection.driver_connection
        if version:
            row = await driver.fetchrow(prepared.with_version, *arguments)
            read_at, value = version_value(row[0]), row[1]
        else:
            read_at, value = None, await driver.fetchval(prepared.sql, *arguments)
    except BaseException:
        connection.invalidate()  # it may be mid-statement: never back into the pool
        raise
    connection.close()  # back into the pool
    return read_at, value
