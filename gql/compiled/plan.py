"""Selection -> plan: what each root field of a query operation asks for, in response order.

The planner walks the operation with graphql-core's own field collection (the executor's:
aliases, fragments, inline fragments, ``@skip``/``@include`` and field merging come out
exactly as execution would see them) and coerces arguments with graphql-core too. Argument
checks reuse the resolvers' own functions (``gql.inputs``): where a resolver would answer an
error — or wherever the plan meets anything it does not cover — planning raises
``Unsupported`` and the operation falls back to the resolver path. The compiled path never
produces an error of its own.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    get_argument_values,
    get_operation_ast,
    get_variable_values,
)
from graphql.execution.collect_fields import (
    FieldDetails,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import VariableValues

from db import queries as q
from db import structure
from db.enums import CreditRole, ExternalSystem
from db.enums import WorkOrderField as OrderField
from db.external_ids import Owner, external_id_problem
from db.facets import MAX_THEME_FACETS
from db.pagination import Ordering
from db.search import KeyShape
from db.similar import similar_ordering
from db.text import search_key
from gql.cursors import decode_cursor
from gql.errors import ApiError
from gql.ids import from_global_id
from gql.inputs import PersonFilter, WorkFilter, WorkOrder, text_argument, work_orders

TITLE_ORDER = (q.WorkOrder(OrderField.TITLE),)
MAX_VALUES = 90  # values per JSON array (PostgreSQL functions take at most 100 arguments)


class Unsupported(Exception):
    """The compiler does not cover this operation: the resolver path answers it."""


# -- the plan ----------------------------------------------------------------------------------

Table = Literal["works", "people", "themes", "studios"]
TABLES: dict[str, Table] = {
    "Work": "works",
    "Person": "people",
    "Theme": "themes",
    "Studio": "studios",
}


@dataclass(frozen=True)
class Typename:
    """A constant: the object's type name."""

    name: str


@dataclass(frozen=True)
class Column:
    """A column of the object's row, as it is stored (NULL -> null)."""

    column: str


@dataclass(frozen=True)
class GlobalId:
    """The row's id, encoded as a global ID in Python."""


@dataclass(frozen=True)
class Strings:
    """A list of strings kept in a child table in ``position`` order."""

    kind: Literal["alternative_titles", "alternative_names", "forms"]


@dataclass(frozen=True)
class Audience:
    """A work's audience: one value or null, from its own table."""


@dataclass(frozen=True)
class Computed:
    """A value Python computes from columns of the row (``gql.compiled.shape``): a part's
    ``label`` (its unit and numbers), a date's ``precision`` and ``text`` (year, month and
    day, ``prefix``: those of ``until``)."""

    kind: Literal["label", "precision", "text"]
    prefix: str = ""


ChildKind = Literal[
    "directors",
    "themes",
    "work_credits",
    "person_credits",
    "work_sources",
    "person_sources",
    "studio_sources",
    "credit_sources",
    "relation_sources",
    "work_external_ids",
    "person_external_ids",
    "disputes",
    "related",
    "dispute_people",
    "reported",
    "reported_sources",
    "parts",
    "events",
    "part_events",
    "origins",
    "studio_credits",
    "part_sources",
    "event_sources",
    "origin_sources",
    "studio_credit_sources",
    "work_attribution_sources",
    "person_attribution_sources",
]


@dataclass(frozen=True)
class Children:
    """A list of related objects in the resolvers' order: a work's directors (billing order),
    themes, credits, sources, disputes …; ``kind`` says which (``gql.compiled.sql``)."""

    kind: ChildKind
    node: Obj


@dataclass(frozen=True)
class Attributions:
    """A record's attributions: its cited fields in the order of their first citation (the
    database orders them, as the resolvers' statement does: by first position, then field),
    each with its sources."""

    kind: Literal["work_attributions", "person_attributions"]
    node: Obj


RefKind = Literal[
    "credit_person",
    "credit_work",
    "dispute_source",
    "relation_work",
    "episodes",
    "credit_studio",
    "event_date",
    "event_until",
    "reported_work",
    "reported_person",
    "reported_dispute",
    "facet_theme",
]


@dataclass(frozen=True)
class Ref:
    """One object or null: a row named by a foreign key of this one (a credit's person, a
    dispute's source), or (``episodes``) built from this row's own columns, null unless both
    ends of the range are known."""

    kind: RefKind
    node: Obj


@dataclass(frozen=True)
class ExternalUrl:
    """An external identifier's page, computed in Python from its system and value (as
    ``db.external_ids.external_url``)."""

    owner: Literal["work", "person"]


@dataclass(frozen=True)
class Decoded:
    """A column whose stored text Python turns into the response's value (``shape``): a
    timestamp as the resolvers' ``datetime`` serializes, or a JSON document."""

    column: str
    kind: Literal["timestamp", "json"]


@dataclass(frozen=True)
class FormSources:
    """The sources stating a title or name form, in their order; none for a generated one."""

    node: Obj  # a Source


@dataclass(frozen=True)
class Forms:
    """A work's ``titles`` or a person's ``names`` (``gql.types.titles``). The statement reads
    every form's values whatever the selection: the stated forms (each with its sources,
    one list per ``FormSources`` of the selection) or, for a record without any, the fields
    they are read off (main, original and alternatives, with the sources cited for each).
    Python then derives the rest as the resolvers do, with their own functions
    (``db.statements``): the field forms' scripts, and the romanizations generated from the
    Hangul forms (``db.romanization``'s ko-pron is Python: SQL could not compute them).
    ``node``: the Title or Name selection, its values ``Column``s named as ``FORM_VALUES``."""

    kind: Literal["work_titles", "person_names"]
    node: Obj

    @functools.cached_property
    def sources(self) -> tuple[FormSources, ...]:
        return tuple(f for _, f in self.node.fields if isinstance(f, FormSources))


@dataclass(frozen=True)
class Obj:
    """An object's selection: response keys in order, each with what it reads."""

    type_name: str
    fields: tuple[tuple[str, Field], ...]
    # What gql.compiled.shape builds from this selection once (its object builder), kept
    # with it; not part of the plan's value.
    derived: dict[str, Any] = dataclasses.field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    @property
    def table(self) -> Table:
        return TABLES[self.type_name]

    @functools.cached_property
    def width(self) -> int:
        """How many values the object's JSON array holds: one per field but ``__typename``."""
        return sum(not isinstance(field, Typename) for _, field in self.fields)


