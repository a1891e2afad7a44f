"""db.curation, called directly: every write applies the whole change (the record, its
attributions, one audit entry, a new catalog version) or answers user errors and writes
nothing. Each test runs inside the seeded catalog's rolled-back transaction (``session``).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db import models as m
from db.catalog_version import catalog_version
from db.curation import links, names, sources, works
from db.curation.common import free_slug
from db.curation.outcome import (
    CONFLICT,
    DUPLICATE,
    INVALID_ORDER,
    NOT_FOUND,
    REFERENCED,
    REQUIRED,
    RESERVED,
    SLUG_TAKEN,
    Outcome,
    race_error,
)
from db.enums import CreditRole, WorkKind, WorkRelationType
from db.search_documents import person_document, searchable_forms, work_document

FILM = "sea-of-blood"  # a seeded work
DIRECTOR = "choe-ik-kyu"  # a seeded person
THEME = "family"  # a seeded theme


class Ledger:
    """What a write left behind: its audit entries and the catalog version, from a start."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.first_change = 0
        self.version = 0

    async def start(self) -> Ledger:
        self.first_change = int(
            await self.session.scalar(select(func.coalesce(func.max(m.Change.id), 0))) or 0
        )
        self.version = await catalog_version(self.session)
        return self

    async def changes(self) -> list[m.Change]:
        return list(
            await self.session.scalars(
                select(m.Change).where(m.Change.id > self.first_change).order_by(m.Change.id)
            )
        )

    async def bumps(self) -> int:
        return await catalog_version(self.session) - self.version


async def ledger(session: AsyncSession) -> Ledger:
    return await Ledger(session).start()


def codes(outcome: Outcome) -> list[tuple[tuple[str, ...], str]]:
    return [(e.field, e.code) for e in outcome.errors]


async def field_sources(session: AsyncSession, work: m.Work) -> dict[str, str]:
    rows = await session.execute(
        select(m.WorkFieldSource.field, m.Source.key)
        .join(m.Source, m.Source.id == m.WorkFieldSource.source_id)
        .where(m.WorkFieldSource.work_id == work.id)
    )
    return {field: key for field, key in rows}


async def work(session: AsyncSession, slug: str) -> m.Work:
    found = await session.scalar(select(m.Work).where(m.Work.slug == slug))
    assert found is not None
    return found


def changes(**values: Any) -> works.WorkChanges:
    return works.WorkChanges(**values)


async def test_creating_a_work_writes_it_its_links_one_audit_entry_and_a_catalog_version(
    session: AsyncSession,
) -> None:
    book = await ledger(session)
    outcome = await works.create_work(
        session,
        "alice",
        changes(
            title="A New Film", kind=WorkKind.FILM, year=1999, directors=[DIRECTOR], themes=[THEME]
        ),
    )
    assert outcome.errors == []
    created = outcome.record
    assert (created.slug, created.version) == ("a-new-film", 1)
    [entry] = await book.changes()
    assert (entry.actor, entry.operation, entry.subject_type, entry.subject_slug) == (
        "alice",
        "createWork",
        "work",
        "a-new-film",
    )
    assert entry.before is None
    after = json.loads(entry.after or "")
    assert (after["directors"], after["themes"], after["year"]) == ([DIRECTOR], [THEME], 1999)
    assert await book.bumps() == 1
    # no source cited: what the write states is the curator's word
    assert entry.source_key == "curator-alice"
    assert await field_sources(session, created) == {
        "title": "curator-alice",
        "kind": "curator-alice",
        "year": "curator-alice",
    }


async def test_a_write_is_attributed_to_the_source_it_cites(session: AsyncSession) -> None:
    key = await session.scalar(select(m.Source.key).order_by(m.Source.key).limit(1))
    assert key is not None
    outcome = await works.create_work(
        session, "alice", changes(title="Cited", kind=WorkKind.FILM), source=key
    )
    assert outcome.errors == []
    assert await field_sources(session, outcome.record) == {"title": key, "kind": key}
    entry = await session.scalar(select(m.Change).order_by(m.Change.id.desc()).limit(1))
    assert entry is not None and entry.source_key == key


