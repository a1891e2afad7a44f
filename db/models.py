"""The catalog's tables, as SQLAlchemy 2 models.

Every relationship is ``lazy="raise"``: implicit IO fails loudly, so all loading is explicit
(in ``db.queries`` and the request loaders). Link tables use composite keys. Statements carry
their provenance: record-level ``*_sources``, field-level ``*_field_sources`` and per-credit
``credit_sources`` all point at ``sources``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import (
    Mapped,
    MappedColumn,
    declared_attr,
    mapped_column,
    relationship,
    validates,
)

from db.base import Base
from db.enums import (
    Audience,
    CreditRole,
    EventKind,
    ExternalSystem,
    PartUnit,
    Qualifier,
    RomanizationSystem,
    Statement,
    TitleKind,
    WorkForm,
    WorkKind,
    WorkRelationType,
)
from db.text import SORT_KEY_LENGTH, sort_key

YEAR_MIN = 1888  # the first surviving motion picture
YEAR_MAX = 2100

SLUG_LENGTH = 200
TEXT_LENGTH = 500
URL_LENGTH = 2000
LANGUAGE_TAG_LENGTH = 35  # BCP 47: "ko", "en", "fr", "ko-Latn"
SCRIPT_CODE_LENGTH = 4  # ISO 15924: "Hang", "Latn"


def _key_column(length: int) -> String:
    """A sort-key column: byte-wise ("C") collation on PostgreSQL, as SQLite's BINARY."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


def _search_text_column() -> MappedColumn[str]:
    """A record's search document: compared in SQL only, never served, so not loaded with
    the row (reading it from an entity raises; ``undefer`` it where it is wanted)."""
    return mapped_column(Text, default="", deferred=True, deferred_raiseload=True)


def _enum(enum_cls: type, name: str) -> Enum:
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        validate_strings=True,
    )


def _owned_by(table: str) -> MappedColumn[int]:
    """The key of a row that belongs to a work or a person (``table``): the first column of
    the row's primary key, and the row goes when its owner does."""
    return mapped_column(ForeignKey(f"{table}.id", ondelete="CASCADE"), primary_key=True)


class _Citation:
    """A source the record (a work's or a person's row, keyed first) cites, in order."""

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), primary_key=True)
    position: Mapped[int] = mapped_column()


class _FieldCitation:
    """A source stating one field of a record (a work's or a person's row, keyed first)."""

    field: Mapped[str] = mapped_column(String(40), primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), primary_key=True)
    position: Mapped[int] = mapped_column()


EXTERNAL_ID_LENGTH = 40


class _ExternalId:
    """A record's identifier in an outside database (a work's or a person's row, keyed
    first): at most one per system, and each identifier names one record."""

    system: Mapped[ExternalSystem] = mapped_column(
        _enum(ExternalSystem, "external_system"), primary_key=True
    )
    value: Mapped[str] = mapped_column(String(EXTERNAL_ID_LENGTH))

    @declared_attr.directive
    def __table_args__(cls) -> tuple[UniqueConstraint]:
        return (UniqueConstraint("system", "value"),)  # a constraint of each table's own