@dataclass(frozen=True)
class WorkList:
    """Works: all of them (``parent`` None) or one person's or theme's."""

    parent: q.Parent | None
    role: CreditRole | None
    filter: q.WorkFilter | None
    orders: tuple[q.WorkOrder, ...]


@dataclass(frozen=True)
class PersonList:
    role: CreditRole | None
    search: str | None = None  # ``filter.search``, as ``gql.inputs.PersonFilter`` checks it


@dataclass(frozen=True)
class ThemeList:
    pass


@dataclass(frozen=True)
class StudioList:
    pass


@dataclass(frozen=True)
class SimilarList:
    """A work's similar works (``db.similar``): scored, best first."""


@dataclass(frozen=True)
class ChangeList:
    """The audit trail (``Query.changes``), or the changes to the record with the slug
    ``subject``: an editor's only (planned only for a request holding the permission)."""

    subject: str | None


ListSource: TypeAlias = WorkList | PersonList | ThemeList | StudioList | SimilarList | ChangeList


@dataclass(frozen=True)
class TotalCount:
    pass


@dataclass(frozen=True)
class Nodes:
    index: int  # into Connection.nodes


@dataclass(frozen=True)
class Cursor:
    pass


@dataclass(frozen=True)
class EdgeNode:
    index: int  # into Connection.nodes


EdgeField: TypeAlias = Typename | Cursor | EdgeNode
PageInfoField = Literal["hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"]


@dataclass(frozen=True)
class Edges:
    fields: tuple[tuple[str, EdgeField], ...]


@dataclass(frozen=True)
class PageInfo:
    fields: tuple[tuple[str, PageInfoField], ...]


@dataclass(frozen=True)
class Facets:
    index: int  # into Connection.facets


@dataclass(frozen=True)
class FacetList:
    """One list of a ``WorkFacets``: counts by kind, by decade, or the top ``first`` themes,
    over the connection's whole list (``db.facets``)."""

    kind: Literal["kinds", "decades", "themes"]
    node: Obj  # a KindCount, DecadeCount or ThemeCount
    first: int = 0


ConnectionField: TypeAlias = Typename | TotalCount | Nodes | Edges | PageInfo | Facets


@dataclass(frozen=True)
class Connection:
    """A page of a list and what is asked of it: forward (``first``) or backward (``last``,
    then ``backward``; ``first`` holds the page's size either way), between the cursors'
    bounds if any."""

    list_name: str  # as the cursors name it: "works", "person.works" …
    source: ListSource
    first: int
    fields: tuple[tuple[str, ConnectionField], ...]
    nodes: tuple[Obj, ...]  # each `nodes` / `edges.node` selection, in order
    after: tuple[Any, ...] | None = None  # the decoded `after` cursor: the page starts past it
    before: tuple[Any, ...] | None = None  # the decoded `before` cursor: it ends before it
    backward: bool = False  # `last`: the page is the last rows within the bounds
    facets: tuple[Obj, ...] = ()  # each `facets` selection (a WorkFacets), in order
    # What gql.compiled.shape works out from this selection once, kept with it (as Obj's).
    derived: dict[str, Any] = dataclasses.field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def _asks(self, info_field: PageInfoField) -> bool:
        return any(
            isinstance(field, PageInfo) and any(f == info_field for _, f in field.fields)
            for _, field in self.fields
        )

    @functools.cached_property
    def needs_keys(self) -> bool:
        """Whether any cursor is asked for (the rows then carry their sort-key values)."""
        for _, field in self.fields:
            if isinstance(field, Edges) and any(isinstance(f, Cursor) for _, f in field.fields):
                return True
            if isinstance(field, PageInfo) and any(
                f in ("startCursor", "endCursor") for _, f in field.fields
            ):
                return True
        return False

    @functools.cached_property
    def needs_page(self) -> bool:
        return bool(self.nodes) or self.needs_keys or self.needs_next

    @functools.cached_property
    def needs_next(self) -> bool:
        """Whether the page reads one row more than it shows: to say whether more lie beyond
        it in its scanning direction (``hasNextPage`` forward, ``hasPreviousPage`` backward;
        as ``db.pagination``)."""
        return self._asks("hasPreviousPage" if self.backward else "hasNextPage")

    @functools.cached_property
    def needs_previous(self) -> bool:
        """Whether rows behind the page's starting cursor are asked about: ``hasPreviousPage``
        past ``after`` going forward, ``hasNextPage`` before ``before`` going backward (one
        probe: true when rows lie at or beyond that cursor, as ``db.pagination``'s); without
        that cursor it is simply false."""
        if self.backward:
            return self.before is not None and self._asks("hasNextPage")
        return self.after is not None and self._asks("hasPreviousPage")

    @functools.cached_property
    def scan(self) -> Ordering:
        """The order the page's rows are read in (a backward page reads from its end)."""
        return self.ordering.reversed() if self.backward else self.ordering

    @functools.cached_property
    def needs_count(self) -> bool:
        return any(isinstance(field, TotalCount) for _, field in self.fields)

    @functools.cached_property
    def ordering(self) -> Ordering:
        return ordering_of(self.source)


def ordering_of(source: ListSource) -> Ordering:
    """The order of a list (as the resolvers order it)."""
    if isinstance(source, WorkList):
        return q.work_ordering(source.orders)
    if isinstance(source, PersonList):
        return q.PEOPLE_ORDERING
    if isinstance(source, StudioList):
        return structure.STUDIOS_ORDERING
    if isinstance(source, SimilarList):
        return similar_ordering()
    if isinstance(source, ChangeList):
        return q.CHANGES_ORDERING
    return q.THEMES_ORDERING


Field: TypeAlias = (
    Typename
    | Column
    | GlobalId
    | Strings
    | Audience
    | Computed
    | Children
    | Attributions
    | FacetList
    | Ref
    | ExternalUrl
    | Decoded
    | Connection
    | Forms
    | FormSources
)


