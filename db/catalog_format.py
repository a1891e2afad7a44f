"""The catalog interchange format (``nkcinema-catalog/1``): typed records and their validation.

See ``shared/contract/catalog-format.md``. Beyond it, person and work records may carry
``attributions``: ``{field: [source key, ...]}``, the sources stating each field.
Validation is strict (unknown keys are errors, so typos cannot load silently) and reports
every problem with its position, e.g. ``works[3].credits[0].person``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from db.enums import CreditRole, WorkKind, WorkRelationType
from db.models import SLUG_LENGTH, TEXT_LENGTH, URL_LENGTH, YEAR_MAX, YEAR_MIN
from db.text import SLUG_PATTERN

FORMAT = "nkcinema-catalog/1"
SOURCE_KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
URL_PATTERN = re.compile(r"^https?://[^\s]+$")
FIELD_NAME_LENGTH = 40
LONG_TEXT_LENGTH = 20_000

WORK_FIELDS = (
    "title",
    "originalTitle",
    "alternativeTitles",
    "kind",
    "year",
    "synopsis",
    "themes",
    "related",
)
PERSON_FIELDS = ("name", "originalName", "alternativeNames", "biography")
WORK_KEYS = (
    "slug",
    "title",
    "originalTitle",
    "alternativeTitles",
    "kind",
    "year",
    "synopsis",
    "credits",
    "themes",
    "related",
    "sources",
    "disputes",
    "attributions",
)
Attributions = dict[str, list[str]]


@dataclass(frozen=True)
class SourceRecord:
    key: str
    title: str
    url: str | None


@dataclass(frozen=True)
class ThemeRecord:
    slug: str
    name: str
    description: str | None


@dataclass(frozen=True)
class PersonRecord:
    slug: str
    name: str
    original_name: str | None
    alternative_names: list[str]
    biography: str | None
    sources: list[str]
    attributions: Attributions


@dataclass(frozen=True)
class CreditRecord:
    person: str
    role: CreditRole
    sources: list[str]


@dataclass(frozen=True)
class RelationRecord:
    type: WorkRelationType
    work: str


@dataclass(frozen=True)
class DisputeRecord:
    field: str
    stated: str
    reported: str
    source: str
    note: str | None


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


@dataclass
class Catalog:
    """One interchange document, validated (or a whole exported catalog)."""

    sources: list[SourceRecord] = field(default_factory=list)
    themes: list[ThemeRecord] = field(default_factory=list)
    people: list[PersonRecord] = field(default_factory=list)
    works: list[WorkRecord] = field(default_factory=list)


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


class _Invalid(Exception):
    def __init__(self, position: str, reason: str) -> None:
        self.position = position
        self.reason = reason


T = TypeVar("T")


class _Reader:
    """Walks one decoded JSON document, collecting problems instead of stopping at the first."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def fail(self, position: str, reason: str) -> None:
        self.problems.append(Problem(self.file, position, reason))

    # -- scalars ----------------------------------------------------------------------------
    def obj(self, value: Any, position: str, allowed: Iterable[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _Invalid(position, f"expected an object, got {_type_name(value)}")
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            raise _Invalid(position, f"unknown key(s): {', '.join(unknown)}")
        return value

    def text(
        self, value: Any, position: str, *, limit: int = TEXT_LENGTH, optional: bool = False
    ) -> str | None:
        if value is None:
            if optional:
                return None
            raise _Invalid(position, "is required")
        if not isinstance(value, str):
            raise _Invalid(position, f"expected a string, got {_type_name(value)}")
        if "\x00" in value:
            raise _Invalid(position, "must not contain NUL characters")
        if not value.strip():
            raise _Invalid(position, "must not be blank")
        if len(value) > limit:
            raise _Invalid(position, f"is longer than {limit} characters")
        return value

    def required_text(self, value: Any, position: str, *, limit: int = TEXT_LENGTH) -> str:
        result = self.text(value, position, limit=limit)
        assert result is not None
        return result

    def slug(self, value: Any, position: str) -> str:
        slug = self.required_text(value, position, limit=SLUG_LENGTH)
        if not SLUG_PATTERN.match(slug):
            raise _Invalid(position, f"{slug!r} is not a slug (lowercase a-z, 0-9 and hyphens)")
        return slug

    def source_key(self, value: Any, position: str) -> str:
        key = self.required_text(value, position, limit=100)
        if not SOURCE_KEY_PATTERN.match(key):
            raise _Invalid(position, f"{key!r} is not a source key (lowercase a-z, 0-9, . _ -)")
        return key

    def enum(self, enum_cls: type[T], value: Any, position: str) -> T:
        members = [m.value for m in enum_cls]  # type: ignore[attr-defined]
        if value not in members:
            raise _Invalid(position, f"must be one of {', '.join(members)}; got {value!r}")
        return enum_cls(value)  # type: ignore[call-arg]

    def items(self, value: Any, position: str, read: Callable[[Any, str], T]) -> list[T]:
        """Read a list item by item; a bad item is reported and skipped, the rest still read."""
        if value is None:
            return []
        if not isinstance(value, list):
            raise _Invalid(position, f"expected a list, got {_type_name(value)}")
        result = []
        for index, item in enumerate(value):
            try:
                result.append(read(item, f"{position}[{index}]"))
            except _Invalid as invalid:
                self.fail(invalid.position, invalid.reason)
        return result

    def unique(self, values: list[str], position: str, what: str) -> None:
        seen: set[str] = set()
        for index, value in enumerate(values):
            if value in seen:
                self.fail(f"{position}[{index}]", f"duplicate {what} {value!r}")
            seen.add(value)

    # -- records ------------------------------------------------------------------------------
    def source(self, value: Any, position: str) -> SourceRecord:
        data = self.obj(value, position, ("key", "title", "url"))
        url = self.text(data.get("url"), f"{position}.url", limit=URL_LENGTH, optional=True)
        if url is not None and not URL_PATTERN.match(url):
            raise _Invalid(f"{position}.url", "must be an http(s) URL")
        return SourceRecord(
            key=self.source_key(data.get("key"), f"{position}.key"),
            title=self.required_text(data.get("title"), f"{position}.title"),
            url=url,
        )

    def theme(self, value: Any, position: str) -> ThemeRecord:
        data = self.obj(value, position, ("slug", "name", "description"))
        return ThemeRecord(
            slug=self.slug(data.get("slug"), f"{position}.slug"),
            name=self.required_text(data.get("name"), f"{position}.name"),
            description=self.text(
                data.get("description"),
                f"{position}.description",
                limit=LONG_TEXT_LENGTH,
                optional=True,
            ),
        )

    def attributions(self, value: Any, position: str, fields: tuple[str, ...]) -> Attributions:
        data = self.obj(value or {}, position, fields)
        result: Attributions = {}
        for name in fields:  # canonical field order
            if name in data:
                keys = self.items(data[name], f"{position}.{name}", self.source_key)
                self.unique(keys, f"{position}.{name}", "source")
                if keys:
                    result[name] = keys
        return result

    def person(self, value: Any, position: str) -> PersonRecord:
        data = self.obj(
            value,
            position,
            (
                "slug",
                "name",
                "originalName",
                "alternativeNames",
                "biography",
                "sources",
                "attributions",
            ),
        )
        names = self.items(data.get("alternativeNames"), f"{position}.alternativeNames", self.name)
        sources = self.items(data.get("sources"), f"{position}.sources", self.source_key)
        self.unique(sources, f"{position}.sources", "source")
        return PersonRecord(
            slug=self.slug(data.get("slug"), f"{position}.slug"),
            name=self.required_text(data.get("name"), f"{position}.name"),
            original_name=self.text(
                data.get("originalName"), f"{position}.originalName", optional=True
            ),
            alternative_names=names,
            biography=self.text(
                data.get("biography"),
                f"{position}.biography",
                limit=LONG_TEXT_LENGTH,
                optional=True,
            ),
            sources=sources,
            attributions=self.attributions(
                data.get("attributions"), f"{position}.attributions", PERSON_FIELDS
            ),
        )

    def name(self, value: Any, position: str) -> str:
        return self.required_text(value, position)

    def credit(self, value: Any, position: str) -> CreditRecord:
        data = self.obj(value, position, ("person", "role", "sources"))
        sources = self.items(data.get("sources"), f"{position}.sources", self.source_key)
        self.unique(sources, f"{position}.sources", "source")
        return CreditRecord(
            person=self.slug(data.get("person"), f"{position}.person"),
            role=self.enum(CreditRole, data.get("role"), f"{position}.role"),
            sources=sources,
        )

    def relation(self, value: Any, position: str) -> RelationRecord:
        data = self.obj(value, position, ("type", "work"))
        return RelationRecord(
            type=self.enum(WorkRelationType, data.get("type"), f"{position}.type"),
            work=self.slug(data.get("work"), f"{position}.work"),
        )

    def dispute(self, value: Any, position: str) -> DisputeRecord:
        data = self.obj(value, position, ("field", "stated", "reported", "source", "note"))
        return DisputeRecord(
            field=self.required_text(
                data.get("field"), f"{position}.field", limit=FIELD_NAME_LENGTH
            ),
            stated=self.required_text(
                data.get("stated"), f"{position}.stated", limit=LONG_TEXT_LENGTH
            ),
            reported=self.required_text(
                data.get("reported"), f"{position}.reported", limit=LONG_TEXT_LENGTH
            ),
            source=self.source_key(data.get("source"), f"{position}.source"),
            note=self.text(
                data.get("note"), f"{position}.note", limit=LONG_TEXT_LENGTH, optional=True
            ),
        )

    def year(self, value: Any, position: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid(position, f"expected an integer year, got {_type_name(value)}")
        if not YEAR_MIN <= value <= YEAR_MAX:
            raise _Invalid(position, f"must be between {YEAR_MIN} and {YEAR_MAX}; got {value}")
        return value

    def work(self, value: Any, position: str) -> WorkRecord:
        data = self.obj(
            value,
            position,
            WORK_KEYS,
        )
        slug = self.slug(data.get("slug"), f"{position}.slug")
        credits = self.items(data.get("credits"), f"{position}.credits", self.credit)
        seen_credits: set[tuple[str, CreditRole]] = set()
        for index, credit in enumerate(credits):
            if (credit.person, credit.role) in seen_credits:
                self.fail(
                    f"{position}.credits[{index}]",
                    f"duplicate credit: {credit.person} is already credited {credit.role}",
                )
            seen_credits.add((credit.person, credit.role))
        themes = self.items(data.get("themes"), f"{position}.themes", self.slug)
        self.unique(themes, f"{position}.themes", "theme")
        related = self.items(data.get("related"), f"{position}.related", self.relation)
        for index, relation in enumerate(related):
            if relation.work == slug:
                self.fail(f"{position}.related[{index}].work", "a work cannot relate to itself")
        sources = self.items(data.get("sources"), f"{position}.sources", self.source_key)
        self.unique(sources, f"{position}.sources", "source")
        return WorkRecord(
            slug=slug,
            title=self.required_text(data.get("title"), f"{position}.title"),
            original_title=self.text(
                data.get("originalTitle"), f"{position}.originalTitle", optional=True
            ),
            alternative_titles=self.items(
                data.get("alternativeTitles"), f"{position}.alternativeTitles", self.name
            ),
            kind=self.enum(WorkKind, data.get("kind"), f"{position}.kind"),
            year=self.year(data.get("year"), f"{position}.year"),
            synopsis=self.text(
                data.get("synopsis"), f"{position}.synopsis", limit=LONG_TEXT_LENGTH, optional=True
            ),
            credits=credits,
            themes=themes,
            related=related,
            sources=sources,
            disputes=self.items(data.get("disputes"), f"{position}.disputes", self.dispute),
            attributions=self.attributions(
                data.get("attributions"), f"{position}.attributions", WORK_FIELDS
            ),
        )

    def catalog(self, value: Any) -> Catalog:
        try:
            data = self.obj(value, "", ("format", "sources", "themes", "people", "works"))
        except _Invalid as invalid:
            self.fail(invalid.position, f"the document must be one JSON object ({invalid.reason})")
            return Catalog()
        if data.get("format", FORMAT) != FORMAT:
            self.fail("format", f"must be {FORMAT!r}; got {data.get('format')!r}")
        catalog = Catalog()
        for key, read, target in (
            ("sources", self.source, catalog.sources),
            ("themes", self.theme, catalog.themes),
            ("people", self.person, catalog.people),
            ("works", self.work, catalog.works),
        ):
            try:
                target.extend(self.items(data.get(key), key, read))  # type: ignore[arg-type]
            except _Invalid as invalid:
                self.fail(invalid.position, invalid.reason)
        self.unique([s.key for s in catalog.sources], "sources", "source key")
        self.unique([t.slug for t in catalog.themes], "themes", "theme slug")
        self.unique([p.slug for p in catalog.people], "people", "person slug")
        self.unique([w.slug for w in catalog.works], "works", "work slug")
        return catalog


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


@dataclass(frozen=True)
class KnownNames:
    """What references may point at besides the records of the files being loaded."""

    sources: frozenset[str] = frozenset()
    themes: frozenset[str] = frozenset()
    people: frozenset[str] = frozenset()
    works: frozenset[str] = frozenset()


def check_references(catalog: Catalog, file: str, known: KnownNames) -> list[Problem]:
    """Every slug and source key a record names must exist (in a file being loaded or the DB)."""
    problems: list[Problem] = []

    def need(names: frozenset[str], name: str, position: str, what: str) -> None:
        if name not in names:
            problems.append(Problem(file, position, f"unknown {what} {name!r}"))

    for i, person in enumerate(catalog.people):
        for j, key in enumerate(person.sources):
            need(known.sources, key, f"people[{i}].sources[{j}]", "source")
        for name, keys in person.attributions.items():
            for j, key in enumerate(keys):
                need(known.sources, key, f"people[{i}].attributions.{name}[{j}]", "source")
    for i, work in enumerate(catalog.works):
        at = f"works[{i}]"
        for j, credit in enumerate(work.credits):
            need(known.people, credit.person, f"{at}.credits[{j}].person", "person")
            for k, key in enumerate(credit.sources):
                need(known.sources, key, f"{at}.credits[{j}].sources[{k}]", "source")
        for j, slug in enumerate(work.themes):
            need(known.themes, slug, f"{at}.themes[{j}]", "theme")
        for j, relation in enumerate(work.related):
            need(known.works, relation.work, f"{at}.related[{j}].work", "work")
        for j, key in enumerate(work.sources):
            need(known.sources, key, f"{at}.sources[{j}]", "source")
        for j, dispute in enumerate(work.disputes):
            need(known.sources, dispute.source, f"{at}.disputes[{j}].source", "source")
        for name, keys in work.attributions.items():
            for j, key in enumerate(keys):
                need(known.sources, key, f"{at}.attributions.{name}[{j}]", "source")
    return problems