class Source(Base):
    """Where statements come from: the seed document, a reference page, a curator."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    url: Mapped[str | None] = mapped_column(String(URL_LENGTH))


class Theme(Base):
    __tablename__ = "themes"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(SLUG_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    name_key: Mapped[str] = mapped_column(_key_column(SORT_KEY_LENGTH))
    description: Mapped[str | None] = mapped_column(Text)
    search_text: Mapped[str] = _search_text_column()
    # optimistic concurrency: an update names the version it read (db.curation)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __table_args__ = (Index("ix_themes_name_key_id", "name_key", "id"),)

    @validates("name")
    def _set_name_key(self, _key: str, name: str) -> str:
        self.name_key = sort_key(name)
        return name


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(SLUG_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    name_key: Mapped[str] = mapped_column(_key_column(SORT_KEY_LENGTH))
    original_name: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    biography: Mapped[str | None] = mapped_column(Text)
    search_text: Mapped[str] = _search_text_column()
    # optimistic concurrency: an update names the version it read (db.curation)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    alternative_names: Mapped[list[PersonAlternativeName]] = relationship(
        lazy="raise", order_by="PersonAlternativeName.position", cascade="all, delete-orphan"
    )

    __table_args__ = (Index("ix_people_name_key_id", "name_key", "id"),)

    @validates("name")
    def _set_name_key(self, _key: str, name: str) -> str:
        self.name_key = sort_key(name)
        return name


class Work(Base):
    __tablename__ = "works"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(SLUG_LENGTH), unique=True)
    title: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    title_key: Mapped[str] = mapped_column(_key_column(SORT_KEY_LENGTH))
    original_title: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    kind: Mapped[WorkKind] = mapped_column(_enum(WorkKind, "work_kind"))
    year: Mapped[int | None] = mapped_column(Integer)
    synopsis: Mapped[str | None] = mapped_column(Text)
    search_text: Mapped[str] = _search_text_column()
    # optimistic concurrency: an update names the version it read (db.curation)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The work's theme tags as ``[[position, theme id], ...]``, kept by the database's
    # triggers (migration 0010) from ``work_themes`` after every statement that writes them.
    # On PostgreSQL the compiled read path reads a work's themes from here, on the row it
    # reads anyway, instead of probing work_themes' index per work (SQLite reads the index:
    # its JSON functions measured no faster). Bulk writers may store it with the work
    # (the array the triggers would compute) to spare the rewrite; nothing else writes it.
    # Deferred: the ORM never needs it.
    theme_ids: Mapped[list[list[int]]] = mapped_column(
        JSON().with_variant(JSONB(), "postgresql"), server_default="[]", deferred=True
    )

    alternative_titles: Mapped[list[WorkAlternativeTitle]] = relationship(
        lazy="raise", order_by="WorkAlternativeTitle.position", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint(f"year BETWEEN {YEAR_MIN} AND {YEAR_MAX}", name="year_range"),
        Index("ix_works_title_key_id", "title_key", "id"),
        Index("ix_works_year_id", "year", "id"),
        Index("ix_works_kind", "kind"),
    )

    @validates("title")
    def _set_title_key(self, _key: str, title: str) -> str:
        self.title_key = sort_key(title)
        return title


class WorkAlternativeTitle(Base):
    __tablename__ = "work_alternative_titles"

    work_id: Mapped[int] = _owned_by("works")
    position: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(TEXT_LENGTH))


class PersonAlternativeName(Base):
    __tablename__ = "person_alternative_names"

    person_id: Mapped[int] = _owned_by("people")
    position: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(TEXT_LENGTH))


class Credit(Base):
    """A person's part in a work; ``position`` is the billing order within the work."""

    __tablename__ = "credits"

    work_id: Mapped[int] = _owned_by("works")
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    role: Mapped[CreditRole] = mapped_column(_enum(CreditRole, "credit_role"), primary_key=True)
    position: Mapped[int] = mapped_column()
    # The work's sort keys (``db.queries.work_ordering``: year unknown, year, title), copied
    # here by the database's triggers (migration 0008) on every insert and every change of
    # the work, never written by the application. With them a person's works in a role come
    # in order from one index, and a page of 10 reads 10 credits, however many works the
    # person has (``db.queries.limited_credit_links``).
    work_year_unknown: Mapped[int] = mapped_column(Integer, server_default="0")
    work_year: Mapped[int] = mapped_column(Integer, server_default="0")
    work_title_key: Mapped[str] = mapped_column(_key_column(SORT_KEY_LENGTH), server_default="")
    # And what a page of the person's works shows of each (migration 0011): the work's title
    # and its ``theme_ids``, kept the same way. The compiled read path reads a page that
    # shows no more than these (and what hangs from the work's id) from the index below
    # alone, without fetching the works. Deferred: the ORM never needs them.
    work_title: Mapped[str] = mapped_column(String(TEXT_LENGTH), server_default="", deferred=True)
    work_theme_ids: Mapped[list[list[int]]] = mapped_column(
        JSON().with_variant(JSONB(), "postgresql"), server_default="[]", deferred=True
    )

    # What a reference adds to the credit (migration 0012): a note ("holds the screen
    # credit"), a hedge, and the episodes it covers (a writer of episodes 51–100).
    note: Mapped[str | None] = mapped_column(Text)
    qualifier: Mapped[Qualifier | None] = mapped_column(_enum(Qualifier, "qualifier"))
    episodes_first: Mapped[int | None] = mapped_column(Integer)
    episodes_last: Mapped[int | None] = mapped_column(Integer)

    work: Mapped[Work] = relationship(lazy="raise")
    person: Mapped[Person] = relationship(lazy="raise")

    __table_args__ = (
        CheckConstraint(
            "(episodes_first IS NULL AND episodes_last IS NULL) OR "
            "(episodes_first >= 1 AND episodes_last >= episodes_first)",
            name="episode_range",
        ),
        # covering and ordered: a person's works in a role, in the works' default order, with
        # what a page shows of them (``work_title`` after the unique ``work_id`` changes no
        # order; SQLite reads a work's themes elsewhere, so only PostgreSQL's holds the array)
        Index(
            "ix_credits_person_id_role_work_page",
            "person_id",
            "role",
            "work_year_unknown",
            "work_year",
            "work_title_key",
            "work_id",
            "work_title",
            postgresql_include=["work_theme_ids"],
        ),
        # ordered: a person's works in any role (migration 0020), each work's credits
        # adjacent, so that a page is the index's next entries, grouped by work
        Index(
            "ix_credits_person_id_work_order",
            "person_id",
            "work_year_unknown",
            "work_year",
            "work_title_key",
            "work_id",
        ),
        Index("uq_credits_work_id_position", "work_id", "position", unique=True),
    )