@dataclass(frozen=True)
class Lookup:
    """How a root object is found, and what is read of it: its statement is built (and kept)
    from this, the looked-up value being the statement's parameter."""

    by: Literal["slug", "id", "external_id"]
    node: Obj


@dataclass(frozen=True)
class RootObject:
    """``work(slug:)`` and the other lookups by slug, ``node(id:)``, ``workByExternalId`` /
    ``personByExternalId``: one row or null. ``key``: the slug, the database id, or the
    identifier; ``system``: the external identifier's system."""

    key: str | int
    lookup: Lookup
    system: str | None = None

    @property
    def node(self) -> Obj:
        return self.lookup.node


@dataclass(frozen=True)
class NodeList:
    """``nodes(ids:)``'s statement: each ID's selection, for its type (a statement per
    distinct sequence of types and selections; the ids are its parameters)."""

    nodes: tuple[Obj, ...]


@dataclass(frozen=True)
class RootNodes:
    """``nodes(ids:)``: one object or null per ID, in order."""

    ids: tuple[int, ...]
    lookup: NodeList


@dataclass(frozen=True)
class HitNode:
    index: int  # into SearchRoot.nodes


@dataclass(frozen=True)
class HitScore:
    pass


@dataclass(frozen=True)
class MatchedText:
    """The name the query matched best: ``db.search.best_name`` in Python over the found
    record's names, which its statement reads beside it."""


HitField: TypeAlias = Typename | HitNode | HitScore | MatchedText
SEARCH_TYPES = ("Work", "Person", "Theme")  # SearchResult's types, in db.search.KINDS' order


@dataclass(frozen=True)
class SearchRoot:
    """``search`` (``hits`` False: the found records) or ``searchHits`` (``hits`` True: a
    ``SearchHit`` per record, ``fields`` its selection): the best ``first`` matches of
    ``text`` across works, people and themes, as ``db.search.search`` finds and ranks them.
    ``nodes``: each selection of the found record (``search``'s own, or each ``node`` of a
    hit), one ``Obj`` per type of ``SEARCH_TYPES``. The statement reads each kind's best
    ``first`` rows with their ranks and values; Python ranks them (``db.search.best_hits``)."""

    text: str  # the query as the resolver checked it (gql.inputs.text_argument)
    key: str  # its search key (db.text.search_key): empty finds nothing
    first: int
    hits: bool
    nodes: tuple[tuple[Obj, ...], ...]
    fields: tuple[tuple[str, HitField], ...] = ()

    @functools.cached_property
    def reads(self) -> bool:
        return bool(self.key) and self.first > 0

    @functools.cached_property
    def statement(self) -> SearchStatement:
        """What its statement is built from: the same for every key of a shape, the key's
        values bound (``db.search.key_parameters``). A property: a prepared plan's runs use
        the same object (``gql.compiled.driver`` keeps statements by identity)."""
        shape = KeyShape.of(self.key) if self.reads else None
        return SearchStatement(shape, self.first, self.nodes, self.needs_names)

    @functools.cached_property
    def needs_names(self) -> bool:
        return any(isinstance(field, MatchedText) for _, field in self.fields)


@dataclass(frozen=True)
class SearchStatement:
    """A ``SearchRoot``'s statement without its key: ``shape`` is the key's (None: it reads
    nothing), the rest the selection's."""

    shape: KeyShape | None
    first: int
    nodes: tuple[tuple[Obj, ...], ...]
    needs_names: bool


Root: TypeAlias = Typename | RootObject | RootNodes | Connection | SearchRoot


@dataclass(frozen=True)
class Plan:
    roots: tuple[tuple[str, Root], ...]

    @functools.cached_property
    def reads(self) -> bool:
        """Whether any root field reads the database (not only ``__typename``s)."""
        return any(
            isinstance(root, RootObject)
            or (isinstance(root, RootNodes) and bool(root.ids))
            or (isinstance(root, SearchRoot) and root.reads)
            or (
                isinstance(root, Connection)
                and (root.needs_page or root.needs_count or bool(root.facets))
            )
            for _, root in self.roots
        )

    @functools.cached_property
    def private(self) -> bool:
        """Whether it reads what only an editor may (the audit trail): its answer is never
        kept for, nor its plan run again for, another request (``web.caching``,
        ``web.fast_lane``)."""
        return any(
            isinstance(root, Connection) and isinstance(root.source, ChangeList)
            for _, root in self.roots
        )


# -- planning ----------------------------------------------------------------------------------

