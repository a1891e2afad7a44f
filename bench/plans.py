"""Query plans of the captured statements, and which plan lines read a whole table.

SQLite: ``EXPLAIN QUERY PLAN`` (the statement prepared with its parameters bound, as the app
runs it), drawn as a tree. PostgreSQL: ``EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT)`` with the
same parameters (so a plan for those values, with real row counts and timings).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bench.statements import Statement

SCANNED_TABLES = ("works", "people", "themes")
_TABLES = "|".join(SCANNED_TABLES)
# Full scans: a table (or an alias of it, works_1) read whole, SQLite without any index,
# PostgreSQL's sequential scans (Parallel Seq Scan included).
_SQLITE_FULL_SCAN = re.compile(rf"\bSCAN ({_TABLES})(_\d+)?(\s|$)")
_SQLITE_WITH_INDEX = re.compile(r"USING (COVERING )?INDEX")
_POSTGRESQL_FULL_SCAN = re.compile(rf"Seq Scan on ({_TABLES})\b(?!_)")
# Index walks: an index of the table read in order from one end, with no condition on it,
# filtering row by row until LIMIT is met (on a selective filter: the whole index). SQLite
# `SCAN <table> USING INDEX`; PostgreSQL an Index (Only) Scan on it without `Index Cond`.
_SQLITE_INDEX_WALK = re.compile(rf"\bSCAN ({_TABLES})(_\d+)? USING (COVERING )?INDEX\b")
_POSTGRESQL_INDEX_SCAN = re.compile(
    rf"Index (Only )?Scan (Backward )?using \S+ on ({_TABLES})\b(?!_)"
)
_PLACEHOLDER = re.compile(r"\?|\$(\d+)")


@dataclass(frozen=True)
class Plan:
    statement: Statement
    lines: list[str]
    dialect: str

    @property
    def full_scans(self) -> list[str]:
        if self.dialect == "sqlite":
            return [
                line.strip()
                for line in self.lines
                if _SQLITE_FULL_SCAN.search(line) and not _SQLITE_WITH_INDEX.search(line)
            ]
        return [line.strip() for line in self.lines if _POSTGRESQL_FULL_SCAN.search(line)]

    @property
    def index_walks(self) -> list[str]:
        if self.dialect == "sqlite":
            return [line.strip() for line in self.lines if _SQLITE_INDEX_WALK.search(line)]
        return [self.lines[i].strip() for i in _unbounded_index_scans(self.lines)]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" ->"))


def _unbounded_index_scans(lines: list[str]) -> list[int]:
    """PostgreSQL plan nodes (line numbers) scanning an index of a catalog table without an
    ``Index Cond``: a node's details are the lines below it, more indented, up to the next
    node (``->``)."""
    found = []
    for number, line in enumerate(lines):
        if not _POSTGRESQL_INDEX_SCAN.search(line):
            continue
        details = []
        for below in lines[number + 1 :]:
            if below.lstrip().startswith("->") or _indent(below) <= _indent(line):
                break
            details.append(below)
        if not any("Index Cond:" in detail for detail in details):
            found.append(number)
    return found


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def inline(statement: Statement) -> str:
    """The statement with its parameter values written in, for reading (``?`` and ``$n``)."""
    params = statement.parameters
    if isinstance(params, dict):
        return statement.sql
    position = iter(range(len(params)))

    def value(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1 if match.group(1) else next(position, len(params))
        return _literal(params[index]) if index < len(params) else match.group(0)

    return _PLACEHOLDER.sub(value, statement.sql)


def _sqlite_tree(rows: list[Any]) -> list[str]:
    """EXPLAIN QUERY PLAN rows (id, parent, notused, detail) as an indented tree."""
    depth: dict[int, int] = {0: -1}
    lines = []
    for node_id, parent, _unused, detail in rows:
        depth[node_id] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node_id] + str(detail))
    return lines


async def explain(engine: AsyncEngine, statement: Statement) -> Plan:
    if engine.dialect.name == "sqlite":
        prefix = "EXPLAIN QUERY PLAN "
    else:
        prefix = "EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) "
    async with engine.connect() as connection:
        result = await connection.exec_driver_sql(prefix + statement.sql, statement.parameters)
        rows = list(result.fetchall())
        await connection.rollback()
    if engine.dialect.name == "sqlite":
        return Plan(statement, _sqlite_tree(rows), "sqlite")
    return Plan(statement, [str(row[0]) for row in rows], engine.dialect.name)


async def explain_all(engine: AsyncEngine, statements: list[Statement]) -> list[Plan]:
    return [await explain(engine, statement) for statement in statements]