class CreditSource(Base):
    __tablename__ = "credit_sources"

    work_id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[CreditRole] = mapped_column(_enum(CreditRole, "credit_role"), primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), primary_key=True)
    position: Mapped[int] = mapped_column()

    __table_args__ = (
        ForeignKeyConstraint(
            ["work_id", "person_id", "role"],
            ["credits.work_id", "credits.person_id", "credits.role"],
            ondelete="CASCADE",
        ),
    )


class WorkTheme(Base):
    """A work tagged with a theme; ``position`` keeps the order the catalog states."""

    __tablename__ = "work_themes"

    work_id: Mapped[int] = _owned_by("works")
    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id"), primary_key=True)
    position: Mapped[int] = mapped_column()
    # The theme's slug, copied here by the database's triggers (migration 0009) on every
    # insert and every change of the theme's slug, never written by the application. A
    # filter by theme slugs is then a condition on a column the planner has per-value
    # statistics for: it walks the title index for a common theme, this table for a rare one
    # (``db.queries.work_conditions``).
    theme_slug: Mapped[str] = mapped_column(String(SLUG_LENGTH), server_default="")

    __table_args__ = (
        Index("ix_work_themes_theme_id", "theme_id"),
        # covering: a work's themes, in order, are read from the index alone
        Index("ix_work_themes_work_id_position_theme_id", "work_id", "position", "theme_id"),
        # the works tagged with a theme named by slug, and "is this work tagged with it?"
        Index("ix_work_themes_theme_slug_work_id", "theme_slug", "work_id"),
    )


class WorkRelation(Base):
    """Reads "work <type> related work", e.g. The Flower Girl's Youth EXTENDS The Flower Girl."""

    __tablename__ = "work_relations"

    work_id: Mapped[int] = _owned_by("works")
    related_work_id: Mapped[int] = mapped_column(ForeignKey("works.id"), primary_key=True)
    type: Mapped[WorkRelationType] = mapped_column(
        _enum(WorkRelationType, "work_relation_type"), primary_key=True
    )
    position: Mapped[int] = mapped_column()

    __table_args__ = (
        CheckConstraint("work_id <> related_work_id", name="not_self"),
        Index("ix_work_relations_related_work_id", "related_work_id"),
    )


class WorkSource(_Citation, Base):
    """A source the work's record draws on (record-level citation)."""

    __tablename__ = "work_sources"

    work_id: Mapped[int] = _owned_by("works")


class PersonSource(_Citation, Base):
    __tablename__ = "person_sources"

    person_id: Mapped[int] = _owned_by("people")