SCALARS: dict[str, dict[str, str]] = {
    "Work": {
        "slug": "slug",
        "title": "title",
        "originalTitle": "original_title",
        "kind": "kind",
        "year": "year",
        "synopsis": "synopsis",
        "version": "version",
    },
    "Person": {
        "slug": "slug",
        "name": "name",
        "originalName": "original_name",
        "biography": "biography",
        "version": "version",
    },
    "Theme": {"slug": "slug", "name": "name", "description": "description", "version": "version"},
    "Studio": {"slug": "slug", "name": "name", "originalName": "original_name"},
    "Source": {"key": "key", "title": "title", "url": "url"},
    "Credit": {"role": "role", "position": "position", "note": "note", "qualifier": "qualifier"},
    "EpisodeRange": {"first": "episodes_first", "last": "episodes_last"},
    "ExternalId": {"system": "system", "value": "value"},
    "Dispute": {
        "field": "field",
        "stated": "stated",
        "reported": "reported",
        "note": "note",
        "qualifier": "qualifier",
    },
    "WorkRelation": {"type": "type"},
    "WorkPart": {"unit": "unit", "first": "first_number", "last": "last_number", "title": "title"},
    "WorkEvent": {"kind": "kind", "place": "place", "qualifier": "qualifier", "note": "note"},
    "PartialDate": {"year": "year", "month": "month", "day": "day"},
    "Origin": {
        "title": "title",
        "originalTitle": "original_title",
        "form": "form",
        "note": "note",
        "qualifier": "qualifier",
    },
    "StudioCredit": {"role": "role"},
    "ReportedCredit": {"role": "role"},
    "Attribution": {"field": "field"},
    "KindCount": {"kind": "kind", "count": "n"},
    "DecadeCount": {"decade": "decade", "count": "n"},
    "ThemeCount": {"count": "n"},
    "Change": {
        "actor": "actor",
        "operation": "operation",
        "subjectType": "subject_type",
        "subjectSlug": "subject_slug",
        "source": "source_key",
    },
}
DECODED: dict[tuple[str, str], Decoded] = {
    ("Change", "at"): Decoded("at", "timestamp"),
    ("Change", "before"): Decoded("before", "json"),
    ("Change", "after"): Decoded("after", "json"),
}
# Query fields only an editor may read (``gql.permissions.EDITOR``): planned only with
# ``editor`` (the caller checks the request's token first, as the permission would).
EDITOR_ROOTS = frozenset({"changes"})
# (type, field) -> the list's kind and its element type
CHILD_LISTS: dict[tuple[str, str], tuple[ChildKind, str]] = {
    ("Work", "directors"): ("directors", "Person"),
    ("Work", "themes"): ("themes", "Theme"),
    ("Work", "credits"): ("work_credits", "Credit"),
    ("Person", "credits"): ("person_credits", "Credit"),
    ("Work", "sources"): ("work_sources", "Source"),
    ("Person", "sources"): ("person_sources", "Source"),
    ("Studio", "sources"): ("studio_sources", "Source"),
    ("Credit", "sources"): ("credit_sources", "Source"),
    ("WorkRelation", "sources"): ("relation_sources", "Source"),
    ("Work", "externalIds"): ("work_external_ids", "ExternalId"),
    ("Person", "externalIds"): ("person_external_ids", "ExternalId"),
    ("Work", "disputes"): ("disputes", "Dispute"),
    ("Work", "related"): ("related", "WorkRelation"),
    ("Dispute", "reportedPeople"): ("dispute_people", "Person"),
    ("Person", "reported"): ("reported", "ReportedCredit"),
    ("ReportedCredit", "sources"): ("reported_sources", "Source"),
    ("Work", "parts"): ("parts", "WorkPart"),
    ("Work", "events"): ("events", "WorkEvent"),
    ("WorkPart", "events"): ("part_events", "WorkEvent"),
    ("Work", "basedOn"): ("origins", "Origin"),
    ("Work", "studios"): ("studio_credits", "StudioCredit"),
    ("WorkPart", "sources"): ("part_sources", "Source"),
    ("WorkEvent", "sources"): ("event_sources", "Source"),
    ("Origin", "sources"): ("origin_sources", "Source"),
    ("StudioCredit", "sources"): ("studio_credit_sources", "Source"),
}
# (type, field) -> the object's kind and type
REFS: dict[tuple[str, str], tuple[RefKind, str]] = {
    ("Credit", "person"): ("credit_person", "Person"),
    ("Credit", "work"): ("credit_work", "Work"),
    ("Dispute", "source"): ("dispute_source", "Source"),
    ("WorkRelation", "work"): ("relation_work", "Work"),
    ("Credit", "episodes"): ("episodes", "EpisodeRange"),
    ("StudioCredit", "studio"): ("credit_studio", "Studio"),
    ("WorkEvent", "date"): ("event_date", "PartialDate"),
    ("WorkEvent", "until"): ("event_until", "PartialDate"),
    ("ReportedCredit", "work"): ("reported_work", "Work"),
    ("ReportedCredit", "person"): ("reported_person", "Person"),
    ("ReportedCredit", "dispute"): ("reported_dispute", "Dispute"),
    ("ThemeCount", "theme"): ("facet_theme", "Theme"),
}
EXTERNAL_OWNERS: dict[ChildKind, Literal["work", "person"]] = {
    "work_external_ids": "work",
    "person_external_ids": "person",
}
# (type, field) -> the forms' kind and their type
FORM_LISTS: dict[tuple[str, str], tuple[Literal["work_titles", "person_names"], str]] = {
    ("Work", "titles"): ("work_titles", "Title"),
    ("Person", "names"): ("person_names", "Name"),
}
# A Title's or Name's values (as ``db.statements.FormRow`` names them)
FORM_VALUES = frozenset(
    {"text", "kind", "language", "script", "romanization", "qualifier", "generated"}
)
PARENTS = {"Person": q.Parent.PERSON, "Theme": q.Parent.THEME, "Studio": q.Parent.STUDIO}
BY_SLUG = {"work": "Work", "person": "Person", "theme": "Theme", "studio": "Studio"}
BY_EXTERNAL_ID = {
    "workByExternalId": ("Work", Owner.WORK),
    "personByExternalId": ("Person", Owner.PERSON),
}
PAGE_INFO_FIELDS = ("hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename")
WORK_FILTER_NAMES = {
    "kind": "kind",
    "kinds": "kinds",
    "yearFrom": "year_from",
    "yearTo": "year_to",
    "director": "director",
    "directors": "directors",
    "theme": "theme",
    "themes": "themes",
    "themesMatch": "themes_match",
    "hasDisputes": "has_disputes",
    "search": "search",
}

Group: TypeAlias = list[FieldDetails]


