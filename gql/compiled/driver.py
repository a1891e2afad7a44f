"""Compiled statements run on the driver's connection directly (asyncpg, aiosqlite): for the
fast lane (``web.fast_lane``), where a request is one read statement and SQLAlchemy's session
would add a transaction (BEGIN and ROLLBACK: two more round trips on PostgreSQL) and its
per-statement bookkeeping.

Each root-field statement is compiled once (``driver_statement``) to the driver's SQL, its
parameters in the driver's order, its own values already through SQLAlchemy's bind
processors. A statement runs outside any transaction, which on PostgreSQL is one snapshot,
on a connection checked out of the app's pool; a connection that fails or is interrupted
mid-statement (the request deadline) is discarded, never returned to the pool. On SQLite
the statement limit of ``db.statement_timeout`` is set around the statement, as SQLAlchemy's
cursor events set it for every other statement.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

from db.statement_timeout import sqlite_deadline
from db.version_reads import version_value
from gql.compiled import (
    STATEMENTS,
    Built,
    RootRead,
    placeholders,
    statement,
    statement_source,
    versioned_statement,
)
from gql.compiled.plan import SearchStatement
from gql.compiled.written import Pieces, pieces, written


@dataclass(frozen=True)
class DriverStatement:
    sql: str
    names: tuple[str, ...]  # the parameters, in the driver's positional order
    values: dict[str, Any]  # the statement's own parameter values, processed
    # PostgreSQL, a search statement: its text cut at its placeholders, the parameters'
    # values written in at each run (``gql.compiled.written``) instead of bound
    pieces: Pieces | None = None

    def run_as(self, arguments: list[Any]) -> tuple[str, list[Any]]:
        """The statement's text and the arguments it is sent with, for the arguments of its
        parameters (``names``' order)."""
        if self.pieces is None:
            return self.sql, arguments
        return written(self.pieces, arguments), []


_discarding: set[asyncio.Future[Any]] = set()  # connections discarded after a cancel


@functools.lru_cache(maxsize=STATEMENTS)
def driver_statement(dialect: Dialect, root: Built, version: bool) -> DriverStatement | None:
    """``gql.compiled.statement`` (with ``version``: ``versioned_statement``) as the driver
    takes it."""
    built = (versioned_statement if version else statement)(dialect.name, root)
    if built is None:
        return None
    compiled = built.compile(dialect=dialect)
    given = placeholders(root)
    # The statement as run: a list compared with IN (an "expanding" parameter, a placeholder
    # in the compiled text) becomes a parameter per element, as SQLAlchemy does when it runs
    # a statement.
    expanded = compiled.construct_expanded_state(given)
    raw = expanded.parameters
    if dialect.name == "postgresql" and given is None and all(map(_writable, raw.values())):
        try:
            written = built.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
        except CompileError:  # a value of a type with no literal form: bound, as below
            pass
        else:
            return DriverStatement(written.string, (), {})
    processors: dict[str, Any] = {**compiled._bind_processors, **expanded.processors}
    values = {
        name: processors[name](value) if name in processors else value
        for name, value in raw.items()
    }
    names = tuple(expanded.positiontup or ())
    if dialect.name == "postgresql" and isinstance(root, SearchStatement):
        return DriverStatement(expanded.statement, names, values, pieces(expanded.statement))
    return DriverStatement(expanded.statement, names, values)


# PostgreSQL plans a prepared statement (asyncpg prepares and keeps each one per connection)
# for its parameters' values at every execution until it settles on a generic plan, and a
# statement whose LIMITs are parameters never settles: a generic plan's estimate for an
# unknown LIMIT looks dear. So W2's statement was planned at every request (0.25-0.3 ms, a
# quarter of its database time at 100,000 works; W3's 0.4 ms), the plan the same each time.
# A statement with no parameters is planned once per connection, for its values. So a list's
# statement (no looked-up key: all its values are its own) has them written into its text
# when each one is written exactly and needs no quoting: integers (limits, the sort keys'
# constants, the catalog's row id) and words (enum values such as DIRECTOR). A statement with
# any other value (a filter's free text, a cursor's keys) keeps them all bound, as before:
# with its limits written in and that value bound, PostgreSQL could settle on a generic plan,
# made for no value in particular (bench/README.md: what that did to search). SQLite plans
# each statement once per connection either way.
_WORD = re.compile(r"[A-Za-z0-9_]*")


def _writable(value: Any) -> bool:
    """Whether ``value`` is written into a statement as it is bound (``driver_statement``)."""
    if isinstance(value, enum.Enum):  # written as its name or its value, by its column's type
        return _writable(value.name) and _writable(value.value)
    return type(value) is int or (type(value) is str and _WORD.fullmatch(value) is not None)


# driver_statement by the identity of what it is built from. Each prepared request's plan
# holds its own (equal) copy, so the lru_cache above, keyed by value, hashes it and compares
# it field by field with the cached one (nested dataclasses: ~300 bytecodes a request); a
# plan's own copy is the same object every time it runs. The entries hold their keys' objects,
# so an id is never reused while its entry is here.
_by_identity: dict[tuple[int, int, bool], tuple[Built, Dialect, DriverStatement | None]] = {}


def _statement_of(dialect: Dialect, built: Built, version: bool) -> DriverStatement | None:
    key = (id(built), id(dialect), version)
    entry = _by_identity.get(key)
    if entry is not None and entry[0] is built and entry[1] is dialect:
        return entry[2]
    prepared = driver_statement(dialect, built, version)
    if len(_by_identity) >= STATEMENTS:
        _by_identity.clear()
    _by_identity[key] = (built, dialect, prepared)
    return prepared


async def fetch_json(
    engine: AsyncEngine, root: RootRead, version: bool = False
) -> tuple[int | None, Any]:
    """The root field's JSON text (or None), as ``gql.compiled._value`` reads it, and with
    ``version`` the catalog version it was read at (else None)."""
    built_from, given = statement_source(root)
    prepared = _statement_of(engine.dialect, built_from, version)
    if prepared is None:
        return None, []
    arguments = [given[n] if n in given else prepared.values[n] for n in prepared.names]
    sql, arguments = prepared.run_as(arguments)
    connection = await engine.raw_connection()
    try:
        driver: Any = connection.driver_connection
        if engine.dialect.name == "postgresql":  # asyncpg
            row = await driver.fetchrow(sql, *arguments)
        else:  # aiosqlite: the statement limit as db.statement_timeout sets it
            # Executed and fetched in one call on aiosqlite's thread (execute, fetchone and a
            # cursor's close were three round trips to it, each a wake-up of the thread and
            # of the loop); the statement's one row, and the statement done with.
            with sqlite_deadline(connection.info):
                rows = await driver.execute_fetchall(sql, arguments)
            row = rows[0] if rows else None
    except asyncio.CancelledError:
        # The request's deadline (web.fast_lane): it answers now; the connection, which may
        # be mid-statement (aiosqlite's thread finishes it first), is discarded meanwhile.
        discarding = asyncio.ensure_future(greenlet_spawn(connection.invalidate))
        _discarding.add(discarding)
        discarding.add_done_callback(_discarding.discard)
        raise
    except BaseException:
        # It may be mid-statement: never back into the pool. (The pool's own calls may do IO
        # through SQLAlchemy's async adapters, which need its greenlet.)
        await greenlet_spawn(connection.invalidate)
        raise
    await greenlet_spawn(connection.close)  # back into the pool (its reset: db.engine)
    if row is None:  # a root object's statement (LIMIT 1) that found nothing
        return None, None
    return (version_value(row[1]) if version else None), row[0]
