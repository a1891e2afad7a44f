"""Plan -> SQL: one SQLAlchemy Core statement per root field, returning that field's JSON.

Every object becomes a JSON *array* of its values in plan order (``json_build_array`` on
PostgreSQL, ``json_array`` on SQLite); ``gql.compiled.shape`` turns the arrays back into
objects keyed in selection order, and computes what SQL cannot compute the same way on both
databases (global IDs and cursors are base64; booleans). Lists are correlated scalar
subqueries aggregated into one JSON array (``json_agg`` / ``json_group_array``); each element
leads with its ordinal (billing ``position``, or ``ROW_NUMBER()`` over the list's ordering),
and the elements are sorted by it in Python, so nothing depends on the order in which the
database feeds an aggregate. Pages are limited per parent inside the correlated subquery
(``ORDER BY … LIMIT first``, one more with ``hasNextPage``), so the statement does not grow
with any list.

The conditions and orderings are the resolvers' own (``db.queries``), re-pointed at this
statement's table aliases with ``ClauseAdapter``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    null,
    select,
)
from sqlalchemy.sql.expression import FromClause, ScalarSelect
from sqlalchemy.sql.util import ClauseAdapter

from db import models as m
from db import queries as q
from db.enums import CreditRole
from gql.compiled.plan import (
    Children,
    Column,
    Connection,
    GlobalId,
    Obj,
    PersonList,
    Strings,
    Typename,
    WorkList,
)

Expression = ColumnElement[Any]
MODELS: dict[str, Any] = {"works": m.Work, "people": m.Person, "themes": m.Theme}
SLUG = "slug"  # the parameter of root_object's statement


def _clause(expression: Any) -> Expression:
    """An ORM attribute's column (``ClauseAdapter`` adapts columns, not attributes)."""
    clause = getattr(expression, "__clause_element__", None)
    return clause() if clause is not None else expression  # type: ignore[no-any-return]


def _adapt(expression: Any, alias: FromClause, *, by_name: bool = False) -> Expression:
    """The expression over ``alias``; ``by_name``: ``alias`` is a derived table whose columns
    are named as the expression's table's (``Compiler.credit_page``)."""
    adapter = ClauseAdapter(alias, adapt_on_names=by_name)
    adapted: Expression = adapter.traverse(_clause(expression))
    return adapted


# What a credit carries of its work (migration 0011, and 0008's sort keys), by the work's
# column names: a page of a person's works in a role that reads no other column of the works
# is read from the person's credits alone (``Compiler.credit_page``).
CREDIT_COPIES = frozenset({"title", "year"})


def _carried(node: Obj) -> bool:
    """Whether the selection reads only what a credit carries of its work."""
    return all(
        not isinstance(field, Column) or field.column in CREDIT_COPIES for _, field in node.fields
    )