@dataclass
class Planner:
    schema: GraphQLSchema
    fragments: dict[str, FragmentDetails]
    variables: VariableValues
    operation: OperationDefinitionNode
    default_page_size: int
    max_page_size: int
    editor: bool = False  # the request holds the editor permission (``EDITOR_ROOTS``)

    def object_type(self, name: str) -> GraphQLObjectType:
        found = self.schema.get_type(name)
        if not isinstance(found, GraphQLObjectType):
            raise Unsupported(name)
        return found

    def _check(self, grouped: dict[str, Group], new_defers: list[Any]) -> list[tuple[str, Group]]:
        if new_defers:
            raise Unsupported("@defer")
        for group in grouped.values():
            for details in group:
                if details.defer_usage is not None or details.fragment_variable_values:
                    raise Unsupported("@defer or fragment variables")
        return list(grouped.items())

    def subfields(self, type_name: str, group: Group) -> list[tuple[str, Group]]:
        collected = collect_subfields(
            self.schema,
            self.fragments,
            self.variables,
            self.operation,
            self.object_type(type_name),
            group,
        )
        return self._check(collected.grouped_field_set, collected.new_defer_usages)

    def root_fields(self) -> list[tuple[str, Group]]:
        query = self.schema.query_type
        if query is None:
            raise Unsupported("no query type")
        collected = collect_fields(
            self.schema, self.fragments, self.variables, query, self.operation
        )
        return self._check(collected.grouped_field_set, collected.new_defer_usages)

    def arguments(self, type_name: str, group: Group) -> dict[str, Any]:
        details = group[0]  # validation: every node of a merged field has the same arguments
        field_def = self.object_type(type_name).fields.get(details.node.name.value)
        if field_def is None:
            raise Unsupported(details.node.name.value)
        try:
            return get_argument_values(
                field_def, details.node, self.variables, details.fragment_variable_values
            )
        except GraphQLError as error:
            raise Unsupported("arguments") from error

    # -- fields

    def plan(self) -> Plan:
        roots: list[tuple[str, Root]] = []
        query_name = self.schema.query_type.name if self.schema.query_type else "Query"
        for key, group in self.root_fields():
            name = group[0].node.name.value
            if name == "__typename":
                roots.append((key, Typename(query_name)))
            elif name in BY_SLUG:
                type_name = BY_SLUG[name]
                slug = self.arguments(query_name, group)["slug"]
                try:
                    checked = text_argument(slug, "slug")
                except ApiError as error:
                    raise Unsupported("slug") from error
                if not isinstance(checked, str):
                    raise Unsupported("slug")
                lookup = Lookup("slug", self.obj(type_name, group))
                roots.append((key, RootObject(checked, lookup)))
            elif name == "node":
                type_name, db_id = self.global_id(self.arguments(query_name, group)["id"])
                lookup = Lookup("id", self.obj(type_name, group))
                roots.append((key, RootObject(db_id, lookup)))
            elif name == "nodes":
                roots.append((key, self.root_nodes(self.arguments(query_name, group), group)))
            elif name in BY_EXTERNAL_ID:
                roots.append((key, self.by_external_id(query_name, name, group)))
            elif name in ("works", "people", "directors", "themes", "studios"):
                roots.append((key, self.root_list(query_name, name, group)))
            elif name in ("search", "searchHits"):
                roots.append((key, self.search(query_name, name, group)))
            elif name == "changes" and self.editor:
                roots.append((key, self.changes(query_name, group)))
            else:
                raise Unsupported(name)
        return Plan(tuple(roots))

    @staticmethod
    def global_id(raw: Any) -> tuple[str, int]:
        """The type and database id of a global ID (as ``gql.ids``); the resolvers answer a
        malformed one (INVALID_ID)."""
        try:
            return from_global_id(raw)
        except ApiError as error:
            raise Unsupported("id") from error

    def root_nodes(self, args: dict[str, Any], group: Group) -> RootNodes:
        """``nodes(ids:)``, checked as ``gql.query`` checks it (the resolvers answer errors)."""
        raw = args["ids"]
        if len(raw) > self.max_page_size or len(raw) > MAX_VALUES:
            raise Unsupported("ids")
        decoded = [self.global_id(global_id) for global_id in raw]
        selections: dict[str, Obj] = {}  # one selection per type
        nodes: list[Obj] = []
        for type_name, _ in decoded:
            if type_name not in selections:
                selections[type_name] = self.obj(type_name, group)
            nodes.append(selections[type_name])
        return RootNodes(tuple(db_id for _, db_id in decoded), NodeList(tuple(nodes)))

    def by_external_id(self, query_name: str, name: str, group: Group) -> RootObject:
        """``workByExternalId`` / ``personByExternalId``, the value checked as
        ``gql.types.external`` checks it (the resolvers answer a malformed one)."""
        args = self.arguments(query_name, group)
        type_name, owner = BY_EXTERNAL_ID[name]
        try:
            system = ExternalSystem(args["system"])
            value = text_argument(args["value"], "value")
        except (ApiError, ValueError) as error:
            raise Unsupported("value") from error
        if value is None or external_id_problem(system, value, owner) is not None:
            raise Unsupported("value")
        lookup = Lookup("external_id", self.obj(type_name, group))
        return RootObject(value, lookup, system.name)

    def search(self, query_name: str, name: str, group: Group) -> SearchRoot:
        """``search`` / ``searchHits``, checked as ``gql.search.search_hits`` checks them (the
        resolvers answer the errors)."""
        args = self.arguments(query_name, group)
        try:
            text = text_argument(args["query"], "query")
        except ApiError as error:
            raise Unsupported("query") from error
        first = args.get("first")
        limit = 10 if first is None else first
        if text is None or not isinstance(limit, int) or not 0 <= limit <= self.max_page_size:
            raise Unsupported("search arguments")
        key = search_key(text)
        if name == "search":
            return SearchRoot(text, key, limit, False, (self.found(group),))
        fields: list[tuple[str, HitField]] = []
        nodes: list[tuple[Obj, ...]] = []
        for hit_key, subgroup in self.subfields("SearchHit", group):
            field_name = subgroup[0].node.name.value
            if field_name == "__typename":
                fields.append((hit_key, Typename("SearchHit")))
            elif field_name == "node":
                nodes.append(self.found(subgroup))
                fields.append((hit_key, HitNode(len(nodes) - 1)))
            elif field_name == "score":
                fields.append((hit_key, HitScore()))
            elif field_name == "matchedText":
                fields.append((hit_key, MatchedText()))
            else:
                raise Unsupported(f"SearchHit.{field_name}")
        return SearchRoot(text, key, limit, True, tuple(nodes), tuple(fields))

    def found(self, group: Group) -> tuple[Obj, ...]:
        """A ``SearchResult`` selection, for each of its types."""
        return tuple(self.obj(type_name, group) for type_name in SEARCH_TYPES)

    def root_list(self, query_name: str, name: str, group: Group) -> Connection:
        args = self.arguments(query_name, group)
        first = self.page_size(args)
        source: ListSource
        if name == "works":
            orders = self.orders(args.get("orderBy"), TITLE_ORDER)
            source = WorkList(None, None, self.work_filter(args.get("filter")), orders)
            return self.connection("WorkConnection", "Work", name, source, first, group, args)
        if name == "themes":
            source = ThemeList()
            return self.connection("ThemeConnection", "Theme", name, source, first, group, args)
        if name == "studios":
            studios = StudioList()
            return self.connection("StudioConnection", "Studio", name, studios, first, group, args)
        role: CreditRole | None = CreditRole.DIRECTOR
        search = None
        if name == "people":
            role, search = self.person_filter(args.get("filter"))
        source = PersonList(role, search)
        return self.connection("PersonConnection", "Person", name, source, first, group, args)

    def changes(self, query_name: str, group: Group) -> Connection:
        """``changes(subject:)``, the subject checked as ``gql.query`` checks it."""
        args = self.arguments(query_name, group)
        try:
            subject = text_argument(args.get("subject"), "subject")
        except ApiError as error:
            raise Unsupported("subject") from error
        first = self.page_size(args)
        source = ChangeList(subject)
        return self.connection("ChangeConnection", "Change", "changes", source, first, group, args)

    def obj(self, type_name: str, group: Group, owner: str | None = None) -> Obj:
        """The object's selection; ``owner``: the kind of list or object it is (an external
        identifier's page depends on what it identifies, a date's columns on which date)."""
        fields: list[tuple[str, Field]] = []
        for key, subgroup in self.subfields(type_name, group):
            fields.append((key, self.field(type_name, subgroup, owner)))
        return Obj(type_name, tuple(fields))

    def field(self, type_name: str, group: Group, owner: str | None = None) -> Field:
        name = group[0].node.name.value
        if name == "__typename":
            return Typename(type_name)
        if name == "id" and type_name in TABLES:
            return GlobalId()
        prefix = "until_" if owner == "event_until" else ""  # PartialDate: which columns
        column = SCALARS.get(type_name, {}).get(name)
        if column is not None:
            return Column(prefix + column)
        decoded = DECODED.get((type_name, name))
        if decoded is not None:
            return decoded
        if type_name == "PartialDate" and name in ("precision", "text"):
            return Computed(name, prefix)  # type: ignore[arg-type]
        if type_name == "WorkPart" and name == "label":
            return Computed("label")
        if (type_name, name) in FORM_LISTS or type_name in ("Title", "Name"):
            return self.form_field(type_name, name, group)
        if type_name == "Work" and name == "forms":
            return Strings("forms")
        if type_name == "Work" and name == "audience":
            return Audience()
        if type_name == "Work" and name == "alternativeTitles":
            return Strings("alternative_titles")
        if type_name == "Person" and name == "alternativeNames":
            return Strings("alternative_names")
        child = CHILD_LISTS.get((type_name, name))
        if child is not None:
            kind, element_type = child
            return Children(kind, self.obj(element_type, group, kind))
        ref = REFS.get((type_name, name))
        if ref is not None:
            ref_kind, ref_type = ref
            return Ref(ref_kind, self.obj(ref_type, group, ref_kind))
        if type_name in ("Work", "Person") and name == "attributions":
            cited: Literal["work_attributions", "person_attributions"] = (
                "work_attributions" if type_name == "Work" else "person_attributions"
            )
            return Attributions(cited, self.obj("Attribution", group, cited))
        if type_name == "Attribution" and name == "sources" and owner == "work_attributions":
            return Children("work_attribution_sources", self.obj("Source", group))
        if type_name == "Attribution" and name == "sources" and owner == "person_attributions":
            return Children("person_attribution_sources", self.obj("Source", group))
        if type_name == "ExternalId" and name == "url" and owner in EXTERNAL_OWNERS:
            return ExternalUrl(EXTERNAL_OWNERS[owner])
        if type_name in PARENTS and name == "works":
            return self.nested_works(type_name, group)
        if type_name == "Work" and name == "similar":
            args = self.arguments(type_name, group)
            first = self.page_size(args)
            list_name = "work.similar"  # as gql.types.similar
            return self.connection(
                "WorkConnection", "Work", list_name, SimilarList(), first, group, args
            )
        raise Unsupported(f"{type_name}.{name}")

    def form_field(self, type_name: str, name: str, group: Group) -> Field:
        """``Work.titles``, ``Person.names`` and the fields of their forms."""
        forms = FORM_LISTS.get((type_name, name))
        if forms is not None:
            kind, form_type = forms
            return Forms(kind, self.obj(form_type, group))
        if name == "sources":
            return FormSources(self.obj("Source", group))
        if name in FORM_VALUES:
            return Column(name)
        raise Unsupported(f"{type_name}.{name}")

    def nested_works(self, type_name: str, group: Group) -> Connection:
        """``person.works`` / ``theme.works`` / ``studio.works``, with the arguments
        ``gql.types.nested`` takes."""
        args = self.arguments(type_name, group)
        parent = PARENTS[type_name]
        first = self.page_size(args)
        orders = self.orders(args.get("orderBy"), q.FILMOGRAPHY_ORDER)
        work_filter = self.work_filter(args.get("filter"))
        kind = args.get("kind")
        if kind is not None:  # as gql.types.nested: one more condition, like `filter.kind`
            base = work_filter or q.WorkFilter()
            kinds = (kind,) if base.kinds is None else tuple(k for k in base.kinds if k == kind)
            work_filter = dataclasses.replace(base, kinds=kinds)
        source = WorkList(parent, args.get("role"), work_filter, orders)
        list_name = f"{parent}.works"
        return self.connection("WorkConnection", "Work", list_name, source, first, group, args)

    def connection(
        self,
        connection_type: str,
        node_type: str,
        list_name: str,
        source: ListSource,
        first: tuple[int, bool],
        group: Group,
        args: dict[str, Any],
    ) -> Connection:
        after = self.cursor(args.get("after"), list_name, source, "after")
        before = self.cursor(args.get("before"), list_name, source, "before")
        facets: list[Obj] = []
        fields: list[tuple[str, ConnectionField]] = []
        nodes: list[Obj] = []
        for key, subgroup in self.subfields(connection_type, group):
            name = subgroup[0].node.name.value
            if name == "__typename":
                fields.append((key, Typename(connection_type)))
            elif name == "totalCount":
                fields.append((key, TotalCount()))
            elif name == "nodes":
                nodes.append(self.obj(node_type, subgroup))
                fields.append((key, Nodes(len(nodes) - 1)))
            elif name == "edges":
                edge_type = f"{node_type}Edge"
                edge_fields: list[tuple[str, EdgeField]] = []
                for edge_key, edge_group in self.subfields(edge_type, subgroup):
                    edge_name = edge_group[0].node.name.value
                    if edge_name == "__typename":
                        edge_fields.append((edge_key, Typename(edge_type)))
                    elif edge_name == "cursor":
                        edge_fields.append((edge_key, Cursor()))
                    elif edge_name == "node":
                        nodes.append(self.obj(node_type, edge_group))
                        edge_fields.append((edge_key, EdgeNode(len(nodes) - 1)))
                    else:
                        raise Unsupported(f"{edge_type}.{edge_name}")
                fields.append((key, Edges(tuple(edge_fields))))
            elif name == "facets" and isinstance(source, SimilarList):
                raise Unsupported("similar.facets")  # null there: not compiled
            elif name == "facets" and connection_type == "WorkConnection":
                facets.append(self.facets(subgroup))
                fields.append((key, Facets(len(facets) - 1)))
            elif name == "pageInfo":
                info_fields: list[tuple[str, PageInfoField]] = []
                for info_key, info_group in self.subfields("PageInfo", subgroup):
                    info_name = info_group[0].node.name.value
                    if info_name not in PAGE_INFO_FIELDS:
                        raise Unsupported(f"PageInfo.{info_name}")
                    info_fields.append((info_key, info_name))  # type: ignore[arg-type]
                fields.append((key, PageInfo(tuple(info_fields))))
            else:
                raise Unsupported(f"{connection_type}.{name}")
        size, backward = first
        return Connection(
            list_name,
            source,
            size,
            tuple(fields),
            tuple(nodes),
            after,
            before,
            backward,
            tuple(facets),
        )

    def facets(self, group: Group) -> Obj:
        """A ``WorkFacets`` selection (``gql.types.facets``)."""
        fields: list[tuple[str, Field]] = []
        for key, subgroup in self.subfields("WorkFacets", group):
            name = subgroup[0].node.name.value
            if name == "__typename":
                fields.append((key, Typename("WorkFacets")))
            elif name in ("kinds", "decades"):
                count_type = "KindCount" if name == "kinds" else "DecadeCount"
                fields.append((key, FacetList(name, self.obj(count_type, subgroup))))  # type: ignore[arg-type]
            elif name == "themes":
                first = self.arguments("WorkFacets", subgroup).get("first")
                if not isinstance(first, int) or not 0 <= first <= MAX_THEME_FACETS:
                    raise Unsupported("facets.themes.first")  # the resolver answers the error
                fields.append((key, FacetList("themes", self.obj("ThemeCount", subgroup), first)))
            else:
                raise Unsupported(f"WorkFacets.{name}")
        return Obj("WorkFacets", tuple(fields))

    # -- arguments, checked as the resolvers check them

    def page_size(self, args: dict[str, Any]) -> tuple[int, bool]:
        """The page's size and whether it is a backward one (``last``), as
        ``gql.pagination.PageArguments.request`` decides; the resolvers answer the errors."""
        first, last = args.get("first"), args.get("last")
        if first is not None and last is not None:
            raise Unsupported("first and last")
        for value in (first, last):
            if value is not None and (
                not isinstance(value, int) or value < 0 or value > self.max_page_size
            ):
                raise Unsupported("first or last")
        if first is None and last is None:
            if args.get("before") is not None and args.get("after") is None:
                return self.default_page_size, True
            return self.default_page_size, False
        if first is not None:
            return first, False
        assert isinstance(last, int)
        return last, True

    @staticmethod
    def cursor(
        raw: Any, list_name: str, source: ListSource, argument: str
    ) -> tuple[Any, ...] | None:
        """The decoded ``after`` or ``before`` cursor (as ``gql.pagination``); the resolvers
        answer a bad one (INVALID_CURSOR)."""
        if raw is None:
            return None
        try:
            return decode_cursor(raw, list_name, ordering_of(source), argument)
        except ApiError as error:
            raise Unsupported(argument) from error

    @staticmethod
    def orders(raw: Any, default: tuple[q.WorkOrder, ...]) -> tuple[q.WorkOrder, ...]:
        if raw is None:
            return default
        given = [WorkOrder(field=o["field"], direction=o["direction"]) for o in raw]
        try:
            return work_orders(given, default)
        except ApiError as error:
            raise Unsupported("orderBy") from error

    @staticmethod
    def work_filter(raw: Any) -> q.WorkFilter | None:
        if raw is None:
            return None
        try:
            converted = WorkFilter(**{WORK_FILTER_NAMES[k]: v for k, v in raw.items()}).to_db()
        except ApiError as error:
            raise Unsupported("filter") from error
        return converted

    @staticmethod
    def person_filter(raw: Any) -> tuple[CreditRole | None, str | None]:
        """The role and search of a people list's filter."""
        if raw is None:
            return None, None
        names = {"role": "role", "search": "search"}
        try:
            converted = PersonFilter(**{names[k]: v for k, v in raw.items()}).to_db()
        except ApiError as error:
            raise Unsupported("filter") from error
        return converted.role, converted.search


