"""Loading interchange documents into the database (``nkcinema seed``), all or nothing.

``load_catalogs`` validates every document first (``db.interchange.format``, then references
across documents and the stored catalog) and writes nothing unless all are valid; then it
upserts by slug in bulk and leaves records that did not change untouched.
"""

from __future__ import annotations

import contextlib
import gc
import operator
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from db import facet_counts
from db import models as m
from db.base import Base
from db.catalog_version import bump_catalog_version
from db.enums import Statement
from db.interchange.export import StoredCatalog, read_catalog
from db.interchange.format import (
    Catalog,
    CatalogError,
    EventRecord,
    ExternalIdRecord,
    FormRecord,
    KnownNames,
    PersonRecord,
    Problem,
    SourceRecord,
    StudioRecord,
    ThemeRecord,
    WorkRecord,
    check_external_ids,
    check_references,
    parse_catalog,
    person_json,
    work_json,
)
from db.rules import partial_date
from db.search_documents import (
    person_document,
    searchable_forms,
    theme_document,
    work_document,
)
from db.text import sort_key

Progress = Callable[[str, int, int], None]
"""``progress(phase, done, total)``: how far a load has got (e.g. for a progress bar)."""
# Records per batch: their rows go in one execute per table (multi-row INSERTs of 1,000 rows).
WRITE_BATCH = 2_000
Rows = defaultdict[Any, list[dict[str, Any]]]
T = TypeVar("T")


@dataclass
class LoadReport:
    """What a load did, per record type: created, updated, unchanged."""

    counts: dict[str, dict[str, int]] = field(
        default_factory=lambda: {
            kind: {"created": 0, "updated": 0, "unchanged": 0}
            for kind in ("sources", "themes", "studios", "people", "works")
        }
    )

    def count(self, kind: str, outcome: str) -> None:
        self.counts[kind][outcome] += 1

    @property
    def changed(self) -> bool:
        return any(c["created"] or c["updated"] for c in self.counts.values())

    def __str__(self) -> str:
        return "; ".join(
            f"{kind}: {c['created']} created, {c['updated']} updated, {c['unchanged']} unchanged"
            for kind, c in self.counts.items()
        )


def validate_documents(
    documents: list[tuple[str, Any]], stored: StoredCatalog
) -> list[tuple[str, Catalog]]:
    """Parse every document and check its references; raise CatalogError listing all problems."""
    parsed: list[tuple[str, Catalog]] = []
    problems: list[Problem] = []
    for file, data in documents:
        catalog, found = parse_catalog(data, file)
        parsed.append((file, catalog))
        problems.extend(found)
    known = stored.known_names()
    known = KnownNames(
        sources=known.sources.union(*(c.declared.sources for _, c in parsed)),
        themes=known.themes.union(*(c.declared.themes for _, c in parsed)),
        people=known.people.union(*(c.declared.people for _, c in parsed)),
        works=known.works.union(*(c.declared.works for _, c in parsed)),
        studios=known.studios.union(*(c.declared.studios for _, c in parsed)),
    )
    for file, catalog in parsed:
        problems.extend(check_references(catalog, file, known))
    problems.extend(check_external_ids(stored.catalog, parsed))
    if problems:
        raise CatalogError(problems)
    return parsed


async def load_catalogs(
    session: AsyncSession,
    documents: list[tuple[str, Any]],
    *,
    progress: Progress | None = None,
) -> LoadReport:
    """Validate all documents, then upsert their records by slug within the session's transaction.

    Raises CatalogError (before writing anything) if any document is invalid. Later documents
    win where two name the same slug. The caller commits. ``progress(phase, done, total)`` is
    told how far the load has got, phase by phase and batch by batch.
    """
    report_progress = progress or _no_progress
    with paused_gc():
        report_progress("reading the stored catalog", 0, 1)
        stored = await read_catalog(session)
        report_progress("reading the stored catalog", 1, 1)
        report_progress("validating", 0, 1)
        parsed = validate_documents(documents, stored)
        report_progress("validating", 1, 1)
        merged = Catalog()
        for records, attr in (
            ({}, "sources"),
            ({}, "themes"),
            ({}, "studios"),
            ({}, "people"),
            ({}, "works"),
        ):
            for _, catalog in parsed:
                for record in getattr(catalog, attr):
                    records[_key(attr, record)] = record
            getattr(merged, attr).extend(records.values())
        del parsed
        async with facet_counts.deferred(session) as counts:  # recounted once, not per batch
            report = await _Writer(session, stored, report_progress).write(merged)
            counts.changed = report.changed
        if report.changed:
            await bump_catalog_version(session)
    return report