class WorkFieldSource(_FieldCitation, Base):
    """A source stating one field of a work (field-level citation)."""

    __tablename__ = "work_field_sources"

    work_id: Mapped[int] = _owned_by("works")


class PersonFieldSource(_FieldCitation, Base):
    __tablename__ = "person_field_sources"

    person_id: Mapped[int] = _owned_by("people")


class Dispute(Base):
    """A statement on record that a reference contradicts; both sides are kept."""

    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column()
    field: Mapped[str] = mapped_column(String(40))
    stated: Mapped[str] = mapped_column(Text)
    reported: Mapped[str] = mapped_column(Text)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    note: Mapped[str | None] = mapped_column(Text)
    # how the reference hedges what it reports ("some say 1968"; migration 0012)
    qualifier: Mapped[Qualifier | None] = mapped_column(_enum(Qualifier, "qualifier"))

    __table_args__ = (Index("uq_disputes_work_id_position", "work_id", "position", unique=True),)


class DisputePerson(Base):
    """A person a dispute's reported side names, in the role the reference gives them: the
    work then shows on their page as *reported*, apart from what they are credited with."""

    __tablename__ = "dispute_people"

    dispute_id: Mapped[int] = mapped_column(
        ForeignKey("disputes.id", ondelete="CASCADE"), primary_key=True
    )
    # a person deleted takes their place in disputes with them (the reported text stays)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[CreditRole] = mapped_column(_enum(CreditRole, "credit_role"), primary_key=True)
    position: Mapped[int] = mapped_column()

    # a person's reported works, read by person
    __table_args__ = (Index("ix_dispute_people_person_id", "person_id"),)


class _Form:
    """One typed form of a work's title or a person's name, stated by its own sources
    (``*_sources``, keyed by the owner and ``position``): migration 0012."""

    position: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    kind: Mapped[TitleKind] = mapped_column(_enum(TitleKind, "title_kind"))
    language: Mapped[str | None] = mapped_column(String(LANGUAGE_TAG_LENGTH))
    script: Mapped[str | None] = mapped_column(String(SCRIPT_CODE_LENGTH))
    romanization: Mapped[RomanizationSystem | None] = mapped_column(
        _enum(RomanizationSystem, "romanization_system")
    )
    qualifier: Mapped[Qualifier | None] = mapped_column(_enum(Qualifier, "qualifier"))


class WorkTitle(_Form, Base):
    """A title of a work: main, original, alternative, translation or transliteration."""

    __tablename__ = "work_titles"

    work_id: Mapped[int] = _owned_by("works")


class PersonName(_Form, Base):
    """A form of a person's name: main, original (Hangul), alternative spellings."""

    __tablename__ = "person_names"

    person_id: Mapped[int] = _owned_by("people")


class WorkTitleSource(Base):
    """A source stating one title of a work."""

    __tablename__ = "work_title_sources"

    work_id: Mapped[int] = mapped_column(primary_key=True)
    title_position: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), primary_key=True)
    position: Mapped[int] = mapped_column()

    __table_args__ = (
        ForeignKeyConstraint(
            ["work_id", "title_position"],
            ["work_titles.work_id", "work_titles.position"],
            ondelete="CASCADE",
        ),
    )


class PersonNameSource(Base):
    """A source stating one form of a person's name."""

    __tablename__ = "person_name_sources"

    person_id: Mapped[int] = mapped_column(primary_key=True)
    name_position: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), primary_key=True)
    position: Mapped[int] = mapped_column()

    __table_args__ = (
        ForeignKeyConstraint(
            ["person_id", "name_position"],
            ["person_names.person_id", "person_names.position"],
            ondelete="CASCADE",
        ),
    )


class WorkRelationSource(Base):
    """A source stating a relation between two works."""

    __tablename__ = "relation_sources"

    work_id: Mapped[int] = mapped_column(primary_key=True)
    related_work_id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[WorkRelationType] = mapped_column(
        _enum(WorkRelationType, "work_relation_type"), primary_key=True
    )
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), primary_key=True)
    position: Mapped[int] = mapped_column()

    __table_args__ = (
        ForeignKeyConstraint(
            ["work_id", "related_work_id", "type"],
            ["work_relations.work_id", "work_relations.related_work_id", "work_relations.type"],
            ondelete="CASCADE",
        ),
    )