async def test_a_refused_create_writes_nothing(session: AsyncSession) -> None:
    book = await ledger(session)
    works_before = await session.scalar(select(func.count()).select_from(m.Work))
    outcome = await works.create_work(
        session,
        "alice",
        changes(directors=[DIRECTOR, DIRECTOR, "nobody"], themes=["no-such-theme"]),
        slug=FILM,
        source="no-such-source",
    )
    assert outcome.record is None
    assert sorted(codes(outcome)) == sorted(
        [
            (("input", "title"), REQUIRED),
            (("input", "kind"), REQUIRED),
            (("input", "directors", "1"), DUPLICATE),
            (("input", "directors", "2"), NOT_FOUND),
            (("input", "themes", "0"), NOT_FOUND),
            (("input", "source"), NOT_FOUND),
            (("input", "slug"), SLUG_TAKEN),
        ]
    )
    assert await book.changes() == []
    assert await book.bumps() == 0
    assert await session.scalar(select(func.count()).select_from(m.Work)) == works_before


async def test_works_without_a_slug_get_the_next_free_one(session: AsyncSession) -> None:
    first = await works.create_work(session, "alice", changes(title="Twin", kind=WorkKind.FILM))
    second = await works.create_work(session, "alice", changes(title="Twin", kind=WorkKind.FILM))
    assert (first.record.slug, second.record.slug) == ("twin", "twin-2")
    assert await free_slug(session, m.Work, "twin") == "twin-3"


async def test_an_update_names_its_version_and_is_audited_before_and_after(
    session: AsyncSession,
) -> None:
    film = await work(session, FILM)
    version, title = film.version, film.title
    book = await ledger(session)
    stale = await works.update_work(session, "alice", FILM, version + 1, changes(year=1970))
    assert codes(stale) == [(("input", "version"), CONFLICT)]
    missing = await works.update_work(session, "alice", "no-such-work", 1, changes(year=1970))
    assert codes(missing) == [(("input", "slug"), NOT_FOUND)]
    assert await book.changes() == []

    outcome = await works.update_work(session, "alice", FILM, version, changes(year=1970))
    assert outcome.errors == []
    assert (outcome.record.version, outcome.record.year) == (version + 1, 1970)
    [entry] = await book.changes()
    assert entry.operation == "updateWork"
    before, after = json.loads(entry.before or ""), json.loads(entry.after or "")
    assert (before["version"], after["version"], after["year"], after["title"]) == (
        version,
        version + 1,
        1970,
        title,
    )
    assert (await field_sources(session, outcome.record))["year"] == "curator-alice"
    assert await book.bumps() == 1


async def test_an_update_that_changes_nothing_writes_nothing(session: AsyncSession) -> None:
    film = await work(session, FILM)
    version, title, year = film.version, film.title, film.year
    book = await ledger(session)
    outcome = await works.update_work(
        session, "alice", FILM, version, changes(title=title, year=year)
    )
    assert outcome.errors == []
    assert outcome.record.version == version
    assert await book.changes() == []
    assert await book.bumps() == 0


async def test_a_work_another_relates_to_cannot_be_deleted(session: AsyncSession) -> None:
    made = await works.create_work(session, "alice", changes(title="Gone", kind=WorkKind.FILM))
    other = await work(session, FILM)
    related = await links.relate(
        session, "alice", FILM, other.version, WorkRelationType.REMAKES, "gone", add=True
    )
    assert related.errors == []
    book = await ledger(session)
    refused = await works.delete_work(session, "root", "gone", made.record.version)
    assert codes(refused) == [(("input", "slug"), REFERENCED)]
    assert await book.changes() == []


async def test_a_deletion_is_audited_with_the_record_as_it_was(session: AsyncSession) -> None:
    made = await works.create_work(session, "alice", changes(title="Gone", kind=WorkKind.FILM))
    book = await ledger(session)
    stale = await works.delete_work(session, "root", "gone", 7)
    assert codes(stale) == [(("input", "version"), CONFLICT)]
    outcome = await works.delete_work(session, "root", "gone", made.record.version)
    assert outcome.errors == [] and outcome.record.slug == "gone"
    assert await session.scalar(select(m.Work.id).where(m.Work.slug == "gone")) is None
    [entry] = await book.changes()
    assert (entry.actor, entry.operation, entry.after) == ("root", "deleteWork", None)
    assert json.loads(entry.before or "")["title"] == "Gone"