class Compiler:
    """Builds the statements for one dialect."""

    def __init__(self, dialect: str) -> None:
        self.postgres = dialect == "postgresql"

    # -- JSON building blocks

    def array(self, values: Sequence[Expression]) -> Expression:
        if self.postgres:
            return func.json_build_array(*values)
        return func.json_array(*values)

    def embed(self, value: Expression) -> Expression:
        """A JSON value (a subquery's, a derived table's) nested into another JSON value:
        SQLite only nests what ``json()`` marks as JSON (else it would embed a string)."""
        return value if self.postgres else func.json(value)

    def aggregate(self, element: Expression, *, built: bool = False) -> Expression:
        """All rows' ``element`` as one JSON array. ``built``: the element is a JSON function's
        result in this very expression (SQLite keeps it JSON without ``json()``)."""
        if self.postgres:
            return func.json_agg(element)
        return func.json_group_array(element if built else self.embed(element))

    # -- objects

    def values(self, obj: Obj, row: FromClause) -> list[Expression]:
        """The object's values, in plan order (``Typename`` takes none)."""
        values: list[Expression] = []
        for _, field in obj.fields:
            if isinstance(field, Typename):
                continue
            if isinstance(field, Column):
                values.append(row.c[field.column])
            elif isinstance(field, GlobalId):
                values.append(row.c.id)
            elif isinstance(field, Strings):
                values.append(self.embed(self.strings(field, row)))
            elif isinstance(field, Children):
                values.append(self.embed(self.children(field, row)))
            else:
                values.append(self.connection(field, row))  # built here: no embedding
        return values

    def strings(self, field: Strings, row: FromClause) -> ScalarSelect[Any]:
        if field.kind == "alternative_titles":
            t = m.WorkAlternativeTitle.__table__.alias()
            value, owner = t.c.title, t.c.work_id
        else:
            t = m.PersonAlternativeName.__table__.alias()
            value, owner = t.c.name, t.c.person_id
        element = self.array([t.c.position, value])
        return (
            select(self.aggregate(element, built=True)).where(owner == row.c.id).scalar_subquery()
        )

    def children(self, field: Children, row: FromClause) -> ScalarSelect[Any]:
        if field.kind == "directors":
            c = m.Credit.__table__.alias()
            p = m.Person.__table__.alias()
            element = self.array([c.c.position, *self.values(field.node, p)])
            return (
                select(self.aggregate(element, built=True))
                .select_from(c.join(p, p.c.id == c.c.person_id))
                .where(c.c.work_id == row.c.id, c.c.role == CreditRole.DIRECTOR)
                .scalar_subquery()
            )
        t = m.Theme.__table__.alias()
        if self.postgres:
            # A work's tags come from its own row (``works.theme_ids``, kept by migration
            # 0010's triggers), joined to ``themes`` by one hash per statement, not from a
            # probe into work_themes' index per work: random probes into a large index are
            # what makes a page's time grow with the catalog (bench/README.md, "Why W3 grows
            # with the catalog").
            tags, position, theme_id = self.tags(row)
            source, owned = tags.join(t, t.c.id == theme_id), []
        else:
            # SQLite: the covering index, which json_each over the same array does not beat
            # (bench/README.md, "Why W3 grows with the catalog").
            wt = m.WorkTheme.__table__.alias()
            position, source = wt.c.position, wt.join(t, t.c.id == wt.c.theme_id)
            owned = [wt.c.work_id == row.c.id]
        element = self.array([position, *self.values(field.node, t)])
        return (
            select(self.aggregate(element, built=True))
            .select_from(source)
            .where(*owned)
            .scalar_subquery()
        )

    @staticmethod
    def tags(row: FromClause) -> tuple[FromClause, Expression, Expression]:
        """The elements of the work's ``theme_ids`` (PostgreSQL: jsonb) as rows correlated to
        the work's row, with their position and theme id."""
        tags = func.jsonb_array_elements(row.c.theme_ids).table_valued("value").alias()
        value = tags.c.value
        return (
            tags,
            cast(value.op("->>")(literal_column("0")), Integer),
            cast(value.op("->>")(literal_column("1")), Integer),
        )

    # -- lists

    def _list_rows(
        self, connection: Connection, parent: FromClause | None, limit: int | None = None
    ) -> tuple[FromClause, list[Expression]]:
        """A fresh alias of the list's table and the conditions its rows meet; with ``limit``
        (a page's rows), the links may stop there (``_page_links``)."""
        source = connection.source
        if isinstance(source, WorkList):
            w = m.Work.__table__.alias()
            conditions = [_adapt(c, w) for c in q.work_conditions(source.filter)]
            if source.parent is not None:
                assert parent is not None
                links = None if limit is None else self._page_links(connection, parent, limit)
                if links is None:
                    links = self._links(source, parent)
                conditions.append(w.c.id.in_(links))
            return w, conditions
        if isinstance(source, PersonList):
            p = m.Person.__table__.alias()
            where = q.people_query(q.PersonFilter(role=source.role)).whereclause
            return p, [] if where is None else [_adapt(where, p)]
        return m.Theme.__table__.alias(), []

    @staticmethod
    def _links(source: WorkList, parent: FromClause) -> Select[Any]:
        """The ids of the parent's works (as ``db.queries.nested_works_query`` links them)."""
        if source.parent == q.Parent.PERSON:
            c = m.Credit.__table__.alias()
            links = select(c.c.work_id).where(c.c.person_id == parent.c.id)
            if source.role is not None:
                links = links.where(c.c.role == source.role)
            return links.correlate(parent)
        wt = m.WorkTheme.__table__.alias()
        return select(wt.c.work_id).where(wt.c.theme_id == parent.c.id).correlate(parent)

    @staticmethod
    def _page_credits(
        connection: Connection, parent: FromClause, limit: int, columns: Callable[[Any], list[Any]]
    ) -> Select[Any] | None:
        """``columns`` of the credits of a person's works in a role on this page, in the
        page's order from the credits' copies of the works' sort keys (``q.credit_ordering``):
        ``limit`` index entries, however many works the person has. None where the page's
        rows are not the first credits in that order: with a filter on the works (it must
        apply before the limit), or without a role (a work credited twice would count twice)."""
        source = connection.source
        if not isinstance(source, WorkList):
            return None
        if source.parent != q.Parent.PERSON or source.role is None:
            return None
        if q.work_conditions(source.filter):
            return None
        c = m.Credit.__table__.alias()
        ordering = q.credit_ordering(connection.ordering)
        rows = select(*columns(c)).where(c.c.person_id == parent.c.id, c.c.role == source.role)
        if connection.after is not None:
            rows = rows.where(_adapt(ordering.after(connection.after), c))
        keys = [_adapt(k.ordering, c) for k in ordering.keys]
        return rows.order_by(*keys).limit(limit).correlate(parent)

    def _page_links(
        self, connection: Connection, parent: FromClause, limit: int
    ) -> Select[Any] | None:
        """The ids of the works on the page (``_page_credits``)."""
        return self._page_credits(connection, parent, limit, lambda c: [c.c.work_id])

    def credit_page(
        self, connection: Connection, parent: FromClause | None, limit: int
    ) -> FromClause | None:
        """The page's works as their credits carry them, with the works' column names: where
        the page is a person's first credits in a role (``_page_credits``) and its selection
        reads no column of the works that a credit does not carry (``CREDIT_COPIES``; lists
        hang from the work's id, and on PostgreSQL its themes from the copied ``theme_ids``).
        The page is then that many adjacent index entries, and no work is fetched: random
        probes into ``works`` are what makes such a page slower as the catalog grows
        (migration 0011 added the copies; bench/README.md). None otherwise."""
        if parent is None or not all(_carried(node) for node in connection.nodes):
            return None

        def columns(c: Any) -> list[Any]:
            year = case((c.c.work_year_unknown == 1, null()), else_=c.c.work_year)
            carried = [
                c.c.work_id.label("id"),
                c.c.work_title.label("title"),
                year.label("year"),
                c.c.work_title_key.label("title_key"),
            ]
            if self.postgres:  # SQLite reads a work's themes from work_themes (``children``)
                carried.append(c.c.work_theme_ids.label("theme_ids"))
            return carried

        rows = self._page_credits(connection, parent, limit, columns)
        return None if rows is None else rows.subquery()

    def page(self, connection: Connection, parent: FromClause | None) -> ScalarSelect[Any]:
        """``first`` rows, or ``first + 1`` when ``hasNextPage`` is asked for (the extra one
        says whether a next page exists), each ``[ordinal, *node values…, *sort keys]``."""
        limit = connection.first + 1 if connection.needs_next else connection.first
        conditions: list[Expression]
        row = self.credit_page(connection, parent, limit)
        by_name = row is not None
        if row is None:
            row, conditions = self._list_rows(connection, parent, limit)
            if connection.after is not None:  # the keyset bound, as db.pagination's
                conditions.append(_adapt(connection.ordering.after(connection.after), row))
        else:
            conditions = []  # the credits' page is this page, bound and limited

        def adapt(expression: Any) -> Expression:
            return _adapt(expression, row, by_name=by_name)

        keys = [
            adapt(k.expression).desc() if k.descending else adapt(k.expression).asc()
            for k in connection.ordering.keys
        ]
        element: list[Expression] = [func.row_number().over(order_by=keys)]
        for node in connection.nodes:
            element += self.values(node, row)
        if connection.needs_keys:
            element += [adapt(k.expression) for k in connection.ordering.keys]
        rows = (
            select(self.array(element).label("v"))
            .select_from(row)
            .where(*conditions)
            .order_by(*keys)
            .limit(limit)
            .subquery()
        )
        return select(self.aggregate(rows.c.v)).scalar_subquery()

    def previous(self, connection: Connection, parent: FromClause | None) -> Expression:
        """Whether rows lie at or before the ``after`` cursor (``hasPreviousPage``), as
        ``db.pagination``'s probe."""
        assert connection.after is not None
        row, conditions = self._list_rows(connection, parent)
        at_or_before = connection.ordering.before(connection.after, inclusive=True)
        probe = select(row.c.id).where(*conditions, _adapt(at_or_before, row))
        return probe.exists()

    def count(self, connection: Connection, parent: FromClause | None) -> ScalarSelect[Any]:
        row, conditions = self._list_rows(connection, parent)
        return select(func.count()).select_from(row).where(*conditions).scalar_subquery()

    def connection(self, connection: Connection, parent: FromClause | None) -> Expression:
        """``[page?, count?, previous?]``: only the parts the selection needs."""
        parts: list[Expression] = []
        if connection.needs_page:
            parts.append(self.embed(self.page(connection, parent)))
        if connection.needs_count:
            parts.append(self.count(connection, parent))
        if connection.needs_previous:
            parts.append(self.previous(connection, parent))
        return self.array(parts)

    # -- root fields

    def root_object(self, node: Obj) -> Select[Any]:
        """The object by slug: the slug is the statement's one parameter, ``slug``, so one
        statement serves every slug (``gql.compiled`` keeps statements per plan)."""
        row = MODELS[node.table].__table__.alias()
        return (
            select(self.array([row.c.id, *self.values(node, row)]))
            .select_from(row)
            .where(row.c.slug == bindparam(SLUG, type_=row.c.slug.type))
            .limit(1)
        )

    def root_connection(self, connection: Connection) -> Select[Any] | None:
        """The statement, or None when the selection reads nothing (only ``__typename``…)."""
        if not (connection.needs_page or connection.needs_count):
            return None
        return select(self.connection(connection, None))
