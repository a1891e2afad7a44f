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

Covered (issue #23 tracks the rest):

- root fields: ``work``/``person``/``theme``/``studio`` by slug, ``node(id:)`` and
  ``nodes(ids:)`` (Work, Person, Theme, Studio), ``workByExternalId``/``personByExternalId``,
  and the ``works``/``people``/``directors``/``themes``/``studios`` lists (their filters,
  ``search`` included, and ``orderBy``); ``changes`` (the audit trail, ``subject``; every field of a
  Change, ``at`` and ``before``/``after`` decoded in Python as the resolvers do) for a
  request whose token passes the editor check — checked first (``gql.execution``), planned
  only then (``plan_operation(editor=True)``); without it the resolvers refuse as ever, and
  such a plan is ``private``: never prepared for the fast lane, its answer never cached;
- ``search`` and ``searchHits`` (``node``, ``score``, ``matchedText``): one statement reads
  each kind's best ``first`` rows as ``db.search.kind_statement`` selects them (on SQLite
  the typo candidates from the index's vocabulary too, in a subquery), with the found
  records' values and names; Python ranks them with ``db.search.best_hits`` and picks
  ``matchedText`` with ``db.search.best_name``, as the resolvers do. A search's key is
  bound (``db.search.key_parameters``): its statement is built per shape of key
  (``db.search.KeyShape``) and selection, not per distinct search;
- paging everywhere: ``first``/``after`` and ``last``/``before``, nested too,
  ``nodes``, ``edges { cursor node }``, ``totalCount`` and
  ``pageInfo``; ``Person.works`` / ``Theme.works`` / ``Studio.works`` (``role``, ``kind``,
  ``filter``, ``orderBy``); a works list's ``facets`` (kinds, decades, top themes);
- Work: its scalars, ``id``, ``version``, ``alternativeTitles``, ``forms``, ``audience``,
  ``directors``, ``themes``, ``credits``, ``related`` (with their sources), ``sources``,
  ``disputes`` (with their source and ``reportedPeople``), ``externalIds``, ``parts`` and
  ``events`` (dates, labels, sources), ``studios``, ``basedOn``, ``similar`` (paged);
- Person: its scalars, ``id``, ``version``, ``alternativeNames``, ``credits`` (filmography
  order), ``reported``, ``sources``, ``externalIds``; Theme and Studio: every field;
- ``Work.titles`` / ``Person.names`` and every field of Title and Name (``plan.Forms``): the
  statement returns each form's stored values and sources (or, for a record that states no
  forms, the fields they are read off); the romanizations generated from Hangul forms are
  derived in ``shape`` by the resolvers' own functions (``db.statements.generated_forms``,
  ``db.romanization``), as ``ExternalId.url`` is. Derived at read time, not stored: the
  romanizer (ko-pron, Python) cannot run in SQL, and a stored copy would need every write
  path (seed, import, mutations) to keep it current and export to leave it out. The cost:
  about 10 µs per record once ``db.romanization``'s cache holds its Hangul texts, about
  0.1 ms per text it does not (ko-pron; measured on one core, the resolvers pay the same);
  storing them is the way out if a page of titles ever needs it;
- Credit (``person``, ``work``, ``episodes``, ``sources`` …), Source, ExternalId (``url`` in
  Python), Dispute, WorkRelation, WorkPart, WorkEvent, PartialDate, StudioCredit, Origin,
  ReportedCredit, EpisodeRange, Attribution, the facets' counts: every field; ``__typename``
  anywhere; ``attributions`` of works and people, in the order of their first citation.

Not covered (the resolver path answers): ``changes`` without the editor permission
(refused), ``similar { facets }`` (null), introspection, ``@defer``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

from sqlalchemy import LargeBinary, Select, cast
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types.execution import ExecutionContext

from db.catalog_version import version_subquery
from db.search import key_parameters
from db.sessions import RequestDatabase, is_dropped_connection
from db.version_reads import version_value
from gql.compiled import shape
from gql.compiled.plan import (
    Connection,
    Lookup,
    NodeList,
    Plan,
    RootNodes,
    RootObject,
    SearchRoot,
    SearchStatement,
    Typename,
    plan_operation,
)
from gql.compiled.sql import KEY, SYSTEM, Compiler, node_parameter
from settings import Settings

logger = logging.getLogger("nkcinema.compiled")
STATEMENTS = 1024  # distinct root-field plans kept as built statements


class Declined(Exception):
    """A compiled statement failed: the resolver path answers instead."""


def compile_plan(
    execution_context: ExecutionContext, settings: Settings, *, editor: bool = False
) -> Plan | None:
    """The operation's plan, or None. ``editor``: the request's token has been checked and
    holds the editor permission (``gql.execution``): only then is the audit trail planned."""
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
        editor=editor,
    )


# what a root field's statement is built from
Built: TypeAlias = Lookup | NodeList | Connection | SearchStatement
RootRead: TypeAlias = RootObject | RootNodes | Connection | SearchRoot  # a root field that reads