# The service's own tables, which a load never writes: every other table of the schema is
# the catalog's, written by the load or kept by its triggers (counts, the catalog's state).
SERVICE_TABLES = frozenset({"api_tokens", "persisted_documents", "changes"})


def loaded_tables() -> list[str]:
    """The tables a load writes (``SERVICE_TABLES`` aside), in the schema's order."""
    return [t.name for t in Base.metadata.sorted_tables if t.name not in SERVICE_TABLES]


async def analyze_loaded(session: AsyncSession, progress: Progress | None = None) -> None:
    """PostgreSQL: fresh planner statistics for the tables a load writes, in the session's
    transaction (the caller commits). A freshly loaded catalog has none until autovacuum gets
    to it (a minute or more), and its plans until then are guesses: which index a person's
    page of works uses, for one. Autovacuum keeps them fresh from then on.

    SQLite: nothing. It never refreshes statistics by itself, so those of a seed would stay
    the seeded catalog's while the API grows it (the first run seeds 10 works), and with a
    table's statistics saying 10 rows its planner scans the table where the index serves any
    size (the suite's plan tests show it: a search scans ``works`` instead of its FTS
    index). Without statistics it assumes large tables and uses the indexes."""
    if session.get_bind().dialect.name != "postgresql":
        return
    report_progress = progress or _no_progress
    report_progress("analyzing", 0, 1)
    await session.execute(text("ANALYZE " + ", ".join(loaded_tables())))
    report_progress("analyzing", 1, 1)


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection for a while: a big catalog is millions of objects, none
    of them garbage, and the collector would walk them all again and again. Reference
    counting still frees everything."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _no_progress(_phase: str, _done: int, _total: int) -> None:
    pass


# Where ``StoredCatalog`` keeps the database ids of each kind of record, by key or slug.
_ID_MAPS = {
    "sources": "source_ids",
    "themes": "theme_ids",
    "people": "person_ids",
    "works": "work_ids",
    "studios": "studio_ids",
}
# The column of a dependent table that names its record, per kind of record.
_PARENT_COLUMNS = {"people": "person_id", "studios": "studio_id", "works": "work_id"}


def _key(kind: str, record: Any) -> str:
    """What names a record of ``kind``: a source's key, any other's slug."""
    return str(record.key if kind == "sources" else record.slug)


def _table(model: type[Base]) -> Table:
    return Base.metadata.tables[model.__tablename__]


def _chunks(records: Sequence[T], size: int = WRITE_BATCH) -> Iterator[Sequence[T]]:
    for start in range(0, len(records), size):
        yield records[start : start + size]


