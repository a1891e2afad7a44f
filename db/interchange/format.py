"""The catalog interchange format (``nkcinema-catalog/1``): typed records, parsed from and
serialised to JSON documents.

See ``shared/contract/catalog-format.md``. Beyond it, person and work records may carry
``attributions``: ``{field: [source key, ...]}``, the sources stating each field, and
``externalIds``: ``[{"system": "IMDB", "value": "tt0168937"}, ...]``, at most one per system
(kept in system order), each valid for its system and naming one record only. A work's
structure (``docs/catalog-format-structure.md``: ``forms``, ``audience``, ``parts``,
``events``, ``studios``, ``basedOn``, each value with its own sources) and the top-level
``studios``; statements with their own sources (``docs/catalog-format-extensions.md``): works'
``titles`` and people's ``names`` (typed forms, each with its sources), a credit's ``note``,
``qualifier`` and ``episodes``, a relation's ``sources``, a dispute's ``qualifier`` and
``reportedPeople``. All are optional and written only where they hold something, so documents
without them load, and export the same.

Parsing (``parse_catalog``) is strict (unknown keys are errors, so typos cannot load silently)
and reports every problem with its position, e.g. ``works[3].credits[0].person``. Every string
is checked and normalised by the API's own rules (``db.rules``): what the API stores, a file
can hold, and the other way round. Serialising (``catalog_to_json`` + ``dump_catalog``) is
canonical: records sorted by key or slug, fields in the format's order.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeVar

from db import rules
from db.enums import (
    Audience,
    CreditRole,
    EventKind,
    ExternalSystem,
    PartUnit,
    Qualifier,
    RomanizationSystem,
    TitleKind,
    WorkForm,
    WorkKind,
    WorkRelationType,
)
from db.external_ids import Owner, external_id_problem
from db.models import YEAR_MAX, YEAR_MIN

MAX_EPISODE = 100_000

FORMAT = "nkcinema-catalog/1"

WORK_FIELDS = (
    "title",
    "originalTitle",
    "alternativeTitles",
    "kind",
    "forms",
    "audience",
    "year",
    "synopsis",
    "themes",
    "related",
)
PERSON_FIELDS = ("name", "originalName", "alternativeNames", "biography")
PERSON_KEYS = (
    "slug",
    "name",
    "originalName",
    "alternativeNames",
    "names",
    "biography",
    "sources",
    "externalIds",
    "attributions",
)
WORK_KEYS = (
    "slug",
    "title",
    "originalTitle",
    "alternativeTitles",
    "titles",
    "kind",
    "forms",
    "audience",
    "year",
    "synopsis",
    "credits",
    "themes",
    "related",
    "parts",
    "events",
    "studios",
    "basedOn",
    "sources",
    "disputes",
    "externalIds",
    "attributions",
)
Attributions = dict[str, list[str]]
FORM_KEYS = ("text", "kind", "language", "script", "romanization", "qualifier", "sources")
CREDIT_KEYS = ("person", "role", "sources", "note", "qualifier", "episodes")
DISPUTE_KEYS = ("field", "stated", "reported", "source", "note", "qualifier", "reportedPeople")
LATIN = "Latn"


def _position() -> Any:
    """A record's position in its document (e.g. ``works[3]``); not part of its value."""
    return field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class SourceRecord:
    key: str
    title: str
    url: str | None
    at: str = _position()


@dataclass(frozen=True)
class ThemeRecord:
    slug: str
    name: str
    description: str | None
    at: str = _position()


@dataclass(frozen=True)
class ExternalIdRecord:
    system: ExternalSystem
    value: str
    at: str = _position()


@dataclass(frozen=True)
class FormRecord:
    """One typed form of a work's title or a person's name, with the sources stating it."""

    text: str
    kind: TitleKind
    language: str | None
    script: str | None
    romanization: RomanizationSystem | None
    qualifier: Qualifier | None
    sources: list[str]
    at: str = _position()


@dataclass(frozen=True)
class PersonRecord:
    slug: str
    name: str
    original_name: str | None
    alternative_names: list[str]
    biography: str | None
    sources: list[str]
    attributions: Attributions
    external_ids: list[ExternalIdRecord] = field(default_factory=list)
    at: str = _position()
    names: list[FormRecord] = field(default_factory=list)


@dataclass(frozen=True)
class CreditRecord:
    person: str
    role: CreditRole
    sources: list[str]
    at: str = _position()
    note: str | None = None
    qualifier: Qualifier | None = None
    episodes: tuple[int, int] | None = None  # (first, last)


@dataclass(frozen=True)
class RelationRecord:
    type: WorkRelationType
    work: str
    at: str = _position()
    sources: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReportedPersonRecord:
    """A person a dispute's reported side names, in the role the reference gives them."""

    person: str
    role: CreditRole
    at: str = _position()


@dataclass(frozen=True)
class DisputeRecord:
    field: str
    stated: str
    reported: str
    source: str
    note: str | None
    at: str = _position()
    qualifier: Qualifier | None = None
    # (``dataclasses.field``: this record has a ``field`` of its own)
    reported_people: list[ReportedPersonRecord] = dataclasses.field(default_factory=list)


@dataclass(frozen=True)
class StudioRecord:
    """A studio or production company, with the sources naming it."""

    slug: str
    name: str
    original_name: str | None
    sources: list[str]
    at: str = _position()