class WorkExternalId(_ExternalId, Base):
    """A work's identifier in an outside database (IMDb, Wikidata)."""

    __tablename__ = "work_external_ids"

    work_id: Mapped[int] = _owned_by("works")


class PersonExternalId(_ExternalId, Base):
    """A person's identifier in an outside database (IMDb, Wikidata)."""

    __tablename__ = "person_external_ids"

    person_id: Mapped[int] = _owned_by("people")


# -- structure: studios, forms, audience, parts, dated events, origins (issue #22) -----------
# A work's parts, events, origins and studio credits are ordered lists keyed (work, position),
# like its other lists; each value cites its own sources in ``work_statement_sources``.

ROLE_LENGTH = 100


class Studio(Base):
    """A film studio or production company that references name."""

    __tablename__ = "studios"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(SLUG_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    name_key: Mapped[str] = mapped_column(_key_column(SORT_KEY_LENGTH))
    original_name: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))

    __table_args__ = (Index("ix_studios_name_key_id", "name_key", "id"),)

    @validates("name")
    def _set_name_key(self, _key: str, name: str) -> str:
        self.name_key = sort_key(name)
        return name


class StudioSource(_Citation, Base):
    """A source the studio's record draws on."""

    __tablename__ = "studio_sources"

    studio_id: Mapped[int] = _owned_by("studios")


class WorkFormRow(Base):
    """One of a work's forms (feature, animation, ...), in the order stated; the sources
    stating them are the work's field citations for ``forms``."""

    __tablename__ = "work_forms"

    work_id: Mapped[int] = _owned_by("works")
    position: Mapped[int] = mapped_column(primary_key=True)
    form: Mapped[WorkForm] = mapped_column(_enum(WorkForm, "work_form"))


class WorkAudience(Base):
    """A work's audience, where a source states one (field citations: ``audience``). A
    table of its own, one row per work at most, so that ``works`` (whose rows the
    database's triggers keep copies of) is not rebuilt for it."""

    __tablename__ = "work_audiences"

    work_id: Mapped[int] = _owned_by("works")
    audience: Mapped[Audience] = mapped_column(_enum(Audience, "audience"))


class WorkPart(Base):
    """A part of a work, or a range of them: "episodes 1-50", "part 1", "parts 2-5"."""

    __tablename__ = "work_parts"

    work_id: Mapped[int] = _owned_by("works")
    position: Mapped[int] = mapped_column(primary_key=True)
    unit: Mapped[PartUnit] = mapped_column(_enum(PartUnit, "part_unit"))
    first_number: Mapped[int] = mapped_column(Integer)
    last_number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))

    __table_args__ = (
        CheckConstraint("first_number >= 1 AND last_number >= first_number", name="range"),
    )


class WorkEvent(Base):
    """Something that happened to a work (or to one of its parts: ``part_position``) on a
    date known to the year, month or day, possibly until another date, somewhere."""

    __tablename__ = "work_events"

    work_id: Mapped[int] = _owned_by("works")
    position: Mapped[int] = mapped_column(primary_key=True)
    part_position: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[EventKind] = mapped_column(_enum(EventKind, "event_kind"))
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int | None] = mapped_column(Integer)
    day: Mapped[int | None] = mapped_column(Integer)
    until_year: Mapped[int | None] = mapped_column(Integer)
    until_month: Mapped[int | None] = mapped_column(Integer)
    until_day: Mapped[int | None] = mapped_column(Integer)
    place: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    qualifier: Mapped[Qualifier | None] = mapped_column(_enum(Qualifier, "qualifier"))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        ForeignKeyConstraint(
            ["work_id", "part_position"],
            ["work_parts.work_id", "work_parts.position"],
            ondelete="CASCADE",
        ),
        CheckConstraint(f"year BETWEEN {YEAR_MIN} AND {YEAR_MAX}", name="year_range"),
        CheckConstraint("month BETWEEN 1 AND 12", name="month"),
        CheckConstraint("day BETWEEN 1 AND 31", name="day"),
        CheckConstraint("day IS NULL OR month IS NOT NULL", name="day_needs_month"),
    )