def plan_operation(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    raw_variables: dict[str, Any] | None,
    *,
    default_page_size: int,
    max_page_size: int,
    sqlite: bool = False,
    editor: bool = False,
) -> Plan | None:
    """The plan of the operation the executor would run, or None if it is not covered.
    ``sqlite``: only plans whose statements SQLite's parser can take (``sqlite_can_parse``);
    ``editor``: the request holds the editor permission (without it, an operation asking for
    an ``EDITOR_ROOTS`` field is not planned: the resolvers refuse it)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation != OperationType.QUERY:
        return None
    fragments = {
        d.name.value: FragmentDetails(d)
        for d in document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    if any(d.definition.variable_definitions for d in fragments.values()):
        return None  # fragment variables (experimental): not compiled
    variables = get_variable_values(
        schema, operation.variable_definitions or (), raw_variables or {}
    )
    if isinstance(variables, list):
        return None  # the executor answers the coercion errors
    planner = Planner(
        schema, fragments, variables, operation, default_page_size, max_page_size, editor
    )
    try:
        plan = planner.plan()
    except (Unsupported, RecursionError):
        return None
    if not fits(plan) or (sqlite and not sqlite_can_parse(plan)):
        return None
    return plan


FORM_WIDTH = 7  # a stated form's values before its sources: position, then FORM_VALUES but one


def _obj_width(obj: Obj) -> int:
    return obj.width + 1  # and the leading id or ordinal


def _fits_obj(obj: Obj) -> bool:
    if _obj_width(obj) > MAX_VALUES:
        return False
    for _, field in obj.fields:
        if isinstance(
            field, Children | Attributions | FacetList | Ref | Forms | FormSources
        ) and not _fits_obj(field.node):
            return False
        if isinstance(field, Forms) and FORM_WIDTH + len(field.sources) > MAX_VALUES:
            return False
        if isinstance(field, Connection) and not _fits_connection(field):
            return False
    return True


def _fits_connection(connection: Connection) -> bool:
    width = 1 + sum(_obj_width(o) for o in connection.nodes) + len(connection.ordering.keys)
    return (
        width <= MAX_VALUES
        and 3 + len(connection.facets) <= MAX_VALUES
        and all(_fits_obj(o) for o in (*connection.nodes, *connection.facets))
    )


def fits(plan: Plan) -> bool:
    """Whether every JSON array the plan builds stays within the functions' argument limit."""
    for _, root in plan.roots:
        if isinstance(root, RootObject) and not _fits_obj(root.node):
            return False
        if isinstance(root, RootNodes) and not (
            len(root.ids) <= MAX_VALUES and all(_fits_obj(n) for n in root.lookup.nodes)
        ):
            return False
        if isinstance(root, Connection) and not _fits_connection(root):
            return False
        if isinstance(root, SearchRoot) and not _fits_search(root):
            return False
    return True