@dataclass(frozen=True)
class EventRecord:
    """Something that happened to a work or a part on a (partial) date: ``date`` and
    ``until`` are texts as ``rules.PARTIAL_DATE`` takes them ("2006-08")."""

    kind: EventKind
    date: str
    until: str | None
    place: str | None
    qualifier: Qualifier | None
    note: str | None
    sources: list[str]
    at: str = _position()


@dataclass(frozen=True)
class PartRecord:
    """A part of a work or a range of them (``first``..``last``), with its own events."""

    unit: PartUnit
    first: int
    last: int
    title: str | None
    events: list[EventRecord]
    sources: list[str]
    at: str = _position()


@dataclass(frozen=True)
class OriginRecord:
    """Something that is not a film which the work adapts (an opera, a tale)."""

    title: str
    original_title: str | None
    form: str
    note: str | None
    qualifier: Qualifier | None
    sources: list[str]
    at: str = _position()


@dataclass(frozen=True)
class StudioCreditRecord:
    studio: str
    role: str
    sources: list[str]
    at: str = _position()


@dataclass(frozen=True)
class WorkRecord:
    slug: str
    title: str
    original_title: str | None
    alternative_titles: list[str]
    kind: WorkKind
    year: int | None
    synopsis: str | None
    credits: list[CreditRecord]
    themes: list[str]
    related: list[RelationRecord]
    sources: list[str]
    disputes: list[DisputeRecord]
    attributions: Attributions
    external_ids: list[ExternalIdRecord] = field(default_factory=list)
    forms: list[WorkForm] = field(default_factory=list)
    audience: Audience | None = None
    parts: list[PartRecord] = field(default_factory=list)
    events: list[EventRecord] = field(default_factory=list)
    studios: list[StudioCreditRecord] = field(default_factory=list)
    based_on: list[OriginRecord] = field(default_factory=list)
    at: str = _position()
    titles: list[FormRecord] = field(default_factory=list)


@dataclass(frozen=True)
class KnownNames:
    """What references may point at besides the records of the files being loaded."""

    sources: frozenset[str] = frozenset()
    themes: frozenset[str] = frozenset()
    people: frozenset[str] = frozenset()
    works: frozenset[str] = frozenset()
    studios: frozenset[str] = frozenset()


@dataclass
class Catalog:
    """One interchange document, validated (or a whole exported catalog)."""

    sources: list[SourceRecord] = field(default_factory=list)
    themes: list[ThemeRecord] = field(default_factory=list)
    people: list[PersonRecord] = field(default_factory=list)
    works: list[WorkRecord] = field(default_factory=list)
    studios: list[StudioRecord] = field(default_factory=list)
    declared: KnownNames = field(default_factory=lambda: KnownNames())


@dataclass(frozen=True)
class Problem:
    """One validation failure: where (file and position) and why."""

    file: str
    position: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.position}" if self.position else self.file
        return f"{where}: {self.reason}"