class _Writer:
    """Writes the merged records in batches: one execute per table and batch, as multi-row
    INSERTs (new records' ids come back with ``RETURNING``), never a statement per record. Records
    that did not change are left alone; a changed record's own row is updated and its
    dependent rows (names, credits, tags, citations, ...) replaced."""

    def __init__(self, session: AsyncSession, stored: StoredCatalog, progress: Progress) -> None:
        self.session = session
        self.stored = stored
        self.progress = progress
        self.report = LoadReport()

    async def write(self, catalog: Catalog) -> LoadReport:
        await self._upsert("sources", m.Source, catalog.sources, values=_source_values)
        await self._upsert("themes", m.Theme, catalog.themes, values=_theme_values)
        studios = await self._upsert(
            "studios", m.Studio, catalog.studios, values=_studio_values, children=(m.StudioSource,)
        )
        await self._children("studios' sources", studios, self._studio_rows)
        people = await self._upsert(
            "people",
            m.Person,
            catalog.people,
            same=lambda old, new: person_json(old) == person_json(new),
            values=_person_values,
            children=(
                m.PersonNameSource,
                m.PersonName,
                m.PersonAlternativeName,
                m.PersonSource,
                m.PersonFieldSource,
                m.PersonExternalId,
            ),
        )
        await self._children("people's names", people, self._person_rows)
        # After every changed person's old identifiers are gone: identifiers may move.
        await self._children("people's identifiers", people, self._person_external_id_rows)
        # Every work has its id before any dependent row is written: relations point ahead.
        works = await self._upsert(
            "works",
            m.Work,
            catalog.works,
            same=lambda old, new: work_json(old) == work_json(new),
            values=lambda w: {**_work_values(w), "theme_ids": self._theme_ids(w)},
            children=(
                m.WorkTitleSource,
                m.WorkTitle,
                m.WorkAlternativeTitle,
                m.CreditSource,
                m.Credit,
                m.WorkTheme,
                m.WorkRelationSource,
                m.WorkRelation,
                m.WorkSource,
                m.Dispute,
                m.WorkFieldSource,
                m.WorkExternalId,
                # the structure (0013): events before the parts they may belong to
                m.WorkStatementSource,
                m.WorkEvent,
                m.WorkPart,
                m.WorkFormRow,
                m.WorkAudience,
                m.WorkOrigin,
                m.WorkStudio,
            ),
        )
        await self._children("works' credits and themes", works, self._work_rows)
        return self.report

    async def _upsert(
        self,
        kind: str,
        model: type[Base],
        records: Sequence[Any],
        *,
        values: Callable[[Any], dict[str, Any]],
        same: Callable[[Any, Any], bool] = operator.eq,
        children: tuple[type[Base], ...] = (),
    ) -> list[Any]:
        """Insert the new records of ``kind`` (the catalog's list: "works") and update the
        changed ones (deleting their dependent rows, the ``children``); count them all.
        Return the records written, new and changed."""
        table = _table(model)
        ids: dict[str, int] = getattr(self.stored, _ID_MAPS[kind])
        old_records = {_key(kind, r): r for r in getattr(self.stored.catalog, kind)}
        key = table.c.key if kind == "sources" else table.c.slug
        new: list[Any] = []
        changed: list[Any] = []
        for record in records:
            old = old_records.get(_key(kind, record))
            if old is None:
                new.append(record)
            elif same(old, record):
                self.report.count(kind, "unchanged")
            else:
                changed.append(record)
        total, done = len(new) + len(changed), 0
        if total:
            self.progress(f"writing {kind}", 0, total)
        for chunk in _chunks(new):
            result = await self.session.execute(
                insert(table).returning(table.c.id, key), [values(r) for r in chunk]
            )
            ids.update((row_key, int(row_id)) for row_id, row_key in result)
            self.report.counts[kind]["created"] += len(chunk)
            done += len(chunk)
            self.progress(f"writing {kind}", done, total)
        for chunk in _chunks(changed):
            parent_ids = [ids[_key(kind, r)] for r in chunk]
            statement = update(table).where(table.c.id == bindparam("_id"))
            if "version" in table.c:  # a changed record is a new version (curators' CONFLICT)
                statement = statement.values(version=table.c.version + 1)
            await self.session.execute(
                statement,
                [{"_id": i, **values(r)} for i, r in zip(parent_ids, chunk, strict=True)],
            )
            for model in children:
                child = _table(model)
                parent = child.c[_PARENT_COLUMNS[kind]]
                await self.session.execute(delete(child).where(parent.in_(parent_ids)))
            self.report.counts[kind]["updated"] += len(chunk)
            done += len(chunk)
            self.progress(f"writing {kind}", done, total)
        return new + changed

    async def _children(
        self,
        what: str,
        records: list[Any],
        rows_of: Callable[[Any, Rows], None],
    ) -> None:
        """Insert the dependent rows of ``records``, a batch of records at a time, one
        statement per table and batch (tables in ``rows``' order: parents first)."""
        done = 0
        if records:
            self.progress(f"writing {what}", 0, len(records))
        for chunk in _chunks(records):
            rows: Rows = defaultdict(list)
            for record in chunk:
                rows_of(record, rows)
            for model, table_rows in rows.items():
                if model is m.DisputePerson and table_rows:
                    table_rows = await self._with_dispute_ids(table_rows)
                if table_rows:
                    await self._insert_rows(_table(model), table_rows)
            done += len(chunk)
            self.progress(f"writing {what}", done, len(records))

    async def _with_dispute_ids(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The people disputes report, written after their disputes: each row names its
        dispute by (work id, position) until the dispute's id is read back here (one
        statement per batch)."""
        d = m.Dispute
        work_ids = sorted({row["_work_id"] for row in rows})
        found = await self.session.execute(
            select(d.work_id, d.position, d.id).where(d.work_id.in_(work_ids))
        )
        ids = {(work_id, position): dispute_id for work_id, position, dispute_id in found}
        return [
            {
                "dispute_id": ids[(row["_work_id"], row["_position"])],
                **{k: v for k, v in row.items() if not k.startswith("_")},
            }
            for row in rows
        ]

    async def _insert_rows(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """Insert rows with multi-row INSERT statements. An INSERT with RETURNING is what
        SQLAlchemy batches into multi-row statements ("insertmanyvalues") on both databases;
        without it, asyncpg would run one INSERT per row, several times slower (and SQLite's
        executemany is no faster). What it returns (the first key column) is not needed."""
        first_key = next(iter(table.primary_key.columns))
        await self.session.execute(insert(table).returning(first_key), rows)

    def _field_rows(
        self, parent: str, parent_id: int, attributions: dict[str, list[str]]
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for name, keys in attributions.items():
            for key in keys:
                rows.append(
                    {
                        parent: parent_id,
                        "field": name,
                        "source_id": self.stored.source_ids[key],
                        "position": len(rows),
                    }
                )
        return rows

    def _person_rows(self, p: PersonRecord, rows: Rows) -> None:
        ids = self.stored
        person_id = ids.person_ids[p.slug]
        rows[m.PersonAlternativeName] += _listed(
            "person_id", person_id, "name", p.alternative_names
        )
        rows[m.PersonSource] += _listed(
            "person_id", person_id, "source_id", (ids.source_ids[k] for k in p.sources)
        )
        rows[m.PersonFieldSource] += self._field_rows("person_id", person_id, p.attributions)
        self._form_rows(
            rows, m.PersonName, m.PersonNameSource, "person_id", person_id, "name_position", p.names
        )

    def _form_rows(
        self,
        rows: Rows,
        form: type[Base],
        link: type[Base],
        owner: str,
        owner_id: int,
        key: str,
        forms: list[FormRecord],
    ) -> None:
        """A record's title or name forms and the sources citing each (forms first)."""
        for i, t in enumerate(forms):
            rows[form].append(
                {
                    owner: owner_id,
                    "position": i,
                    "text": t.text,
                    "kind": t.kind,
                    "language": t.language,
                    "script": t.script,
                    "romanization": t.romanization,
                    "qualifier": t.qualifier,
                }
            )
        for i, t in enumerate(forms):
            rows[link].extend(
                {owner: owner_id, key: i, "source_id": self.stored.source_ids[k], "position": j}
                for j, k in enumerate(t.sources)
            )

    def _studio_rows(self, s: StudioRecord, rows: Rows) -> None:
        ids = self.stored
        rows[m.StudioSource] += _listed(
            "studio_id", ids.studio_ids[s.slug], "source_id", (ids.source_ids[k] for k in s.sources)
        )

    def _cited(
        self, work_id: int, statement: Statement, item: int, keys: list[str]
    ) -> list[dict[str, Any]]:
        """The rows citing ``keys`` for one value of a work's structure lists."""
        return [
            {
                "work_id": work_id,
                "statement": statement,
                "item": item,
                "source_id": self.stored.source_ids[key],
                "position": j,
            }
            for j, key in enumerate(keys)
        ]

    def _structure_rows(self, w: WorkRecord, work_id: int, rows: Rows) -> None:
        """Forms, audience, parts, events (the work's own first, then each part's), studio
        credits and origins, each value with its sources (0013). Parts before events: an
        event may belong to a part."""
        for model in _STRUCTURE_TABLES:  # tables in this order in every batch: parents first
            rows[model]
        rows[m.WorkFormRow] += _listed("work_id", work_id, "form", w.forms)
        if w.audience is not None:
            rows[m.WorkAudience].append({"work_id": work_id, "audience": w.audience})
        cited = rows[m.WorkStatementSource]
        for i, p in enumerate(w.parts):
            rows[m.WorkPart].append(
                {
                    "work_id": work_id,
                    "position": i,
                    "unit": p.unit,
                    "first_number": p.first,
                    "last_number": p.last,
                    "title": p.title,
                }
            )
            cited += self._cited(work_id, Statement.PART, i, p.sources)
        events: list[tuple[int | None, EventRecord]] = [(None, e) for e in w.events]
        events += [(i, e) for i, p in enumerate(w.parts) for e in p.events]
        for position, (part, e) in enumerate(events):
            rows[m.WorkEvent].append(_event_values(work_id, position, part, e))
            cited += self._cited(work_id, Statement.EVENT, position, e.sources)
        for i, c in enumerate(w.studios):
            rows[m.WorkStudio].append(
                {
                    "work_id": work_id,
                    "position": i,
                    "studio_id": self.stored.studio_ids[c.studio],
                    "role": c.role,
                }
            )
            cited += self._cited(work_id, Statement.STUDIO, i, c.sources)
        for i, o in enumerate(w.based_on):
            rows[m.WorkOrigin].append(
                {
                    "work_id": work_id,
                    "position": i,
                    "title": o.title,
                    "original_title": o.original_title,
                    "form": o.form,
                    "note": o.note,
                    "qualifier": o.qualifier,
                }
            )
            cited += self._cited(work_id, Statement.ORIGIN, i, o.sources)

    def _person_external_id_rows(self, p: PersonRecord, rows: Rows) -> None:
        person_id = self.stored.person_ids[p.slug]
        rows[m.PersonExternalId] += _external_ids("person_id", person_id, p.external_ids)

    def _theme_ids(self, w: WorkRecord) -> list[list[int]]:
        """The array migration 0010's triggers keep on the work's row, stored with the work:
        on PostgreSQL the triggers then find it right when the tags are written (one
        statement for many works' tags) and do not rewrite every new row. They decide
        either way."""
        return [[i, self.stored.theme_ids[slug]] for i, slug in enumerate(w.themes)]

    def _work_rows(self, w: WorkRecord, rows: Rows) -> None:
        ids = self.stored
        work_id = ids.work_ids[w.slug]
        rows[m.WorkAlternativeTitle] += _listed("work_id", work_id, "title", w.alternative_titles)
        self._form_rows(
            rows, m.WorkTitle, m.WorkTitleSource, "work_id", work_id, "title_position", w.titles
        )
        # Tags before credits: a credit copies its work's finished tag array when it is
        # written (migration 0011), where a tag written after it would rewrite the credit
        # (on SQLite once per tag, its triggers being per row).
        rows[m.WorkTheme] += _listed(
            "work_id", work_id, "theme_id", (theme_id for _, theme_id in self._theme_ids(w))
        )
        credits = [(ids.person_ids[c.person], c) for c in w.credits]
        rows[m.Credit].extend(
            {
                "work_id": work_id,
                "person_id": person_id,
                "role": c.role,
                "position": i,
                "note": c.note,
                "qualifier": c.qualifier,
                "episodes_first": None if c.episodes is None else c.episodes[0],
                "episodes_last": None if c.episodes is None else c.episodes[1],
            }
            for i, (person_id, c) in enumerate(credits)
        )
        rows[m.CreditSource].extend(
            {
                "work_id": work_id,
                "person_id": person_id,
                "role": c.role,
                "source_id": ids.source_ids[key],
                "position": j,
            }
            for person_id, c in credits
            for j, key in enumerate(c.sources)
        )
        rows[m.WorkRelation].extend(
            {
                "work_id": work_id,
                "related_work_id": ids.work_ids[r.work],
                "type": r.type,
                "position": i,
            }
            for i, r in enumerate(w.related)
        )
        rows[m.WorkRelationSource].extend(
            {
                "work_id": work_id,
                "related_work_id": ids.work_ids[r.work],
                "type": r.type,
                "source_id": ids.source_ids[key],
                "position": j,
            }
            for r in w.related
            for j, key in enumerate(r.sources)
        )
        rows[m.WorkSource] += _listed(
            "work_id", work_id, "source_id", (ids.source_ids[k] for k in w.sources)
        )
        rows[m.Dispute].extend(
            {
                "work_id": work_id,
                "position": i,
                "field": d.field,
                "stated": d.stated,
                "reported": d.reported,
                "source_id": ids.source_ids[d.source],
                "note": d.note,
                "qualifier": d.qualifier,
            }
            for i, d in enumerate(w.disputes)
        )
        rows[m.DisputePerson].extend(
            {
                "_work_id": work_id,
                "_position": i,
                "person_id": ids.person_ids[r.person],
                "role": r.role,
                "position": j,
            }
            for i, d in enumerate(w.disputes)
            for j, r in enumerate(d.reported_people)
        )
        rows[m.WorkFieldSource] += self._field_rows("work_id", work_id, w.attributions)
        rows[m.WorkExternalId] += _external_ids("work_id", work_id, w.external_ids)
        self._structure_rows(w, work_id, rows)