SEARCH_NAMES = 3  # the values matchedText reads of a found record (a work's title, …)


def _fits_search(root: SearchRoot) -> bool:
    """A found record's array: its id, rank, similarity and name key, each selection's values
    (of its type), and its names."""
    for kind in range(len(SEARCH_TYPES)):
        width = 4 + sum(_obj_width(node[kind]) for node in root.nodes) + SEARCH_NAMES
        if width > MAX_VALUES:
            return False
    return all(_fits_obj(node) for selection in root.nodes for node in selection)


# SQLite's parser has a fixed stack (YYSTACKDEPTH, 100 before 3.46): deeply nested subqueries
# overflow it. On 3.40, with the widest filters and every kind of list at each level, up to
# 2 pages (connections) on a path and 3 lists (pages and object lists) in all parse; so do
# cursors (``after`` and ``before`` on both pages, with their probes), ``facets`` and
# ``similar`` pages anywhere within those limits (measured: the parser's error comes before
# any table is looked up, so an empty database tells). A list with a search condition counts
# as two pages (``_searched``): one at the deepest place overflows the parser.
SQLITE_MAX_PAGES = 2
SQLITE_MAX_LISTS = 3
# A search's found records are read below its candidates' statement (itself nested: the FTS
# lookups, the vocabulary's rarest trigrams), as deep as a page.
SEARCH_PAGES = 1