async def test_credits_bump_the_work_and_are_attributed(session: AsyncSession) -> None:
    made = await works.create_work(session, "alice", changes(title="Credits", kind=WorkKind.FILM))
    book = await ledger(session)
    added = await links.add_credit(session, "alice", "credits", 1, DIRECTOR, CreditRole.DIRECTOR)
    assert added.errors == [] and added.record.version == 2
    again = await links.add_credit(session, "alice", "credits", 2, DIRECTOR, CreditRole.DIRECTOR)
    assert codes(again) == [(("input", "person"), DUPLICATE)]
    credit_source = await session.scalar(
        select(m.Source.key)
        .join(m.CreditSource, m.CreditSource.source_id == m.Source.id)
        .where(m.CreditSource.work_id == made.record.id)
    )
    assert credit_source == "curator-alice"
    wrong = await links.reorder_credits(session, "alice", "credits", 2, [])
    assert codes(wrong) == [(("input", "order"), INVALID_ORDER)]
    removed = await links.remove_credit(
        session, "alice", "credits", 2, DIRECTOR, CreditRole.DIRECTOR
    )
    assert removed.errors == [] and removed.record.version == 3
    assert [c.operation for c in await book.changes()] == ["addCredit", "removeCredit"]
    assert await book.bumps() == 2


async def test_tags_and_disputes(session: AsyncSession) -> None:
    await works.create_work(session, "alice", changes(title="Tagged", kind=WorkKind.FILM))
    tagged = await links.tag(session, "alice", "tagged", 1, THEME, add=True)
    assert tagged.errors == []
    twice = await links.tag(session, "alice", "tagged", 2, THEME, add=True)
    assert codes(twice) == [(("input", "theme"), DUPLICATE)]
    key = await session.scalar(select(m.Source.key).order_by(m.Source.key).limit(1))
    assert key is not None
    disputed = await links.add_dispute(
        session, "alice", "tagged", 2, "year", "1970", "1971", key, None
    )
    assert disputed.errors == [] and disputed.record.version == 3
    gone = await links.remove_dispute(session, "alice", "tagged", 3, 5)
    assert codes(gone) == [(("input", "position"), NOT_FOUND)]
    assert (await links.remove_dispute(session, "alice", "tagged", 3, 0)).errors == []


async def test_people_are_created_attributed_changed_and_kept_while_credited(
    session: AsyncSession,
) -> None:
    book = await ledger(session)
    made = await names.create(
        session, names.PERSON, "alice", {"name": "Ri Nam", "biography": None}, None
    )
    assert made.errors == [] and made.record.slug == "ri-nam"
    attributed = await session.scalar(
        select(m.Source.key)
        .join(m.PersonFieldSource, m.PersonFieldSource.source_id == m.Source.id)
        .where(m.PersonFieldSource.person_id == made.record.id)
    )
    assert attributed == "curator-alice"
    same = await names.change(session, names.PERSON, "alice", "ri-nam", 1, {"name": "Ri Nam"})
    assert same.errors == [] and same.record.version == 1  # a no-op: nothing written
    renamed = await names.change(session, names.PERSON, "alice", "ri-nam", 1, {"name": "Ri Nam 2"})
    assert renamed.errors == [] and renamed.record.version == 2
    stale = await names.change(session, names.PERSON, "alice", "ri-nam", 1, {"name": "X"})
    assert codes(stale) == [(("input", "version"), CONFLICT)]
    credited = await session.scalar(select(m.Person.version).where(m.Person.slug == DIRECTOR))
    assert credited is not None
    kept = await names.remove(session, names.PERSON, "root", DIRECTOR, credited)
    assert codes(kept) == [(("input", "slug"), REFERENCED)]
    removed = await names.remove(session, names.PERSON, "root", "ri-nam", 2)
    assert removed.errors == []
    entries = await book.changes()
    assert [(c.operation, c.subject_type) for c in entries] == [
        ("createPerson", "person"),
        ("updatePerson", "person"),
        ("deletePerson", "person"),
    ]
    assert json.loads(entries[1].after or "")["name"] == "Ri Nam 2"


async def test_themes_need_a_name_and_are_deleted_only_unused(session: AsyncSession) -> None:
    nameless = await names.create(session, names.THEME, "alice", {"name": None}, None)
    assert codes(nameless) == [(("input", "name"), REQUIRED)]
    used = await session.scalar(select(m.Theme.version).where(m.Theme.slug == THEME))
    assert used is not None
    kept = await names.remove(session, names.THEME, "root", THEME, used)
    assert codes(kept) == [(("input", "slug"), REFERENCED)]
    made = await names.create(session, names.THEME, "alice", {"name": "Rivers"}, "rivers")
    assert made.errors == [] and made.record.slug == "rivers"
    assert (await names.remove(session, names.THEME, "root", "rivers", 1)).errors == []


