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
statement's table aliases with ``ClauseAdapter``; a search condition (``db.search``), which
names its table in SQL of its own, by giving the list's alias that table's name. A root
search reads each kind's rows with ``db.search``'s own statement, as a derived table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    null,
    select,
    true,
    union_all,
)
from sqlalchemy.sql.expression import FromClause, ScalarSelect
from sqlalchemy.sql.util import ClauseAdapter

from db import facet_counts
from db import models as m
from db import queries as q
from db import search as s
from db.enums import CreditRole, Statement
from db.similar import PERSON_WEIGHT, THEME_WEIGHT
from gql.compiled.plan import (
    Attributions,
    Audience,
    ChangeList,
    Children,
    Column,
    Computed,
    Connection,
    Decoded,
    ExternalUrl,
    FacetList,
    Forms,
    FormSources,
    GlobalId,
    Lookup,
    NodeList,
    Obj,
    PersonList,
    Ref,
    SearchStatement,
    SimilarList,
    Strings,
    StudioList,
    Typename,
    WorkList,
)

Expression = ColumnElement[Any]
MODELS: dict[str, Any] = {
    "works": m.Work,
    "people": m.Person,
    "themes": m.Theme,
    "studios": m.Studio,
}
KEY = "key"  # the parameter of root_object's statement: the slug, id or identifier
SYSTEM = "system"  # and an external identifier's system
EXTERNAL_IDS: dict[str, Any] = {"works": m.WorkExternalId, "people": m.PersonExternalId}


def node_parameter(index: int) -> str:
    """The parameter of the ``index``-th ID of ``root_nodes``' statement."""
    return f"id_{index}"


# The sources of a value of a work's structure (db.structure): the citations' ``statement``,
# by the value's list.
STATEMENT_SOURCES: dict[str, Statement] = {
    "part_sources": Statement.PART,
    "event_sources": Statement.EVENT,
    "origin_sources": Statement.ORIGIN,
    "studio_credit_sources": Statement.STUDIO,
}
# A work's titles and a person's names (``Compiler.forms``): the forms' table, their sources'
# table, the column naming the record in both and the sources' column naming the form, the
# record's field citations, and the fields a record without stated forms reads them off
# (main, original, alternatives: as ``gql.types.titles`` names them).
FORM_TABLES: dict[str, tuple[Any, Any, str, str, str, tuple[str, str, str]]] = {
    "work_titles": (
        m.WorkTitle,
        m.WorkTitleSource,
        "work_id",
        "title_position",
        "work_attributions",
        ("title", "originalTitle", "alternativeTitles"),
    ),
    "person_names": (
        m.PersonName,
        m.PersonNameSource,
        "person_id",
        "name_position",
        "person_attributions",
        ("name", "originalName", "alternativeNames"),
    ),
}
# The tables citing sources per field of a record, and their column naming the record.
FIELD_CITATIONS: dict[str, tuple[Any, str]] = {
    "work_attributions": (m.WorkFieldSource, "work_id"),
    "person_attributions": (m.PersonFieldSource, "person_id"),
}
# The tables that cite sources for a record, in ``position`` order, and the record's row
# columns that key them (the link table's columns of the same names).
CITATIONS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "work_sources": (m.WorkSource, ("work_id",)),
    "person_sources": (m.PersonSource, ("person_id",)),
    "studio_sources": (m.StudioSource, ("studio_id",)),
    "credit_sources": (m.CreditSource, ("work_id", "person_id", "role")),
    "relation_sources": (m.WorkRelationSource, ("work_id", "related_work_id", "type")),
}


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


def _searched_alias(table: str, searched: bool) -> str | None:
    """The name of a list's table alias: the table's own where a search condition applies
    (``db.search``'s SQL names the table it searches, and cannot be adapted), else anonymous.
    Only the list's own subquery sees it, and nothing nested in it refers to an outer row of
    the same table by that name."""
    return table if searched else None


def _carried(node: Obj) -> bool:
    """Whether the selection reads only what a credit carries of its work (titles read the
    work's own title fields, for a work without stated ones)."""
    return all(
        (not isinstance(field, Column) or field.column in CREDIT_COPIES)
        and not isinstance(field, Forms)
        for _, field in node.fields
    )