def _nesting_ok(obj: Obj, pages: int, lists: int) -> bool:
    for _, field in obj.fields:
        # a to-one object is a subquery too; forms are a list, and so are their sources
        if isinstance(field, Children | Ref | Forms | FormSources):
            lists_here = lists + 1
            if pages + lists_here > SQLITE_MAX_LISTS or not _nesting_ok(
                field.node, pages, lists_here
            ):
                return False
        elif isinstance(field, Attributions):  # a derived table, as deep as a page
            if pages + 1 > SQLITE_MAX_PAGES or pages + 1 + lists > SQLITE_MAX_LISTS:
                return False
            if not _nesting_ok(field.node, pages + 1, lists):
                return False
        elif isinstance(field, Connection) and not _connection_nesting_ok(field, pages, lists):
            return False
    return True


def _searched(source: ListSource) -> bool:
    """Whether a list has a search condition: on SQLite a nest of subqueries (the FTS
    lookups, the vocabulary's rarest trigrams) as deep as a page of its own."""
    if isinstance(source, WorkList):
        return source.filter is not None and source.filter.search is not None
    return isinstance(source, PersonList) and source.search is not None


def _connection_nesting_ok(connection: Connection, pages: int, lists: int) -> bool:
    pages += 2 if _searched(connection.source) else 1
    if pages > SQLITE_MAX_PAGES or pages + lists > SQLITE_MAX_LISTS:
        return False
    return all(_nesting_ok(node, pages, lists) for node in connection.nodes)


def sqlite_can_parse(plan: Plan) -> bool:
    """Whether the plan's statements nest shallowly enough for SQLite's parser."""
    for _, root in plan.roots:
        if isinstance(root, RootObject) and not _nesting_ok(root.node, 0, 0):
            return False
        if isinstance(root, RootNodes) and not all(
            _nesting_ok(node, 0, 1)
            for node in root.lookup.nodes  # each ID a subquery
        ):
            return False
        if isinstance(root, Connection) and not _connection_nesting_ok(root, 0, 0):
            return False
        if isinstance(root, SearchRoot) and not all(
            _nesting_ok(node, SEARCH_PAGES, 0) for selection in root.nodes for node in selection
        ):
            return False
    return True


def asks_editor_roots(document: DocumentNode, operation_name: str | None) -> bool:
    """Whether the operation selects an ``EDITOR_ROOTS`` field at its root (through fragments
    too; ``@skip``/``@include`` not evaluated: asking is enough), read from the document alone,
    before anything is planned or read."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return False
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    seen: set[str] = set()
    pending = [operation.selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                if selection.name.value in EDITOR_ROOTS:
                    return True
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in seen and name in fragments:
                    seen.add(name)
                    pending.append(fragments[name].selection_set)
    return False