async def test_sources_are_created_once_and_curator_keys_are_reserved(
    session: AsyncSession,
) -> None:
    book = await ledger(session)
    made = await sources.create_source(session, "alice", "kfa-1972", "A catalogue", None)
    assert made.errors == [] and made.record.key == "kfa-1972"
    taken = await sources.create_source(session, "alice", "kfa-1972", "Again", None)
    assert codes(taken) == [(("input", "key"), SLUG_TAKEN)]
    reserved = await sources.create_source(session, "alice", "curator-bob", "Not mine", None)
    assert codes(reserved) == [(("input", "key"), RESERVED)]
    [entry] = await book.changes()
    assert (entry.operation, entry.subject_type, entry.subject_slug) == (
        "createSource",
        "source",
        "kfa-1972",
    )


def test_only_a_lost_race_is_a_user_error() -> None:
    assert race_error(ValueError("not a database error")) is None
    assert race_error(IntegrityError("INSERT", {}, Exception("something else"))) is None


async def test_the_search_document_follows_the_synopsis_and_the_disputes(
    session: AsyncSession,
) -> None:
    """A work's synopsis and what its disputes report and note are searched (ranked below
    its names): every write that changes them rebuilds its document as the import does."""
    created = await works.create_work(
        session, "alice", changes(title="Searched", kind=WorkKind.FILM, synopsis="A drama.")
    )
    assert created.errors == []

    async def document() -> str:
        row = await work(session, "searched")
        await session.refresh(row, ["search_text"])  # deferred: not loaded with the row
        return row.search_text

    assert await document() == work_document("Searched", None, [], "A drama.")
    updated = await works.update_work(
        session, "alice", "searched", 1, changes(synopsis="A comedy.")
    )
    assert updated.errors == []
    assert await document() == work_document("Searched", None, [], "A comedy.")
    key = await session.scalar(select(m.Source.key).order_by(m.Source.key).limit(1))
    assert key is not None
    disputed = await links.add_dispute(
        session, "alice", "searched", 2, "directors", "-", "Kim Jun-ok", key, "Led production."
    )
    assert disputed.errors == []
    assert await document() == work_document(
        "Searched", None, [], "A comedy.", [("Kim Jun-ok", "Led production.")]
    )
    assert (await links.remove_dispute(session, "alice", "searched", 3, 0)).errors == []
    assert await document() == work_document("Searched", None, [], "A comedy.")


async def test_a_curated_record_keeps_the_search_document_the_import_built(
    session: AsyncSession,
) -> None:
    """Typed titles and names the contract's lists do not hold (네거리 초병, "probably")
    stay searchable after a curator's write: a change made and undone leaves the document
    the catalog import wrote, for a work and for a person."""
    slug = "a-traffic-controller-on-crossroads"
    row = await work(session, slug)
    await session.refresh(row, ["search_text"])  # deferred: not loaded with the row
    seeded, synopsis, version = row.search_text, row.synopsis, row.version
    assert "negeorichobyeong" in seeded  # the generated RR form of 네거리 초병
    for step, text in enumerate(("Rewritten.", synopsis)):
        done = await works.update_work(
            session, "alice", slug, version + step, changes(synopsis=text)
        )
        assert done.errors == []
    await session.refresh(row, ["search_text"])
    assert row.search_text == seeded

    person = await session.scalar(select(m.Person).where(m.Person.slug == "choe-ik-kyu"))
    assert person is not None
    alternatives = await session.scalars(
        select(m.PersonAlternativeName.name)
        .where(m.PersonAlternativeName.person_id == person.id)
        .order_by(m.PersonAlternativeName.position)
    )
    forms = await session.execute(
        select(m.PersonName.text, m.PersonName.kind, m.PersonName.qualifier)
        .where(m.PersonName.person_id == person.id)
        .order_by(m.PersonName.position)
    )
    typed = searchable_forms((text, form, qualifier) for text, form, qualifier in forms)
    assert "Choe Ik-gyu" in typed
    done = await names.change(
        session,
        names.PERSON,
        "alice",
        "choe-ik-kyu",
        person.version,
        {"biography": "A director."},
    )
    assert done.errors == []
    await session.refresh(person)
    await session.refresh(person, ["search_text"])  # deferred: not loaded with the row
    assert person.search_text == person_document(
        person.name, person.original_name, list(alternatives), "A director.", typed
    )