@functools.lru_cache(maxsize=STATEMENTS)
def statement(dialect: str, root: Built) -> Select[Any] | None:
    """The statement of a root field's plan (a ``Lookup``: the looked-up value is the
    parameter ``key``; a ``NodeList``: the ids are ``id_0`` …), or None when it reads
    nothing. Plans are values, so building (and SQLAlchemy's compiling) happens once per
    distinct selection, not once per request."""
    compiler = Compiler(dialect)
    built: Select[Any] | None
    if isinstance(root, Lookup):
        built = compiler.root_object(root)
    elif isinstance(root, NodeList):
        built = compiler.root_nodes(root)
    elif isinstance(root, SearchStatement):  # its key's values are parameters
        built = compiler.root_search(root)
    else:
        built = compiler.root_connection(root)
    if built is not None and dialect == "sqlite":
        # The JSON as SQLite holds it, UTF-8 bytes, which orjson parses as they are: as text
        # the sqlite3 module decoded it into a str, and orjson encoded that back to UTF-8
        # (a page of nested works is tens of kilobytes: 2% of W3's instructions).
        (value,) = built.selected_columns
        built = built.with_only_columns(cast(value, LargeBinary))
    return built


@functools.lru_cache(maxsize=STATEMENTS)
def versioned_statement(dialect: str, root: Built) -> Select[Any] | None:
    """``statement`` with the catalog version read beside it: one statement, so one snapshot
    (a statement never sees a write half-way), and the version is the catalog it read."""
    built = statement(dialect, root)
    if built is None:
        return None
    return built.add_columns(version_subquery())  # a column beside it: no deeper nesting


def statement_source(root: RootRead) -> tuple[Built, dict[str, Any]]:
    """What a root field's statement is built (and kept) from, and its parameters."""
    if isinstance(root, RootObject):
        if root.system is not None:
            return root.lookup, {KEY: root.key, SYSTEM: root.system}
        return root.lookup, {KEY: root.key}
    if isinstance(root, RootNodes):
        return root.lookup, {node_parameter(i): db_id for i, db_id in enumerate(root.ids)}
    if isinstance(root, SearchRoot):
        return root.statement, key_parameters(root.key) if root.reads else {}
    return root, {}


def placeholders(built: Built) -> dict[str, Any] | None:
    """Values for the statement's parameters, of their types (``gql.compiled.driver``
    compiles the statement once, before any request's values)."""
    if isinstance(built, Lookup):
        key: str | int = 0 if built.by == "id" else ""
        return {KEY: key, SYSTEM: ""} if built.by == "external_id" else {KEY: key}
    if isinstance(built, NodeList):
        return {node_parameter(i): 0 for i in range(len(built.nodes))}
    if isinstance(built, SearchStatement) and built.shape is not None:
        return dict.fromkeys(built.shape.parameters, "")
    return None


async def _value(
    session: AsyncSession, root: RootRead, version: bool = False
) -> tuple[int | None, Any]:
    """One root field's JSON value (one statement; none when it reads nothing), and with
    ``version`` the catalog version it was read at (else None)."""
    dialect = session.get_bind().dialect.name
    built_from, parameters = statement_source(root)
    compiled = (versioned_statement if version else statement)(dialect, built_from)
    if compiled is None:
        return None, []
    result: Any
    try:
        if dialect == "postgresql" and isinstance(built_from, SearchStatement):
            # the key's values written in, from the statement the fast lane runs
            # (``gql.compiled.driver``): the statement's own lists (a found theme's works'
            # ``kind: FILM``) a parameter an element and its values processed (an enum to its
            # name), which ``written`` takes; unexpanded, a list of enums is no value it writes
            from gql.compiled.driver import driver_statement  # which imports this module

            prepared = driver_statement(session.get_bind().dialect, built_from, version)
            if prepared is None:  # as ``compiled``: never
                return None, []
            arguments = [
                parameters[n] if n in parameters else prepared.values[n] for n in prepared.names
            ]
            sql, _ = prepared.run_as(arguments)
            result = await (await session.connection()).exec_driver_sql(sql)
        else:
            result = await session.execute(compiled, parameters)
        row = result.one_or_none()
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

    async def fetch(root: RootRead, version: bool) -> tuple[int | None, Any]:
        return await database.run(_value, root, version)

    return await read_plan(plan, fetch, read_version=read_version)


Fetch: TypeAlias = Callable[[RootRead, bool], Awaitable[tuple[int | None, Any]]]


async def read_plan(
    plan: Plan, fetch: Fetch, *, read_version: bool = False
) -> tuple[dict[str, Any] | None, int | None]:
    """``run_plan`` with each root field's JSON (and, asked for, version) from ``fetch``."""
    first = FirstRead()

    async def read(root: RootRead) -> Any:
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


async def shape_plan(plan: Plan, read: Callable[[RootRead], Awaitable[Any]]) -> dict[str, Any]:
    """The data of a planned operation, each root field's JSON value got from ``read``."""
    data: dict[str, Any] = {}
    for key, root in plan.roots:
        if isinstance(root, Typename):
            data[key] = root.name
        elif isinstance(root, RootObject):
            value = shape.load(await read(root))
            data[key] = None if value is None else shape.obj(root.node, value, 1)
        elif isinstance(root, RootNodes):
            data[key] = shape.nodes(root.lookup, shape.load(await read(root)))
        elif isinstance(root, SearchRoot):
            data[key] = shape.search(root, shape.load(await read(root)))
        else:
            data[key] = shape.connection(root, shape.load(await read(root)))
    return data