class Compiler:
    """Builds the statements for one dialect."""

    def __init__(self, dialect: str) -> None:
        self.postgres = dialect == "postgresql"
        # The table aliases of the statement's root records read one by one (a lookup, a
        # node): what hangs from them is read for that one row only (``themes``).
        self.single_rows: list[FromClause] = []

    def single(self, row: FromClause) -> bool:
        """Whether ``row`` is one looked-up record's (``single_rows``)."""
        return any(row is one for one in self.single_rows)

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
            elif isinstance(field, Audience):
                a = m.WorkAudience.__table__.alias()
                values.append(select(a.c.audience).where(a.c.work_id == row.c.id).scalar_subquery())
            elif isinstance(field, Computed):  # built here: no embedding
                values.append(self.array(self.computed_from(field, row)))
            elif isinstance(field, Children):
                values.append(self.embed(self.children(field, row)))
            elif isinstance(field, Attributions):
                values.append(self.embed(self.attributions(field, row)))
            elif isinstance(field, Ref):
                values.append(self.embed(self.ref(field, row)))
            elif isinstance(field, ExternalUrl):  # built here: no embedding
                values.append(self.array([row.c.system, row.c.value]))
            elif isinstance(field, Decoded):
                values.append(self.decoded(field, row))
            elif isinstance(field, Forms):  # built here: no embedding
                values.append(self.forms(field, row))
            elif isinstance(field, FacetList | FormSources):
                raise AssertionError("read by their owner (facet_values, forms)")
            else:
                values.append(self.connection(field, row))  # built here: no embedding
        return values

    def decoded(self, field: Decoded, row: FromClause) -> Expression:
        """The column as text for ``gql.compiled.shape`` to decode. A timestamp: as SQLite
        stores it (SQLAlchemy's ``YYYY-MM-DD HH:MM:SS.ffffff``, read back without a zone); on
        PostgreSQL the same text in UTC with ``+00:00`` (asyncpg reads timestamptz in UTC),
        whatever the session's time zone."""
        column = row.c[field.column]
        if field.kind == "json" or not self.postgres:
            return column
        utc = func.timezone("UTC", column)
        return func.to_char(utc, 'YYYY-MM-DD HH24:MI:SS.US"+00:00"')

    @staticmethod
    def computed_from(field: Computed, row: FromClause) -> list[Expression]:
        """The columns Python computes the value from (``gql.compiled.shape``)."""
        if field.kind == "label":
            return [row.c.unit, row.c.first_number, row.c.last_number]
        p = field.prefix
        return [row.c[f"{p}year"], row.c[f"{p}month"], row.c[f"{p}day"]]

    def strings(self, field: Strings, row: FromClause) -> ScalarSelect[Any]:
        if field.kind == "alternative_titles":
            t = m.WorkAlternativeTitle.__table__.alias()
            value, owner = t.c.title, t.c.work_id
        elif field.kind == "forms":
            t = m.WorkFormRow.__table__.alias()
            value, owner = t.c.form, t.c.work_id
        else:
            t = m.PersonAlternativeName.__table__.alias()
            value, owner = t.c.name, t.c.person_id
        element = self.array([t.c.position, value])
        return (
            select(self.aggregate(element, built=True)).where(owner == row.c.id).scalar_subquery()
        )

    def children(self, field: Children, row: FromClause) -> ScalarSelect[Any]:
        """The list as one JSON array of ``[ordinal, *values]`` elements: the ordinal is what
        the resolvers' loader orders by (``gql.compiled.shape`` sorts by it)."""
        if field.kind == "themes":
            return self.themes(field, row)
        source, element_row, ordinal, conditions = self.child_rows(field, row)
        element = self.array([ordinal, *self.values(field.node, element_row)])
        return (
            select(self.aggregate(element, built=True))
            .select_from(source)
            .where(*conditions)
            .scalar_subquery()
        )

    def child_rows(
        self, field: Children, row: FromClause
    ) -> tuple[FromClause, FromClause, Expression, list[Expression]]:
        """A list's rows: what they are read from, the table alias the element's values come
        from, the ordinal, and the conditions tying them to ``row`` (the loaders' in
        ``db.queries``, ``db.statements`` and ``db.external_ids``)."""
        kind = field.kind
        if kind == "directors":
            c = m.Credit.__table__.alias()
            p = m.Person.__table__.alias()
            source = c.join(p, p.c.id == c.c.person_id)
            directed = [c.c.work_id == row.c.id, c.c.role == CreditRole.DIRECTOR]
            return source, p, c.c.position, directed
        if kind == "work_credits":
            c = m.Credit.__table__.alias()
            return c, c, c.c.position, [c.c.work_id == row.c.id]
        if kind == "person_credits":
            # filmography order (db.queries.credits_of_people): year (unknown last), title,
            # work, billing; the ordinal is that key as an array, which Python sorts the same
            # (title_key compares byte-wise in SQL, by code point in Python: the same order).
            c = m.Credit.__table__.alias()
            w = m.Work.__table__.alias()
            unknown = case((w.c.year.is_(None), 1), else_=0)
            ordinal = self.array(
                [unknown, func.coalesce(w.c.year, 0), w.c.title_key, w.c.id, c.c.position]
            )
            source = c.join(w, w.c.id == c.c.work_id)
            return source, c, ordinal, [c.c.person_id == row.c.id]
        if kind in CITATIONS:
            model, keys = CITATIONS[kind]
            link = model.__table__.alias()
            s = m.Source.__table__.alias()
            if kind in ("work_sources", "person_sources", "studio_sources"):
                owned = [link.c[keys[0]] == row.c.id]
            else:
                owned = [link.c[k] == row.c[k] for k in keys]
            source = link.join(s, s.c.id == link.c.source_id)
            return source, s, link.c.position, owned
        if kind in ("work_external_ids", "person_external_ids"):
            table = EXTERNAL_IDS["works" if kind == "work_external_ids" else "people"]
            x = table.__table__.alias()
            owner = x.c.work_id if kind == "work_external_ids" else x.c.person_id
            # ordered by system (db.external_ids): enum names, the same order in SQL and Python
            return x, x, x.c.system, [owner == row.c.id]
        if kind == "disputes":
            d = m.Dispute.__table__.alias()
            return d, d, d.c.position, [d.c.work_id == row.c.id]
        if kind == "related":
            r = m.WorkRelation.__table__.alias()
            return r, r, r.c.position, [r.c.work_id == row.c.id]
        if kind in ("work_attribution_sources", "person_attribution_sources"):
            # an attribution's sources (``row``: its owner_id and field), by position, then
            # source (db.queries.attributions_of_works)
            model, owner = FIELD_CITATIONS[kind.replace("attribution_sources", "attributions")]
            f = model.__table__.alias()
            s = m.Source.__table__.alias()
            source = f.join(s, s.c.id == f.c.source_id)
            cited = [f.c[owner] == row.c.owner_id, f.c.field == row.c.field]
            return source, s, self.array([f.c.position, f.c.source_id]), cited
        if kind in STATEMENT_SOURCES:
            statement = STATEMENT_SOURCES[kind]
            ss = m.WorkStatementSource.__table__.alias()
            s = m.Source.__table__.alias()
            source = ss.join(s, s.c.id == ss.c.source_id)
            cited = [
                ss.c.work_id == row.c.work_id,
                ss.c.statement == statement,
                ss.c.item == row.c.position,
            ]
            return source, s, ss.c.position, cited
        if kind in ("parts", "events", "origins", "studio_credits"):
            model = {
                "parts": m.WorkPart,
                "events": m.WorkEvent,
                "origins": m.WorkOrigin,
                "studio_credits": m.WorkStudio,
            }[kind]
            t = model.__table__.alias()
            owned = [t.c.work_id == row.c.id]
            if kind == "events":  # the work's own; its parts' are under ``parts``
                owned.append(t.c.part_position.is_(None))
            return t, t, t.c.position, owned
        if kind == "part_events":
            e = m.WorkEvent.__table__.alias()
            of_part = [e.c.work_id == row.c.work_id, e.c.part_position == row.c.position]
            return e, e, e.c.position, of_part
        if kind == "reported":
            # by work, dispute, role (db.statements.reported_of_people); roles are enum
            # names, which sort the same in SQL and Python
            dp = m.DisputePerson.__table__.alias()
            d = m.Dispute.__table__.alias()
            ordinal = self.array([d.c.work_id, d.c.position, dp.c.role])
            source = dp.join(d, d.c.id == dp.c.dispute_id)
            return source, dp, ordinal, [dp.c.person_id == row.c.id]
        if kind == "reported_sources":  # the one source of the dispute that reports it
            d = m.Dispute.__table__.alias()
            s = m.Source.__table__.alias()
            source = d.join(s, s.c.id == d.c.source_id)
            return source, s, d.c.position, [d.c.id == row.c.dispute_id]
        assert kind == "dispute_people"
        dp = m.DisputePerson.__table__.alias()
        p = m.Person.__table__.alias()
        source = dp.join(p, p.c.id == dp.c.person_id)
        return source, p, dp.c.position, [dp.c.dispute_id == row.c.id]

    def attributions(self, field: Attributions, row: FromClause) -> ScalarSelect[Any]:
        """The record's cited fields, each once, numbered by the database in the order of
        their first citation (``db.queries.attributions_of_works``: by position, then field,
        compared as the database compares them), each ``[ordinal, *values]`` with the
        attribution's values read from ``(owner_id, field)``."""
        model, owner = FIELD_CITATIONS[field.kind]
        f = model.__table__.alias()
        fields = (
            select(
                f.c[owner].label("owner_id"),
                f.c.field,
                func.min(f.c.position).label("first_position"),
            )
            .where(f.c[owner] == row.c.id)
            .group_by(f.c[owner], f.c.field)
            .correlate(row)
            .subquery()
        )
        order = func.row_number().over(order_by=(fields.c.first_position, fields.c.field))
        element = self.array([order, *self.values(field.node, fields)])
        rows = select(element.label("v")).select_from(fields).subquery()
        return select(self.aggregate(rows.c.v)).scalar_subquery()

    def forms(self, field: Forms, row: FromClause) -> Expression:
        """``[stated, fields]``: the stated forms, each ``[position, text, kind, language,
        script, romanization, qualifier, *one list of sources per FormSources]``; and, only
        for a record without any, ``[main, original, alternatives, *one [main's, original's,
        alternatives'] sources per FormSources]`` (else NULL). ``gql.compiled.shape`` makes
        the forms of them (``Forms``)."""
        model, link_model, owner, key, cited, names = FORM_TABLES[field.kind]
        t = model.__table__.alias()
        sources = [
            self.embed(self._form_sources(link_model, owner, key, s.node, t)) for s in field.sources
        ]
        element = self.array(
            [
                t.c.position,
                t.c.text,
                t.c.kind,
                t.c.language,
                t.c.script,
                t.c.romanization,
                t.c.qualifier,
                *sources,
            ]
        )
        stated = (
            select(self.aggregate(element, built=True))
            .where(t.c[owner] == row.c.id)
            .scalar_subquery()
        )
        alternatives = Strings(
            "alternative_titles" if field.kind == "work_titles" else "alternative_names"
        )
        main, original = (
            (row.c.title, row.c.original_title)
            if field.kind == "work_titles"
            else (row.c.name, row.c.original_name)
        )
        per_field = [
            self.array([self.embed(self._cited(cited, s.node, name, row)) for name in names])
            for s in field.sources
        ]
        of_fields = self.array(
            [main, original, self.embed(self.strings(alternatives, row)), *per_field]
        )
        any_stated = select(t.c.position).where(t.c[owner] == row.c.id).exists()
        fallback = case((any_stated, null()), else_=of_fields)
        return self.array([self.embed(stated), self.embed(fallback)])

    def _form_sources(
        self, link_model: Any, owner: str, key: str, node: Obj, form: FromClause
    ) -> ScalarSelect[Any]:
        """A stated form's sources, in their order (``db.statements._forms``)."""
        link = link_model.__table__.alias()
        s = m.Source.__table__.alias()
        element = self.array([link.c.position, *self.values(node, s)])
        return (
            select(self.aggregate(element, built=True))
            .select_from(link.join(s, s.c.id == link.c.source_id))
            .where(link.c[owner] == form.c[owner], link.c[key] == form.c.position)
            .scalar_subquery()
        )

    def _cited(self, cited: str, node: Obj, name: str, row: FromClause) -> ScalarSelect[Any]:
        """The sources cited for one field of the record, in their order (by position, then
        source: ``db.queries.attributions_of_works``)."""
        model, owner = FIELD_CITATIONS[cited]
        f = model.__table__.alias()
        s = m.Source.__table__.alias()
        element = self.array([self.array([f.c.position, f.c.source_id]), *self.values(node, s)])
        return (
            select(self.aggregate(element, built=True))
            .select_from(f.join(s, s.c.id == f.c.source_id))
            .where(f.c[owner] == row.c.id, f.c.field == name)
            .scalar_subquery()
        )

    def ref(self, field: Ref, row: FromClause) -> Expression:
        """The object's values as a JSON array, or NULL."""
        if field.kind == "episodes":
            known = and_(row.c.episodes_first.is_not(None), row.c.episodes_last.is_not(None))
            return case((known, self.array(self.values(field.node, row))), else_=null())
        if field.kind == "event_date":
            return self.array(self.values(field.node, row))
        if field.kind == "event_until":
            known = row.c.until_year.is_not(None)  # as gql.types.structure.WorkEvent
            return case((known, self.array(self.values(field.node, row))), else_=null())
        if field.kind == "reported_work":  # the work of the dispute that reports it
            w = m.Work.__table__.alias()
            d = m.Dispute.__table__.alias()
            return (
                select(self.array(self.values(field.node, w)))
                .select_from(d.join(w, w.c.id == d.c.work_id))
                .where(d.c.id == row.c.dispute_id)
                .scalar_subquery()
            )
        table, key = {
            "credit_person": (m.Person, "person_id"),
            "credit_work": (m.Work, "work_id"),
            "dispute_source": (m.Source, "source_id"),
            "relation_work": (m.Work, "related_work_id"),
            "credit_studio": (m.Studio, "studio_id"),
            "reported_person": (m.Person, "person_id"),
            "reported_dispute": (m.Dispute, "dispute_id"),
            "facet_theme": (m.Theme, "theme_id"),
        }[field.kind]
        t = table.__table__.alias()
        return (
            select(self.array(self.values(field.node, t)))
            .where(t.c.id == row.c[key])  # the primary key: one row
            .scalar_subquery()
        )

    def themes(self, field: Children, row: FromClause) -> ScalarSelect[Any]:
        t: FromClause = m.Theme.__table__.alias()
        owned: list[Expression] = []  # PostgreSQL: the tags are the work's row's own
        if self.postgres and self.single(row):
            # One work's few tags: each theme by its primary key. Left to itself PostgreSQL
            # hashes all of ``themes`` for them (it expects 100 elements of any
            # jsonb_array_elements), half of W1's execution time; LIMIT keeps the lateral
            # subquery from being flattened into that join (bench/README.md, "One work's
            # themes by primary key").
            tags, position, theme_id = self.tags(row)
            t = select(t).where(t.c.id == theme_id).limit(1).lateral()
            source = tags.join(t, true())
        elif self.postgres:
            # A work's tags come from its own row (``works.theme_ids``, kept by migration
            # 0010's triggers), joined to ``themes`` by one hash per statement, not from a
            # probe into work_themes' index per work: random probes into a large index are
            # what makes a page's time grow with the catalog (bench/README.md, "Why W3 grows
            # with the catalog"). The hash is built once and probed by every work of the
            # statement: for W2's 50 works and W3's 1,000 it measured cheaper than a
            # primary-key probe per tag (bench/README.md, "One work's themes by primary key").
            tags, position, theme_id = self.tags(row)
            source = tags.join(t, t.c.id == theme_id)
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
            searched = source.filter is not None and source.filter.search is not None
            w = m.Work.__table__.alias(_searched_alias("works", searched))
            conditions = [_adapt(c, w) for c in q.work_conditions(source.filter)]
            if source.parent is not None:
                assert parent is not None
                links = None if limit is None else self._page_links(connection, parent, limit)
                if links is None:
                    links = self._links(source, parent)
                conditions.append(w.c.id.in_(links))
            return w, conditions
        if isinstance(source, PersonList):
            p = m.Person.__table__.alias(_searched_alias("people", source.search is not None))
            people = q.PersonFilter(role=source.role, search=source.search)
            where = q.people_query(people).whereclause
            return p, [] if where is None else [_adapt(where, p)]
        if isinstance(source, StudioList):
            return m.Studio.__table__.alias(), []
        if isinstance(source, SimilarList):
            assert parent is not None
            return self._similar(parent), []
        if isinstance(source, ChangeList):
            c = m.Change.__table__.alias()
            where = q.changes_query(source.subject).whereclause
            return c, [] if where is None else [_adapt(where, c)]
        return m.Theme.__table__.alias(), []

    @staticmethod
    def _similar(parent: FromClause) -> FromClause:
        """The works similar to the parent work, as ``db.similar.similar_query`` scores them
        (each shared theme 1, each shared person 2, whatever their roles), with the works'
        column names and ``score``: the ordering's keys adapt to it by name."""
        mine, theirs = m.WorkTheme.__table__.alias(), m.WorkTheme.__table__.alias()
        themes = (
            select(theirs.c.work_id, literal_column(str(THEME_WEIGHT), Integer).label("weight"))
            .select_from(mine.join(theirs, theirs.c.theme_id == mine.c.theme_id))
            .where(mine.c.work_id == parent.c.id, theirs.c.work_id != mine.c.work_id)
            .correlate(parent)
        )
        credited, others = m.Credit.__table__.alias(), m.Credit.__table__.alias()
        people_here = (
            select(credited.c.person_id).where(credited.c.work_id == parent.c.id).correlate(parent)
        )
        people = (
            select(others.c.work_id, others.c.person_id)
            .where(others.c.person_id.in_(people_here), others.c.work_id != parent.c.id)
            .distinct()  # a person counts once, whatever their roles
            .correlate(parent)
            .subquery()
        )
        shared_people = select(
            people.c.work_id, literal_column(str(PERSON_WEIGHT), Integer).label("weight")
        )
        shared = union_all(themes, shared_people).subquery()
        scores = (
            select(shared.c.work_id, func.sum(shared.c.weight).label("score"))
            .group_by(shared.c.work_id)
            .subquery()
        )
        w = m.Work.__table__.alias()
        return (
            select(*w.c, scores.c.score)
            .select_from(w.join(scores, scores.c.work_id == w.c.id))
            .correlate(parent)
            .subquery()
        )

    @staticmethod
    def _links(source: WorkList, parent: FromClause) -> Select[Any]:
        """The ids of the parent's works (as ``db.queries.nested_works_query`` links them)."""
        if source.parent == q.Parent.PERSON:
            c = m.Credit.__table__.alias()
            links = select(c.c.work_id).where(c.c.person_id == parent.c.id)
            if source.role is not None:
                links = links.where(c.c.role == source.role)
            return links.correlate(parent)
        if source.parent == q.Parent.STUDIO:
            ws = m.WorkStudio.__table__.alias()
            return select(ws.c.work_id).where(ws.c.studio_id == parent.c.id).correlate(parent)
        wt = m.WorkTheme.__table__.alias()
        return select(wt.c.work_id).where(wt.c.theme_id == parent.c.id).correlate(parent)

    @staticmethod
    def _page_credits(
        connection: Connection,
        parent: FromClause,
        limit: int,
        columns: Callable[[Any], list[Any]],
        any_role: bool = False,
    ) -> Select[Any] | None:
        """``columns`` of the credits of a person's works in a role on this page, in the
        page's order from the credits' copies of the works' sort keys (``q.credit_ordering``):
        ``limit`` index entries, however many works the person has. With ``any_role`` (and
        ``columns`` among the sort keys), also the page of a person's works in any role: one
        group of credits per work, since a work's credits in several roles all carry its
        keys, read in order from ``ix_credits_person_id_work_order`` (migration 0020). None
        where the page's rows are not the first credits in that order: with a filter on the
        works (it must apply before the limit), or without a role unless ``any_role`` (a
        work credited twice would count twice); and for backward pages or ``before`` bounds
        (read from the works)."""
        source = connection.source
        if not isinstance(source, WorkList) or connection.backward or connection.before:
            return None
        if source.parent != q.Parent.PERSON or (source.role is None and not any_role):
            return None
        if q.work_conditions(source.filter):
            return None
        c = m.Credit.__table__.alias()
        ordering = q.credit_ordering(connection.ordering)
        rows = select(*columns(c)).where(c.c.person_id == parent.c.id)
        if source.role is not None:
            rows = rows.where(c.c.role == source.role)
        else:  # the keys end with the work's id: a group is a work
            rows = rows.group_by(*(_adapt(k.expression, c) for k in ordering.keys))
        if connection.after is not None:
            rows = rows.where(_adapt(ordering.after(connection.after), c))
        keys = [_adapt(k.ordering, c) for k in ordering.keys]
        return rows.order_by(*keys).limit(limit).correlate(parent)

    def _page_links(
        self, connection: Connection, parent: FromClause, limit: int
    ) -> Select[Any] | None:
        """The ids of the works on the page (``_page_credits``, in any role too): about a
        page of index entries, where reading the person's works would read and sort all of
        them (W9 of ``bench.load``: 1,632 for the most credited person at 100,000 works)."""
        return self._page_credits(connection, parent, limit, lambda c: [c.c.work_id], any_role=True)

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
        """The page's size in rows, or one more when the selection asks whether more lie
        beyond it (``Connection.needs_next``), in scanning order (a backward page from its
        end), each ``[ordinal, *node values…, *sort keys]``."""
        limit = connection.first + 1 if connection.needs_next else connection.first
        conditions: list[Expression]
        row = self.credit_page(connection, parent, limit)
        by_name = row is not None or isinstance(connection.source, SimilarList)
        if row is None:
            row, conditions = self._list_rows(connection, parent, limit)
            ordering = connection.ordering
            if connection.after is not None:  # the keyset bounds, as db.pagination's
                conditions.append(_adapt(ordering.after(connection.after), row, by_name=by_name))
            if connection.before is not None:
                bound = ordering.before(connection.before)
                conditions.append(_adapt(bound, row, by_name=by_name))
        else:
            conditions = []  # the credits' page is this page, bound and limited

        def adapt(expression: Any) -> Expression:
            return _adapt(expression, row, by_name=by_name)

        keys = [
            adapt(k.expression).desc() if k.descending else adapt(k.expression).asc()
            for k in connection.scan.keys
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
        """Whether rows lie behind the cursor the page starts from, as ``db.pagination``'s
        probe: at or before ``after`` going forward (``hasPreviousPage``), at or after
        ``before`` going backward (``hasNextPage``)."""
        row, conditions = self._list_rows(connection, parent)
        ordering = connection.ordering
        if connection.backward:
            assert connection.before is not None
            behind = ordering.after(connection.before, inclusive=True)
        else:
            assert connection.after is not None
            behind = ordering.before(connection.after, inclusive=True)
        by_name = isinstance(connection.source, SimilarList)
        probe = select(row.c.id).where(*conditions, _adapt(behind, row, by_name=by_name))
        return probe.exists()

    def count(self, connection: Connection, parent: FromClause | None) -> ScalarSelect[Any]:
        kept = self._kept_groups(connection)
        if kept is not None:  # the counts the database keeps (db.facet_counts), as resolvers do
            groups = kept.subquery()
            total = cast(func.coalesce(func.sum(groups.c.works), 0), Integer)
            return select(total).scalar_subquery()
        row, conditions = self._list_rows(connection, parent)
        return select(func.count()).select_from(row).where(*conditions).scalar_subquery()

    @staticmethod
    def _root_filter(connection: Connection) -> tuple[bool, q.WorkFilter | None]:
        """Whether the list is the root works list, and its filter."""
        source = connection.source
        if isinstance(source, WorkList) and source.parent is None and source.role is None:
            return True, source.filter
        return False, None

    def _kept_groups(self, connection: Connection) -> Any:
        """The kept counts' ``(kind, year or decade, works)`` rows of a root works list, or
        None where they cannot tell its counts (``db.facet_counts.groups``)."""
        root, work_filter = self._root_filter(connection)
        return facet_counts.groups(work_filter) if root else None

    def connection(self, connection: Connection, parent: FromClause | None) -> Expression:
        """``[page?, count?, previous?]``: only the parts the selection needs."""
        parts: list[Expression] = []
        if connection.needs_page:
            parts.append(self.embed(self.page(connection, parent)))
        if connection.needs_count:
            parts.append(self.count(connection, parent))
        if connection.needs_previous:
            parts.append(self.previous(connection, parent))
        for facets in connection.facets:
            parts.append(self.array(self.facet_values(facets, connection, parent)))
        return self.array(parts)

    def facet_values(
        self, facets: Obj, connection: Connection, parent: FromClause | None
    ) -> list[Expression]:
        """A ``WorkFacets`` object's values: each list over the connection's whole list, as
        ``db.facets`` counts it (the order is Python's: ``gql.compiled.shape``)."""
        values: list[Expression] = []
        for _, field in facets.fields:
            if isinstance(field, FacetList):
                values.append(self.embed(self.facet_list(field, connection, parent)))
        return values

    def facet_list(
        self, field: FacetList, connection: Connection, parent: FromClause | None
    ) -> ScalarSelect[Any]:
        if field.kind == "themes":
            root, work_filter = self._root_filter(connection)
            kept = facet_counts.theme_counts(work_filter) if root else None
            if kept is not None:
                return self.ranked_themes(field, kept.subquery())
            w, conditions = self._list_rows(connection, parent)
            return self.top_themes(field, w, conditions)
        kept = self._kept_groups(connection)
        if kept is not None:  # the counts the database keeps: sums of a few hundred rows
            groups = kept.subquery()
            kind, year, works = list(groups.c)
            unknown = year == m.UNKNOWN_YEAR
            value: Expression = (
                kind if field.kind == "kinds" else case((unknown, None), else_=(year // 10) * 10)
            )
            n = cast(func.sum(works), Integer)
            counted = (
                select(value.label(field.kind), n.label("n"))
                .select_from(groups)
                .group_by(value)
                .subquery()
            )
        else:
            w, conditions = self._list_rows(connection, parent)
            # as db.facets.kinds_and_decades
            value = w.c.kind if field.kind == "kinds" else (w.c.year // 10) * 10
            counted = (
                select(value.label(field.kind), func.count().label("n"))
                .select_from(w)
                .where(*conditions)
                .group_by(value)
                .subquery()
            )
        if field.kind == "kinds":  # most first, then by kind (db.facets)
            ordinal = self.array([-counted.c.n, counted.c.kinds])
        else:  # oldest first, unknown last
            decade = counted.c.decades
            unknown = case((decade.is_(None), 1), else_=0)
            ordinal = self.array([unknown, func.coalesce(decade, 0)])
        columns = {"kind": counted.c.kinds} if field.kind == "kinds" else {"decade": decade}
        element = [ordinal]
        for _, count_field in field.node.fields:
            if isinstance(count_field, Column):
                name = count_field.column
                element.append(counted.c.n if name == "n" else columns[name])
        return (
            select(self.aggregate(self.array(element), built=True))
            .select_from(counted)
            .scalar_subquery()
        )

    def top_themes(
        self, field: FacetList, w: FromClause, conditions: list[Expression]
    ) -> ScalarSelect[Any]:
        """The ``first`` themes most works of the list are tagged with, ranked by the
        database as ``db.facets.top_themes`` ranks them (count, then name key, then id)."""
        wt = m.WorkTheme.__table__.alias()
        counted = (
            select(wt.c.theme_id, func.count().label("n"))
            .select_from(w.join(wt, wt.c.work_id == w.c.id))
            .where(*conditions)
            .group_by(wt.c.theme_id)
            .subquery()
        )
        return self.ranked_themes(field, counted)

    def ranked_themes(self, field: FacetList, counted: FromClause) -> ScalarSelect[Any]:
        """The ``first`` of ``(theme_id, n)`` rows, ranked as ``db.facets.top_themes``."""
        t = m.Theme.__table__.alias()
        rank = func.row_number().over(order_by=[counted.c.n.desc(), t.c.name_key, t.c.id])
        ranked = (
            select(counted.c.theme_id, counted.c.n, rank.label("rank"))
            .select_from(counted.join(t, t.c.id == counted.c.theme_id))
            .subquery()
        )
        element = self.array([ranked.c.rank, *self.values(field.node, ranked)])
        return (
            select(self.aggregate(element, built=True))
            .where(ranked.c.rank <= field.first)
            .scalar_subquery()
        )

    # -- root fields

    def root_object(self, lookup: Lookup) -> Select[Any]:
        """The object by slug, id or external identifier: the looked-up value is the
        statement's parameter ``key`` (and ``system``), so one statement serves every value
        (``gql.compiled`` keeps statements per plan)."""
        node = lookup.node
        row = MODELS[node.table].__table__.alias()
        self.single_rows.append(row)
        built = select(self.array([row.c.id, *self.values(node, row)]))
        if lookup.by == "external_id":
            x = EXTERNAL_IDS[node.table].__table__.alias()
            owner = x.c.work_id if node.table == "works" else x.c.person_id
            value = x.c.value == bindparam(KEY, type_=x.c.value.type)
            system = x.c.system == bindparam(SYSTEM, type_=String())
            return built.select_from(row.join(x, owner == row.c.id)).where(value, system).limit(1)
        column = row.c[lookup.by]
        return built.select_from(row).where(column == bindparam(KEY, type_=column.type)).limit(1)

    def root_nodes(self, lookup: NodeList) -> Select[Any] | None:
        """``nodes(ids:)``: a JSON array of one element per ID, each the object's values (led
        by its id) or null; the ids are the parameters ``id_0``, ``id_1`` …"""
        if not lookup.nodes:
            return None
        elements: list[Expression] = []
        for index, node in enumerate(lookup.nodes):
            row = MODELS[node.table].__table__.alias()
            self.single_rows.append(row)
            one = (
                select(self.array([row.c.id, *self.values(node, row)]))
                .where(row.c.id == bindparam(node_parameter(index), type_=row.c.id.type))
                .limit(1)
                .scalar_subquery()
            )
            elements.append(self.embed(one))
        return select(self.array(elements))

    def root_connection(self, connection: Connection) -> Select[Any] | None:
        """The statement, or None when the selection reads nothing (only ``__typename``…)."""
        if not (connection.needs_page or connection.needs_count or connection.facets):
            return None
        return select(self.connection(connection, None))

    # -- search

    def root_search(self, root: SearchStatement) -> Select[Any] | None:
        """``search`` / ``searchHits``: ``[works, people, themes]``, each the kind's best
        ``first`` rows as ``db.search.kind_statement`` reads them (a derived table over the
        kind's own table), each ``[id, rank, similarity, name key, *each selection's values,
        *names]`` (names: what matchedText compares, ``SEARCH_NAMES``); Python ranks them
        (``gql.compiled.shape.search``). The key's values are parameters
        (``db.search.key_parameters``). None when it reads nothing (a key without letters or
        digits, ``first`` 0): no hits."""
        if root.shape is None:
            return None
        dialect = "postgresql" if self.postgres else "sqlite"
        kinds: list[Expression] = []
        for index, kind in enumerate(s.KINDS):
            statement, _ = s.kind_statement(kind, root.shape, root.first, dialect)
            found = statement.subquery()
            row = MODELS[s.KIND_TABLES[kind]].__table__.alias()
            columns = list(found.c)  # id, rank, similarity, name key
            element: list[Expression] = columns[:4]
            for selection in root.nodes:
                element += self.values(selection[index], row)
            if root.needs_names:
                element += self.names(kind, row)
            kinds.append(
                self.embed(
                    select(self.aggregate(self.array(element), built=True))
                    .select_from(found.join(row, row.c.id == columns[0]))
                    .scalar_subquery()
                )
            )
        return select(self.array(kinds))

    def names(self, kind: str, row: FromClause) -> list[Expression]:
        """A found record's names as ``gql.search.SearchHit.matched_text`` lists them: the
        title or name, the original one, the alternative ones (a theme: its name)."""
        if kind == "work":
            titles = self.strings(Strings("alternative_titles"), row)
            return [row.c.title, row.c.original_title, self.embed(titles)]
        if kind == "person":
            names = self.strings(Strings("alternative_names"), row)
            return [row.c.name, row.c.original_name, self.embed(names)]
        return [row.c.name, null(), null()]