_STRUCTURE_TABLES = (
    m.WorkFormRow,
    m.WorkAudience,
    m.WorkPart,
    m.WorkEvent,
    m.WorkStudio,
    m.WorkOrigin,
    m.WorkStatementSource,
)


def _event_values(work_id: int, position: int, part: int | None, e: EventRecord) -> dict[str, Any]:
    year, month, day = partial_date(e.date)
    until_year, until_month, until_day = (
        partial_date(e.until) if e.until is not None else (None, None, None)
    )
    return {
        "work_id": work_id,
        "position": position,
        "part_position": part,
        "kind": e.kind,
        "year": year,
        "month": month,
        "day": day,
        "until_year": until_year,
        "until_month": until_month,
        "until_day": until_day,
        "place": e.place,
        "qualifier": e.qualifier,
        "note": e.note,
    }


def _listed(
    parent: str, parent_id: int, column: str, values: Iterable[Any]
) -> list[dict[str, Any]]:
    """The rows of one record's ordered list (names, titles, citations, tags)."""
    return [{parent: parent_id, "position": i, column: v} for i, v in enumerate(values)]


def _external_ids(
    parent: str, parent_id: int, external_ids: list[ExternalIdRecord]
) -> list[dict[str, Any]]:
    return [{parent: parent_id, "system": e.system, "value": e.value} for e in external_ids]