class CatalogError(Exception):
    """A catalog failed validation; nothing from it was written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class _Reported(Exception):
    """A record had problems, already reported; it is left out of the result."""


class _Invalid(Exception):
    def __init__(self, position: str, reason: str) -> None:
        self.position = position
        self.reason = reason


T = TypeVar("T")
E = TypeVar("E", bound=Enum)


@functools.cache
def _members(enum_cls: type[E]) -> Mapping[str, E]:
    """An enum's members by value, built once per enum: reading a catalog looks one up for
    every credit and work."""
    return {member.value: member for member in enum_cls}


class _Reader:
    """Walks one decoded JSON document, collecting problems instead of stopping at the first."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def fail(self, position: str, reason: str) -> None:
        self.problems.append(Problem(self.file, position, reason))

    # -- scalars ----------------------------------------------------------------------------
    def obj(self, value: Any, position: str, allowed: Collection[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _Invalid(position, f"expected an object, got {_type_name(value)}")
        # Key by key, with no set built per object: most objects are valid, and a large
        # catalog has millions of them.
        if any(key not in allowed for key in value):
            unknown = sorted(key for key in value if key not in allowed)
            raise _Invalid(position, f"unknown key(s): {', '.join(unknown)}")
        return value

    def text(
        self, value: Any, position: str, *, rule: rules.Rule = rules.NAME, optional: bool = False
    ) -> str | None:
        """A string checked and normalised by ``rule``: the API's rules (``db.rules``)."""
        if value is None:
            if optional:
                return None
            raise _Invalid(position, "is required")
        if not isinstance(value, str):
            raise _Invalid(position, f"expected a string, got {_type_name(value)}")
        checked = rule(value)
        if isinstance(checked, rules.Problem):
            raise _Invalid(position, checked.message)
        return checked

    def required_text(self, value: Any, position: str, *, rule: rules.Rule = rules.NAME) -> str:
        result = self.text(value, position, rule=rule)
        assert result is not None
        return result

    def slug(self, value: Any, position: str) -> str:
        return self.required_text(value, position, rule=rules.SLUG)

    def source_key(self, value: Any, position: str) -> str:
        return self.required_text(value, position, rule=rules.SOURCE_KEY)

    def enum(self, enum_cls: type[E], value: Any, position: str) -> E:
        members: Mapping[str, E] = _members(enum_cls)
        # `value in members` would raise on an unhashable value (a list, an object).
        member = members.get(value) if isinstance(value, str) else None
        if member is None:
            raise _Invalid(position, f"must be one of {', '.join(members)}; got {value!r}")
        return member

    def items(
        self,
        value: Any,
        position: str,
        read: Callable[[Any, str], T],
        *,
        unique: str | None = None,
    ) -> list[T]:
        """Read a list item by item; a bad item is reported and left out, the rest still read.
        With ``unique``, repeated values are reported (as duplicate ``unique``)."""
        if value is None:
            return []
        if not isinstance(value, list):
            raise _Invalid(position, f"expected a list, got {_type_name(value)}")
        result = []
        seen: set[Any] = set()
        for index, item in enumerate(value):
            at = f"{position}[{index}]"
            try:
                read_value = read(item, at)
            except _Invalid as invalid:
                self.fail(invalid.position, invalid.reason)
                continue
            except _Reported:
                continue
            if unique is not None:
                if read_value in seen:
                    self.fail(at, f"duplicate {unique} {read_value!r}")
                    continue
                seen.add(read_value)
            result.append(read_value)
        return result

    def field(self, read: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Read one field; a problem is reported and the record's other fields still read."""
        try:
            return read(*args, **kwargs)
        except _Invalid as invalid:
            self.fail(invalid.position, invalid.reason)
            return None  # type: ignore[return-value]  # the record is dropped by `finish`

    def finish(self, problems_before: int) -> None:
        """Drop the record being read if any of its fields had a problem."""
        if len(self.problems) > problems_before:
            raise _Reported

    def unique_records(
        self, records: list[Any], key: Callable[[Any], Any], message: Callable[[Any], str]
    ) -> None:
        seen: set[Any] = set()
        for record in records:
            if key(record) in seen:
                self.fail(record.at, message(record))
            seen.add(key(record))

    # -- records ------------------------------------------------------------------------------
    def url(self, value: Any, position: str) -> str | None:
        return self.text(value, position, rule=rules.URL, optional=True)

    def source(self, value: Any, position: str) -> SourceRecord:
        data = self.obj(value, position, ("key", "title", "url"))
        before, f = len(self.problems), self.field
        record = SourceRecord(
            key=f(self.source_key, data.get("key"), f"{position}.key"),
            title=f(self.required_text, data.get("title"), f"{position}.title"),
            url=f(self.url, data.get("url"), f"{position}.url"),
            at=position,
        )
        self.finish(before)
        return record

    def theme(self, value: Any, position: str) -> ThemeRecord:
        data = self.obj(value, position, ("slug", "name", "description"))
        before, f = len(self.problems), self.field
        record = ThemeRecord(
            slug=f(self.slug, data.get("slug"), f"{position}.slug"),
            name=f(self.required_text, data.get("name"), f"{position}.name"),
            description=f(self.long_text, data.get("description"), f"{position}.description"),
            at=position,
        )
        self.finish(before)
        return record

    def long_text(self, value: Any, position: str) -> str | None:
        return self.text(value, position, rule=rules.PROSE, optional=True)

    def short_text(self, value: Any, position: str) -> str | None:
        return self.text(value, position, optional=True)

    def name(self, value: Any, position: str) -> str:
        return self.required_text(value, position)

    def source_keys(self, value: Any, position: str) -> list[str]:
        return self.items(value, position, self.source_key, unique="source")

    def attributions(self, value: Any, position: str, fields: tuple[str, ...]) -> Attributions:
        data = self.obj({} if value is None else value, position, fields)
        result: Attributions = {}
        for name in fields:  # canonical field order
            if name in data:
                keys = self.field(self.source_keys, data[name], f"{position}.{name}")
                if keys:
                    result[name] = keys
        return result

    def external_id(self, value: Any, position: str, owner: Owner) -> ExternalIdRecord:
        data = self.obj(value, position, ("system", "value"))
        before, f = len(self.problems), self.field
        system = f(self.enum, ExternalSystem, data.get("system"), f"{position}.system")
        text = f(self.required_text, data.get("value"), f"{position}.value", rule=rules.EXTERNAL_ID)
        if system is not None and text is not None:
            problem = external_id_problem(system, text, owner)
            if problem is not None:
                self.fail(f"{position}.value", problem)
        self.finish(before)
        return ExternalIdRecord(system=system, value=text, at=position)

    def external_ids(self, value: Any, position: str, owner: Owner) -> list[ExternalIdRecord]:
        """A record's identifiers, one per system, in system order (the canonical order)."""
        records = self.items(value, position, lambda item, at: self.external_id(item, at, owner))
        self.unique_records(
            records,
            lambda r: r.system,
            lambda r: f"duplicate external id: {r.system} is already given",
        )
        return sorted(records, key=lambda r: r.system)

    def person(self, value: Any, position: str) -> PersonRecord:
        data = self.obj(value, position, PERSON_KEYS)
        before, f = len(self.problems), self.field
        record = PersonRecord(
            slug=f(self.slug, data.get("slug"), f"{position}.slug"),
            name=f(self.required_text, data.get("name"), f"{position}.name"),
            original_name=f(self.short_text, data.get("originalName"), f"{position}.originalName"),
            alternative_names=f(
                self.items, data.get("alternativeNames"), f"{position}.alternativeNames", self.name
            ),
            biography=f(self.long_text, data.get("biography"), f"{position}.biography"),
            sources=f(self.source_keys, data.get("sources"), f"{position}.sources"),
            attributions=f(
                self.attributions,
                data.get("attributions"),
                f"{position}.attributions",
                PERSON_FIELDS,
            ),
            external_ids=f(
                self.external_ids, data.get("externalIds"), f"{position}.externalIds", Owner.PERSON
            ),
            at=position,
            names=f(
                self.forms,
                data.get("names"),
                f"{position}.names",
                {TitleKind.MAIN: data.get("name"), TitleKind.ORIGINAL: data.get("originalName")},
            ),
        )
        self.finish(before)
        return record

    def form(self, value: Any, position: str, fixed: Mapping[TitleKind, Any]) -> FormRecord:
        """A title or name form. A stated form has its sources; a MAIN form is the record's
        title or name, an unqualified ORIGINAL one its original title or name (``fixed``);
        a romanization system belongs to a Latin-script form."""
        data = self.obj(value, position, FORM_KEYS)
        before, f = len(self.problems), self.field
        record = FormRecord(
            text=f(self.required_text, data.get("text"), f"{position}.text"),
            kind=f(self.enum, TitleKind, data.get("kind"), f"{position}.kind"),
            language=f(self.code, data.get("language"), f"{position}.language", rules.LANGUAGE),
            script=f(self.code, data.get("script"), f"{position}.script", rules.SCRIPT),
            romanization=f(
                self.optional_enum,
                RomanizationSystem,
                data.get("romanization"),
                f"{position}.romanization",
            ),
            qualifier=f(self.qualifier, data.get("qualifier"), f"{position}.qualifier"),
            sources=f(self.source_keys, data.get("sources"), f"{position}.sources"),
            at=position,
        )
        self.finish(before)
        if not record.sources:
            raise _Invalid(f"{position}.sources", "a stated form needs the sources stating it")
        if record.romanization is not None and record.script != LATIN:
            raise _Invalid(
                f"{position}.romanization", f"only a Latin-script form (script {LATIN!r}) has one"
            )
        # as the record's own field reads it; a field that is itself invalid is reported
        # there, once
        expected = fixed.get(record.kind)
        own = rules.NAME(expected) if isinstance(expected, str) else None
        fixed_kind = record.kind is TitleKind.MAIN or (
            record.kind is TitleKind.ORIGINAL and record.qualifier is None
        )
        if fixed_kind and isinstance(own, str) and record.text != own:
            raise _Invalid(
                f"{position}.text",
                f"{record.kind} form must be the record's own ({expected!r})",
            )
        return record

    def forms(self, value: Any, position: str, fixed: Mapping[TitleKind, Any]) -> list[FormRecord]:
        records = self.items(value, position, lambda item, at: self.form(item, at, fixed))
        self.unique_records(
            records, lambda r: (r.text, r.kind), lambda r: f"duplicate {r.kind} form {r.text!r}"
        )
        return records

    def code(self, value: Any, position: str, rule: rules.Rule) -> str | None:
        return self.text(value, position, rule=rule, optional=True)

    def optional_enum(self, enum_cls: type[E], value: Any, position: str) -> E | None:
        return None if value is None else self.enum(enum_cls, value, position)

    def qualifier(self, value: Any, position: str) -> Qualifier | None:
        return self.optional_enum(Qualifier, value, position)

    def episodes(self, value: Any, position: str) -> tuple[int, int] | None:
        """``{"first": 51, "last": 100}``: the episodes a credit covers."""
        if value is None:
            return None
        data = self.obj(value, position, ("first", "last"))
        numbers = []
        for name in ("first", "last"):
            number = data.get(name)
            if isinstance(number, bool) or not isinstance(number, int):
                raise _Invalid(
                    f"{position}.{name}", f"expected an integer, got {_type_name(number)}"
                )
            if not 1 <= number <= MAX_EPISODE:
                raise _Invalid(f"{position}.{name}", f"must be between 1 and {MAX_EPISODE}")
            numbers.append(number)
        first, last = numbers
        if last < first:
            raise _Invalid(f"{position}.last", f"must not be before first ({first})")
        return first, last

    def reported_person(self, value: Any, position: str) -> ReportedPersonRecord:
        data = self.obj(value, position, ("person", "role"))
        before, f = len(self.problems), self.field
        record = ReportedPersonRecord(
            person=f(self.slug, data.get("person"), f"{position}.person"),
            role=f(self.enum, CreditRole, data.get("role"), f"{position}.role"),
            at=position,
        )
        self.finish(before)
        return record

    def credit(self, value: Any, position: str) -> CreditRecord:
        data = self.obj(value, position, CREDIT_KEYS)
        before, f = len(self.problems), self.field
        record = CreditRecord(
            person=f(self.slug, data.get("person"), f"{position}.person"),
            role=f(self.enum, CreditRole, data.get("role"), f"{position}.role"),
            sources=f(self.source_keys, data.get("sources"), f"{position}.sources"),
            at=position,
            note=f(self.long_text, data.get("note"), f"{position}.note"),
            qualifier=f(self.qualifier, data.get("qualifier"), f"{position}.qualifier"),
            episodes=f(self.episodes, data.get("episodes"), f"{position}.episodes"),
        )
        self.finish(before)
        return record

    def relation(self, value: Any, position: str) -> RelationRecord:
        data = self.obj(value, position, ("type", "work", "sources"))
        before, f = len(self.problems), self.field
        record = RelationRecord(
            type=f(self.enum, WorkRelationType, data.get("type"), f"{position}.type"),
            work=f(self.slug, data.get("work"), f"{position}.work"),
            at=position,
            sources=f(self.source_keys, data.get("sources"), f"{position}.sources"),
        )
        self.finish(before)
        return record

    def dispute(self, value: Any, position: str) -> DisputeRecord:
        data = self.obj(value, position, DISPUTE_KEYS)
        before, f = len(self.problems), self.field
        prose = rules.PROSE
        record = DisputeRecord(
            field=f(
                self.required_text, data.get("field"), f"{position}.field", rule=rules.FIELD_NAME
            ),
            stated=f(self.required_text, data.get("stated"), f"{position}.stated", rule=prose),
            reported=f(
                self.required_text, data.get("reported"), f"{position}.reported", rule=prose
            ),
            source=f(self.source_key, data.get("source"), f"{position}.source"),
            note=f(self.long_text, data.get("note"), f"{position}.note"),
            at=position,
            qualifier=f(self.qualifier, data.get("qualifier"), f"{position}.qualifier"),
            reported_people=f(self.reported_people, data.get("reportedPeople"), f"{position}")
            or [],
        )
        self.finish(before)
        return record

    # -- structure (docs/catalog-format-structure.md) --------------------------------------------
    def studio(self, value: Any, position: str) -> StudioRecord:
        data = self.obj(value, position, ("slug", "name", "originalName", "sources"))
        before, f = len(self.problems), self.field
        record = StudioRecord(
            slug=f(self.slug, data.get("slug"), f"{position}.slug"),
            name=f(self.required_text, data.get("name"), f"{position}.name"),
            original_name=f(self.short_text, data.get("originalName"), f"{position}.originalName"),
            sources=f(self.source_keys, data.get("sources"), f"{position}.sources"),
            at=position,
        )
        self.finish(before)
        return record

    def date(self, value: Any, position: str) -> str:
        return self.required_text(value, position, rule=rules.PARTIAL_DATE)

    def until(self, value: Any, position: str) -> str | None:
        return self.text(value, position, rule=rules.PARTIAL_DATE, optional=True)

    def event(self, value: Any, position: str) -> EventRecord:
        keys = ("kind", "date", "until", "place", "qualifier", "note", "sources")
        data = self.obj(value, position, keys)
        before, f = len(self.problems), self.field
        record = EventRecord(
            kind=f(self.enum, EventKind, data.get("kind"), f"{position}.kind"),
            date=f(self.date, data.get("date"), f"{position}.date"),
            until=f(self.until, data.get("until"), f"{position}.until"),
            place=f(self.short_text, data.get("place"), f"{position}.place"),
            qualifier=f(self.qualifier, data.get("qualifier"), f"{position}.qualifier"),
            note=f(self.long_text, data.get("note"), f"{position}.note"),
            sources=f(self.source_keys, data.get("sources"), f"{position}.sources"),
            at=position,
        )
        if record.date is not None and record.until is not None:
            start, end = rules.partial_date(record.date), rules.partial_date(record.until)
            if _date_order(end) < _date_order(start):
                self.fail(f"{position}.until", f"{record.until} is before {record.date}")
        self.finish(before)
        return record

    def number(self, value: Any, position: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid(position, f"expected a whole number, got {_type_name(value)}")
        if not 1 <= value <= MAX_PART_NUMBER:
            raise _Invalid(position, f"must be between 1 and {MAX_PART_NUMBER}; got {value}")
        return value

    def part(self, value: Any, position: str) -> PartRecord:
        data = self.obj(value, position, ("unit", "first", "last", "title", "events", "sources"))
        before, f = len(self.problems), self.field
        first = f(self.number, data.get("first"), f"{position}.first")
        last = (
            first
            if data.get("last") is None
            else f(self.number, data.get("last"), f"{position}.last")
        )
        if first is not None and last is not None and last < first:
            self.fail(f"{position}.last", f"must not be less than first ({first}); got {last}")
        record = PartRecord(
            unit=f(self.enum, PartUnit, data.get("unit"), f"{position}.unit"),
            first=first,
            last=last,
            title=f(self.short_text, data.get("title"), f"{position}.title"),
            events=f(self.items, data.get("events"), f"{position}.events", self.event),
            sources=f(self.source_keys, data.get("sources"), f"{position}.sources"),
            at=position,
        )
        self.finish(before)
        return record

    def origin(self, value: Any, position: str) -> OriginRecord:
        keys = ("title", "originalTitle", "form", "note", "qualifier", "sources")
        data = self.obj(value, position, keys)
        before, f = len(self.problems), self.field
        record = OriginRecord(
            title=f(self.required_text, data.get("title"), f"{position}.title"),
            original_title=f(
                self.short_text, data.get("originalTitle"), f"{position}.originalTitle"
            ),
            form=f(self.required_text, data.get("form"), f"{position}.form"),
            note=f(self.long_text, data.get("note"), f"{position}.note"),
            qualifier=f(self.qualifier, data.get("qualifier"), f"{position}.qualifier"),
            sources=f(self.source_keys, data.get("sources"), f"{position}.sources"),
            at=position,
        )
        self.finish(before)
        return record

    def studio_credit(self, value: Any, position: str) -> StudioCreditRecord:
        data = self.obj(value, position, ("studio", "role", "sources"))
        before, f = len(self.problems), self.field
        record = StudioCreditRecord(
            studio=f(self.slug, data.get("studio"), f"{position}.studio"),
            role=f(self.required_text, data.get("role"), f"{position}.role", rule=rules.ROLE),
            sources=f(self.source_keys, data.get("sources"), f"{position}.sources"),
            at=position,
        )
        self.finish(before)
        return record

    def work_forms(self, value: Any, position: str) -> list[WorkForm]:
        return self.items(
            value, position, lambda item, at: self.enum(WorkForm, item, at), unique="form"
        )

    def audience(self, value: Any, position: str) -> Audience | None:
        return None if value is None else self.enum(Audience, value, position)

    def reported_people(self, value: Any, position: str) -> list[ReportedPersonRecord]:
        at = f"{position}.reportedPeople"
        records = self.items(value, at, self.reported_person)
        self.unique_records(
            records,
            lambda r: (r.person, r.role),
            lambda r: f"duplicate reported person: {r.person} is already reported {r.role}",
        )
        return records

    def year(self, value: Any, position: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid(position, f"expected an integer year, got {_type_name(value)}")
        if not YEAR_MIN <= value <= YEAR_MAX:
            raise _Invalid(position, f"must be between {YEAR_MIN} and {YEAR_MAX}; got {value}")
        return value

    def work(self, value: Any, position: str) -> WorkRecord:
        data = self.obj(value, position, WORK_KEYS)
        before, f = len(self.problems), self.field
        slug = f(self.slug, data.get("slug"), f"{position}.slug")
        credits = f(self.items, data.get("credits"), f"{position}.credits", self.credit)
        self.unique_records(
            credits or [],
            lambda c: (c.person, c.role),
            lambda c: f"duplicate credit: {c.person} is already credited {c.role}",
        )
        related = f(self.items, data.get("related"), f"{position}.related", self.relation)
        self.unique_records(
            related or [],
            lambda r: (r.type, r.work),
            lambda r: f"duplicate relation: already {r.type} {r.work}",
        )
        for relation in related or []:
            if relation.work == slug:
                self.fail(f"{relation.at}.work", "a work cannot relate to itself")
        studios = f(self.items, data.get("studios"), f"{position}.studios", self.studio_credit)
        self.unique_records(
            studios or [],
            lambda c: (c.studio, c.role),
            lambda c: f"duplicate studio credit: {c.studio} is already credited {c.role!r}",
        )
        record = WorkRecord(
            slug=slug,
            title=f(self.required_text, data.get("title"), f"{position}.title"),
            original_title=f(
                self.short_text, data.get("originalTitle"), f"{position}.originalTitle"
            ),
            alternative_titles=f(
                self.items,
                data.get("alternativeTitles"),
                f"{position}.alternativeTitles",
                self.name,
            ),
            kind=f(self.enum, WorkKind, data.get("kind"), f"{position}.kind"),
            year=f(self.year, data.get("year"), f"{position}.year"),
            synopsis=f(self.long_text, data.get("synopsis"), f"{position}.synopsis"),
            credits=credits,
            themes=f(
                self.items, data.get("themes"), f"{position}.themes", self.slug, unique="theme"
            ),
            related=related,
            sources=f(self.source_keys, data.get("sources"), f"{position}.sources"),
            disputes=f(self.items, data.get("disputes"), f"{position}.disputes", self.dispute),
            attributions=f(
                self.attributions, data.get("attributions"), f"{position}.attributions", WORK_FIELDS
            ),
            external_ids=f(
                self.external_ids, data.get("externalIds"), f"{position}.externalIds", Owner.WORK
            ),
            forms=f(self.work_forms, data.get("forms"), f"{position}.forms") or [],
            audience=f(self.audience, data.get("audience"), f"{position}.audience"),
            parts=f(self.items, data.get("parts"), f"{position}.parts", self.part),
            events=f(self.items, data.get("events"), f"{position}.events", self.event),
            studios=studios,
            based_on=f(self.items, data.get("basedOn"), f"{position}.basedOn", self.origin),
            at=position,
            titles=f(
                self.forms,
                data.get("titles"),
                f"{position}.titles",
                {
                    TitleKind.MAIN: data.get("title"),
                    TitleKind.ORIGINAL: data.get("originalTitle"),
                },
            ),
        )
        self.finish(before)
        return record

    def catalog(self, value: Any) -> Catalog:
        try:
            data = self.obj(
                value, "", ("format", "sources", "themes", "studios", "people", "works")
            )
        except _Invalid as invalid:
            self.fail(invalid.position, f"the document must be one JSON object ({invalid.reason})")
            return Catalog()
        if data.get("format", FORMAT) != FORMAT:
            self.fail("format", f"must be {FORMAT!r}; got {data.get('format')!r}")
        f = self.field
        catalog = Catalog(
            sources=f(self.items, data.get("sources"), "sources", self.source) or [],
            themes=f(self.items, data.get("themes"), "themes", self.theme) or [],
            people=f(self.items, data.get("people"), "people", self.person) or [],
            works=f(self.items, data.get("works"), "works", self.work) or [],
            studios=f(self.items, data.get("studios"), "studios", self.studio) or [],
        )
        catalog.declared = _declared_names(data)
        self.unique_records(
            catalog.sources, lambda r: r.key, lambda r: f"duplicate source key {r.key!r}"
        )
        self.unique_records(
            catalog.themes, lambda r: r.slug, lambda r: f"duplicate theme slug {r.slug!r}"
        )
        self.unique_records(
            catalog.people, lambda r: r.slug, lambda r: f"duplicate person slug {r.slug!r}"
        )
        self.unique_records(
            catalog.works, lambda r: r.slug, lambda r: f"duplicate work slug {r.slug!r}"
        )
        self.unique_records(
            catalog.studios, lambda r: r.slug, lambda r: f"duplicate studio slug {r.slug!r}"
        )
        return catalog


def _declared_names(data: dict[str, Any]) -> KnownNames:
    """The slugs and keys a document declares, readable even where a record has problems (so
    a reference to a record that failed is not reported a second time, as unknown)."""

    def names(key: str, name: str) -> frozenset[str]:
        items = data.get(key)
        if not isinstance(items, list):
            return frozenset()
        return frozenset(
            item[name]
            for item in items
            if isinstance(item, dict) and isinstance(item.get(name), str)
        )

    return KnownNames(
        sources=names("sources", "key"),
        themes=names("themes", "slug"),
        people=names("people", "slug"),
        works=names("works", "slug"),
        studios=names("studios", "slug"),
    )


MAX_PART_NUMBER = 100_000  # far above any series' episode count


def _date_order(date: tuple[int, int | None, int | None]) -> tuple[int, int, int]:
    """A partial date as a sort key: an unknown month or day sorts as the period's start."""
    year, month, day = date
    return year, month or 0, day or 0


def _type_name(value: Any) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def parse_catalog(data: Any, file: str) -> tuple[Catalog, list[Problem]]:
    """Validate one decoded document; return the catalog and the problems found (if any)."""
    reader = _Reader(file)
    catalog = reader.catalog(data)
    return catalog, reader.problems


def check_external_ids(stored: Catalog, documents: list[tuple[str, Catalog]]) -> list[Problem]:
    """An identifier names one record: among the stored records the documents leave in place
    and the documents' records (later documents replacing earlier ones by slug), each
    (system, value) may belong to one work and one person only. A clash is reported where
    the identifier is given a second time."""
    problems: list[Problem] = []
    for what, attr in (("work", "works"), ("person", "people")):
        final: dict[str, Any] = {r.slug: r for r in getattr(stored, attr)}
        for _, catalog in documents:
            final.update((r.slug, r) for r in getattr(catalog, attr))
        owner: dict[tuple[ExternalSystem, str], str] = {}
        for record in getattr(stored, attr):
            if final[record.slug] is record:
                owner.update(((e.system, e.value), record.slug) for e in record.external_ids)
        for file, catalog in documents:
            for record in getattr(catalog, attr):
                if final[record.slug] is not record:
                    continue
                for e in record.external_ids:
                    other = owner.setdefault((e.system, e.value), record.slug)
                    if other != record.slug:
                        problems.append(
                            Problem(
                                file,
                                f"{e.at}.value",
                                f"{e.system} {e.value!r} already identifies {what} {other!r}",
                            )
                        )
    return problems


def check_references(catalog: Catalog, file: str, known: KnownNames) -> list[Problem]:
    """Every slug and source key a record names must exist (in a file being loaded or the DB)."""
    problems: list[Problem] = []

    def need(names: frozenset[str], name: str, position: str, what: str) -> None:
        if name not in names:
            problems.append(Problem(file, position, f"unknown {what} {name!r}"))

    def need_sources(keys: list[str], position: str) -> None:
        for j, key in enumerate(keys):
            need(known.sources, key, f"{position}[{j}]", "source")

    for person in catalog.people:
        need_sources(person.sources, f"{person.at}.sources")
        for name, keys in person.attributions.items():
            need_sources(keys, f"{person.at}.attributions.{name}")
        for form in person.names:
            need_sources(form.sources, f"{form.at}.sources")
    for work in catalog.works:
        for form in work.titles:
            need_sources(form.sources, f"{form.at}.sources")
        for credit in work.credits:
            need(known.people, credit.person, f"{credit.at}.person", "person")
            need_sources(credit.sources, f"{credit.at}.sources")
        for j, slug in enumerate(work.themes):
            need(known.themes, slug, f"{work.at}.themes[{j}]", "theme")
        for relation in work.related:
            need(known.works, relation.work, f"{relation.at}.work", "work")
            need_sources(relation.sources, f"{relation.at}.sources")
        need_sources(work.sources, f"{work.at}.sources")
        for dispute in work.disputes:
            need(known.sources, dispute.source, f"{dispute.at}.source", "source")
            for reported in dispute.reported_people:
                need(known.people, reported.person, f"{reported.at}.person", "person")
        for name, keys in work.attributions.items():
            need_sources(keys, f"{work.at}.attributions.{name}")
        for part in work.parts:
            need_sources(part.sources, f"{part.at}.sources")
            for event in part.events:
                need_sources(event.sources, f"{event.at}.sources")
        for event in work.events:
            need_sources(event.sources, f"{event.at}.sources")
        for studio_credit in work.studios:
            need(known.studios, studio_credit.studio, f"{studio_credit.at}.studio", "studio")
            need_sources(studio_credit.sources, f"{studio_credit.at}.sources")
        for origin in work.based_on:
            need_sources(origin.sources, f"{origin.at}.sources")
    for studio in catalog.studios:
        need_sources(studio.sources, f"{studio.at}.sources")
    return problems


# -- serialising -------------------------------------------------------------------------------


def source_json(s: SourceRecord) -> dict[str, Any]:
    return {"key": s.key, "title": s.title, "url": s.url}


def theme_json(t: ThemeRecord) -> dict[str, Any]:
    return {"slug": t.slug, "name": t.name, "description": t.description}


def external_ids_json(ids: list[ExternalIdRecord]) -> list[dict[str, Any]]:
    return [{"system": str(e.system), "value": e.value} for e in ids]


def form_json(t: FormRecord) -> dict[str, Any]:
    """A form: its optional keys only when set."""
    optional = {
        "language": t.language,
        "script": t.script,
        "romanization": None if t.romanization is None else str(t.romanization),
        "qualifier": None if t.qualifier is None else str(t.qualifier),
    }
    return {
        "text": t.text,
        "kind": str(t.kind),
        **{k: v for k, v in optional.items() if v is not None},
        "sources": list(t.sources),
    }


def _forms(key: str, forms: list[FormRecord]) -> dict[str, Any]:
    return {key: [form_json(t) for t in forms]} if forms else {}


def credit_json(c: CreditRecord) -> dict[str, Any]:
    document: dict[str, Any] = {"person": c.person, "role": str(c.role), "sources": list(c.sources)}
    if c.note is not None:
        document["note"] = c.note
    if c.qualifier is not None:
        document["qualifier"] = str(c.qualifier)
    if c.episodes is not None:
        document["episodes"] = {"first": c.episodes[0], "last": c.episodes[1]}
    return document


def relation_json(r: RelationRecord) -> dict[str, Any]:
    document: dict[str, Any] = {"type": str(r.type), "work": r.work}
    if r.sources:
        document["sources"] = list(r.sources)
    return document


def dispute_json(d: DisputeRecord) -> dict[str, Any]:
    document: dict[str, Any] = {
        "field": d.field,
        "stated": d.stated,
        "reported": d.reported,
        "source": d.source,
        "note": d.note,
    }
    if d.qualifier is not None:
        document["qualifier"] = str(d.qualifier)
    if d.reported_people:
        document["reportedPeople"] = [
            {"person": r.person, "role": str(r.role)} for r in d.reported_people
        ]
    return document


def person_json(p: PersonRecord) -> dict[str, Any]:
    return {
        "slug": p.slug,
        "name": p.name,
        "originalName": p.original_name,
        "alternativeNames": list(p.alternative_names),
        **_forms("names", p.names),
        "biography": p.biography,
        "sources": list(p.sources),
        "externalIds": external_ids_json(p.external_ids),
        "attributions": {k: list(v) for k, v in p.attributions.items()},
    }


def studio_json(s: StudioRecord) -> dict[str, Any]:
    return {
        "slug": s.slug,
        "name": s.name,
        "originalName": s.original_name,
        "sources": list(s.sources),
    }


def event_json(e: EventRecord) -> dict[str, Any]:
    return {
        "kind": str(e.kind),
        "date": e.date,
        "until": e.until,
        "place": e.place,
        "qualifier": None if e.qualifier is None else str(e.qualifier),
        "note": e.note,
        "sources": list(e.sources),
    }


def part_json(p: PartRecord) -> dict[str, Any]:
    return {
        "unit": str(p.unit),
        "first": p.first,
        "last": p.last,
        "title": p.title,
        "events": [event_json(e) for e in p.events],
        "sources": list(p.sources),
    }


def origin_json(o: OriginRecord) -> dict[str, Any]:
    return {
        "title": o.title,
        "originalTitle": o.original_title,
        "form": o.form,
        "note": o.note,
        "qualifier": None if o.qualifier is None else str(o.qualifier),
        "sources": list(o.sources),
    }


def _structure_json(w: WorkRecord) -> dict[str, Any]:
    """A work's structure keys, only those with something in them: a document without
    them exports as it did before they existed."""
    found: dict[str, Any] = {
        "forms": [str(form) for form in w.forms],
        "audience": None if w.audience is None else str(w.audience),
        "parts": [part_json(p) for p in w.parts],
        "events": [event_json(e) for e in w.events],
        "studios": [
            {"studio": c.studio, "role": c.role, "sources": list(c.sources)} for c in w.studios
        ],
        "basedOn": [origin_json(o) for o in w.based_on],
    }
    return {key: value for key, value in found.items() if value}


def work_json(w: WorkRecord) -> dict[str, Any]:
    structure = _structure_json(w)
    document = {
        "slug": w.slug,
        "title": w.title,
        "originalTitle": w.original_title,
        "alternativeTitles": list(w.alternative_titles),
        **_forms("titles", w.titles),
        "kind": str(w.kind),
        "year": w.year,
        "synopsis": w.synopsis,
        "credits": [credit_json(c) for c in w.credits],
        "themes": list(w.themes),
        "related": [relation_json(r) for r in w.related],
        "sources": list(w.sources),
        "disputes": [dispute_json(d) for d in w.disputes],
        "externalIds": external_ids_json(w.external_ids),
        "attributions": {k: list(v) for k, v in w.attributions.items()},
    }
    if not structure:
        return document
    # the format's key order (WORK_KEYS), structure keys in their places
    document.update(structure)
    return {key: document[key] for key in WORK_KEYS if key in document}


def catalog_to_json(catalog: Catalog) -> dict[str, Any]:
    """The canonical document: records sorted by key/slug, fields in the format's order."""
    return {
        "format": FORMAT,
        "sources": [source_json(s) for s in sorted(catalog.sources, key=lambda s: s.key)],
        "themes": [theme_json(t) for t in sorted(catalog.themes, key=lambda t: t.slug)],
        **(
            {"studios": [studio_json(s) for s in sorted(catalog.studios, key=lambda s: s.slug)]}
            if catalog.studios
            else {}
        ),
        "people": [person_json(p) for p in sorted(catalog.people, key=lambda p: p.slug)],
        "works": [work_json(w) for w in sorted(catalog.works, key=lambda w: w.slug)],
    }


def dump_catalog(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
