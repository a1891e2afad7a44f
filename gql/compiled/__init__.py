"""The compiled read path: a validated query operation answered by one SQL
statement per root field that builds the response's JSON, without per-field resolution.

``gql.execution.CompiledExecution`` calls ``compile_plan`` and ``run_plan`` once the operation
has passed every limit and missed the response cache: the operation's ``data`` when the
compiler covers the whole operation, else None — then the resolver path runs, so the two
never give different answers (a differential test holds them equal). The serving layer's
fast lane (``web.fast_lane``) runs the plans of requests answered this way before without
going through Strawberry again. On unless ``NKCINEMA_COMPILED`` is false.

- ``plan``: the selection (fields, aliases, fragments, directives, arguments) as a plan, or
  None for anything not covered;
- ``sql``: the plan as one statement per root field, per dialect;
- ``shape``: the statements' JSON as the response's objects, in selection order.

Covered: ``work``/``person``/``theme`` by slug and the ``works``/``people``/``directors``/
``themes`` lists (filters without ``search``, ``orderBy``, ``first``, ``after``), the
scalar fields and ``id`` of Work/Person/Theme, ``alternativeTitles``/``alternativeNames``,
``Work.directors`` and ``Work.themes``, ``Person.works``/``Theme.works`` (``role``,
``kind``, ``filter``, ``orderBy``, ``first``, ``after``; on SQLite without ``after``), and
of every connection ``nodes``, ``edges { cursor node }``, ``totalCount`` and ``pageInfo``;
``__typename`` anywhere. Not covered (resolver path): backward pages (``before``/``last``),
search, ``node``/``nodes``, external ids, facets, ``similar``, credits, relations,
provenance, introspection, ``@defer``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

from sqlalchemy import Select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types.execution import ExecutionContext

from db.catalog_version import version_subquery
from db.sessions import RequestDatabase, is_dropped_connection
from db.version_reads import version_value
from gql.compiled import shape
from gql.compiled.plan import Connection, Obj, Plan, RootObject, Typename, plan_operation
from gql.compiled.sql import SLUG, Compiler
from settings import Settings

logger = logging.getLogger("nkcinema.compiled")
STATEMENTS = 1024  # distinct root-field plans kept as built statements


class Declined(Exception):
    """A compiled statement failed: the resolver path answers instead."""


def compile_plan(execution_context: ExecutionContext, settings: Settings) -> Plan | None:
    document = execution_context.graphql_document
    if document is None:
        return None
    return plan_operation(
        execution_context.schema._schema,
        document,
        execution_context.operation_name,
        execution_context.variables,
        default_page_size=settings.default_page_size,
        max_page_size=settings.max_page_size,
        sqlite=settings.is_sqlite,
    )


@functools.lru_cache(maxsize=STATEMENTS)
def statement(dialect: str, root: Obj | Connection) -> Select[Any] | None:
    """The statement of a root field's plan (``Obj``: by slug, the ``slug`` parameter), or
    None when it reads nothing. Plans are values, so building (and SQLAlchemy's compiling)
    happens once per distinct selection, not once per request."""
    compiler = Compiler(dialect)
    if isinstance(root, Obj):
        return compiler.root_object(root)
    return compiler.root_connection(root)


@functools.lru_cache(maxsize=STATEMENTS)
def versioned_statement(dialect: str, root: Obj | Connection) -> Select[Any] | None:
    """``statement`` with the catalog version read beside it: one statement, so one snapshot
    (a statement never sees a write half-way), and the version is the catalog it read."""
    built = statement(dialect, root)
    if built is None:
        return None
    return built.add_columns(version_subquery())  # a column beside it: no deeper nesting


def statement_source(root: RootObject | Connection) -> tuple[Obj | Connection, dict[str, Any]]:
    """What a root field's statement is built (and kept) from, and its parameters."""
    if isinstance(root, RootObject):
        return root.node, {SLUG: root.slug}
    return root, {}


async def _value(
    session: AsyncSession, root: RootObject | Connection, version: bool = False
) -> tuple[int | None, Any]:
    """One root field's JSON value (one statement; none when it reads nothing), and with
    ``version`` the catalog version it was read at (else None)."""
    dialect = session.get_bind().dialect.name
    built_from, parameters = statement_source(root)
    compiled = (versioned_statement if version else statement)(dialect, built_from)
    if compiled is None:
        return None, []
    try:
        row = (await session.execute(compiled, parameters)).one_or_none()
    except DBAPIError as error:
        if is_dropped_connection(error):
            raise  # the request's database retries a read once on a fresh connection
        # Not expected (the plan keeps to what both databases take), but never an answer of
        # its own: roll back (PostgreSQL refuses statements after a failed one, until then)
        # and let the resolvers answer, errors included.
        logger.warning("compiled statement failed; falling back to resolvers: %r", error)
        await session.rollback()
        raise Declined from error
    if row is None:  # a root object's statement (LIMIT 1) that found nothing
        return None, None
    return (version_value(row[1]) if version else None), row[0]


async def run_plan(
    plan: Plan, database: RequestDatabase, *, read_version: bool = False
) -> tuple[dict[str, Any] | None, int | None]:
    """The data of a planned operation, read through the request's session: one statement
    per root field that reads anything; None if a statement failed (the resolvers answer
    then). With ``read_version``, the first statement also reads the catalog version,
    returned beside the data (see ``FirstRead``)."""

    async def fetch(root: RootObject | Connection, version: bool) -> tuple[int | None, Any]:
        return await database.run(_value, root, version)

    return await read_plan(plan, fetch, read_version=read_version)


Fetch: TypeAlias = Callable[[RootObject | Connection, bool], Awaitable[tuple[int | None, Any]]]


async def read_plan(
    plan: Plan, fetch: Fetch, *, read_version: bool = False
) -> tuple[dict[str, Any] | None, int | None]:
    """``run_plan`` with each root field's JSON (and, asked for, version) from ``fetch``."""
    first = FirstRead()

    async def read(root: RootObject | Connection) -> Any:
        at, value = await fetch(root, read_version and first.pending)
        first.note(at)
        return value

    try:
        data = await shape_plan(plan, read)
    except Declined:
        return None, None
    return data, first.version


class FirstRead:
    """The catalog version read by a plan's first statement. Only the first one counts:
    every statement after it reads a catalog at least as new, so the data is at least as new
    as that version; a version read later could be newer than the first statement's data.
    None: the first statement found no row to read it with (an object that does not exist)
    or nothing was read; the answer then has no version to be filed under."""

    def __init__(self) -> None:
        self.pending = True
        self.version: int | None = None

    def note(self, version: int | None) -> None:
        if self.pending:
            self.pending = False
            self.version = version


async def shape_plan(
    plan: Plan, read: Callable[[RootObject | Connection], Awaitable[Any]]
) -> dict[str, Any]:
    """The data of a planned operation, each root field's JSON value got from ``read``."""
    data: dict[str, Any] = {}
    for key, root in plan.roots:
        if isinstance(root, Typename):
            data[key] = root.name
        elif isinstance(root, RootObject):
            value = shape.load(await read(root))
            data[key] = None if value is None else shape.obj(root.node, value, 1)
        else:
            data[key] = shape.connection(root, shape.load(await read(root)))
    return data