class WorkOrigin(Base):
    """Something that is not a film which a work adapts: an opera, a tale, a novel."""

    __tablename__ = "work_origins"

    work_id: Mapped[int] = _owned_by("works")
    position: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    original_title: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    form: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    note: Mapped[str | None] = mapped_column(Text)
    qualifier: Mapped[Qualifier | None] = mapped_column(_enum(Qualifier, "qualifier"))


class WorkStudio(Base):
    """A studio credited on a work, in a role ("production")."""

    __tablename__ = "work_studios"

    work_id: Mapped[int] = _owned_by("works")
    position: Mapped[int] = mapped_column(primary_key=True)
    studio_id: Mapped[int] = mapped_column(ForeignKey("studios.id"))
    role: Mapped[str] = mapped_column(String(ROLE_LENGTH))

    __table_args__ = (
        # a studio's works (``Studio.works``), and "is this studio still credited?"
        Index("ix_work_studios_studio_id_work_id", "studio_id", "work_id"),
        UniqueConstraint("work_id", "studio_id", "role"),
    )


class WorkStatementSource(Base):
    """A source stating one value of a work's structure lists: the part, event, origin or
    studio credit (``statement``) at position ``item``."""

    __tablename__ = "work_statement_sources"

    work_id: Mapped[int] = _owned_by("works")
    statement: Mapped[Statement] = mapped_column(_enum(Statement, "statement"), primary_key=True)
    item: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), primary_key=True)
    position: Mapped[int] = mapped_column()


UNKNOWN_YEAR = 0  # the year (and decade) key of works of unknown year in the facet counts


class WorkCount(Base):
    """How many works there are of each kind and year (``UNKNOWN_YEAR``: not known): the
    facets of the whole catalog, or of a kind and year range, add up these few hundred rows
    instead of counting ``works`` (``db.facet_counts``). Kept by the database's triggers in
    the transaction of every write (migration 0016), never written by the application."""

    __tablename__ = "work_counts"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    works: Mapped[int] = mapped_column(Integer)


class ThemeWorkCount(Base):
    """How many works of each kind and decade (``UNKNOWN_YEAR``: not known) are tagged with
    each theme: the top themes of the whole catalog, and the kinds and decades of one
    theme's works, add up these rows (``db.facet_counts``). Kept like ``WorkCount``."""

    __tablename__ = "theme_work_counts"

    theme_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    decade: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    works: Mapped[int] = mapped_column(Integer)


class ThemePairCount(Base):
    """How many works are tagged with both of two themes (a theme with itself: how many it
    tags): the top themes of one theme's works are that theme's rows here, not a count of
    their tags (``db.facet_counts``). Kept like ``WorkCount`` (migration 0019)."""

    __tablename__ = "theme_pair_counts"

    theme_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    other_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    works: Mapped[int] = mapped_column(Integer)


class CatalogState(Base):
    """One row: the catalog's version, bumped by every write that changes it (a seed that
    changed anything). HTTP caching keys responses by it (``ETag``), so it lives in the
    database, where every worker and host sees the same value."""

    __tablename__ = "catalog_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("version >= 1", name="version_positive"),
    )


TOKEN_SCOPES = ("editor", "admin")


class ApiToken(Base):
    """A curator's API token: only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    scope: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (CheckConstraint("scope IN ('editor', 'admin')", name="scope_known"),)


class Change(Base):
    """One change to the catalog: who, when, what, and the record before and after (JSON)."""

    __tablename__ = "changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(100))
    operation: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_slug: Mapped[str] = mapped_column(String(SLUG_LENGTH))
    source_key: Mapped[str | None] = mapped_column(String(SLUG_LENGTH))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_changes_subject", "subject_type", "subject_slug", "id"),)


class PersistedDocument(Base):
    """A GraphQL document known by its SHA-256 (hex, of its UTF-8 text): registered by a client
    (Automatic Persisted Queries) or added by the operator as trusted (``nkcinema documents
    add``). In the database so that every app instance knows what any of them registered."""

    __tablename__ = "persisted_documents"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    trusted: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