def _source_values(s: SourceRecord) -> dict[str, Any]:
    return {"key": s.key, "title": s.title, "url": s.url}


def _named_values(slug: str, name_field: str, name: str, search_text: str) -> dict[str, Any]:
    """What themes, people and works store alike: the slug, the name (``name_field``: a
    work's is its title) with its sort key, and the search text (``db.search_documents``)."""
    return {
        "slug": slug,
        name_field: name,
        f"{name_field}_key": sort_key(name),
        "search_text": search_text,
    }


def _studio_values(s: StudioRecord) -> dict[str, Any]:
    return {
        "slug": s.slug,
        "name": s.name,
        "name_key": sort_key(s.name),
        "original_name": s.original_name,
    }


def _theme_values(t: ThemeRecord) -> dict[str, Any]:
    named = _named_values(t.slug, "name", t.name, theme_document(t.name))
    return {**named, "description": t.description}


def _person_values(p: PersonRecord) -> dict[str, Any]:
    document = person_document(
        p.name,
        p.original_name,
        p.alternative_names,
        p.biography,
        searchable_forms((n.text, n.kind, n.qualifier) for n in p.names),
    )
    named = _named_values(p.slug, "name", p.name, document)
    return {**named, "original_name": p.original_name, "biography": p.biography}


def _work_values(w: WorkRecord) -> dict[str, Any]:
    disputes = [(d.reported, d.note) for d in w.disputes]
    document = work_document(
        w.title,
        w.original_title,
        w.alternative_titles,
        w.synopsis,
        disputes,
        searchable_forms((t.text, t.kind, t.qualifier) for t in w.titles),
    )
    named = _named_values(w.slug, "title", w.title, document)
    return {
        **named,
        "original_title": w.original_title,
        "kind": w.kind,
        "year": w.year,
        "synopsis": w.synopsis,
    }
