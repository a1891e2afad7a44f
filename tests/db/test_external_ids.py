"""External identifiers in the data layer: validation and URLs, the tables' constraints, the
interchange format (positions of every problem), the upsert and the canonical export, and the
batch queries (one statement for many records)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models as m
from db.enums import ExternalSystem
from db.external_ids import (
    Owner,
    external_id_problem,
    external_ids_of_people,
    external_ids_of_works,
    external_url,
    people_by_external_id,
    works_by_external_id,
)
from db.interchange.export import export_catalog
from db.interchange.format import CatalogError, ExternalIdRecord, parse_catalog
from db.interchange.load import LoadReport, load_catalogs
from seeds import BUNDLED_CATALOG
from tests.support.sql import StatementCounter

IMDB, WIKIDATA = ExternalSystem.IMDB, ExternalSystem.WIKIDATA
FILE = "ids.json"
CITED = {  # the IMDb ids shared/reference/fact-check.md cites
    "the-flower-girl": "tt0168937",
    "sea-of-blood": "tt0862677",
    "a-traffic-controller-on-crossroads": "tt4309644",
}


def bundled() -> dict[str, Any]:
    return json.loads(BUNDLED_CATALOG.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def work(slug: str = "new-film", *ids: tuple[str, str], **fields: Any) -> dict[str, Any]:
    return {
        "slug": slug,
        "title": "A New Film",
        "kind": "FILM",
        "externalIds": [{"system": s, "value": v} for s, v in ids],
        **fields,
    }


def person(slug: str = "new-person", *ids: tuple[str, str]) -> dict[str, Any]:
    return {
        "slug": slug,
        "name": "New Person",
        "externalIds": [{"system": s, "value": v} for s, v in ids],
    }


def problems_at(document: Any) -> list[tuple[str, str]]:
    _, problems = parse_catalog(document, FILE)
    return [(p.position, p.reason) for p in problems]


async def load(session: AsyncSession, *documents: Any) -> LoadReport:
    return await load_catalogs(session, [(f"doc{i}.json", d) for i, d in enumerate(documents)])


async def stored_ids(session: AsyncSession, slug: str) -> list[tuple[str, str]]:
    t = m.WorkExternalId
    rows = await session.execute(
        select(t.system, t.value)
        .join(m.Work, m.Work.id == t.work_id)
        .where(m.Work.slug == slug)
        .order_by(t.system)
    )
    return [(str(s), v) for s, v in rows]


# -- validation and URLs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("system", "value", "owner"),
    [
        (IMDB, "tt0168937", Owner.WORK),
        (IMDB, "tt12345678", Owner.WORK),
        (IMDB, "nm0000001", Owner.PERSON),
        (IMDB, "nm12345678", Owner.PERSON),
        (WIKIDATA, "Q42", Owner.WORK),
        (WIKIDATA, "Q1", Owner.PERSON),
    ],
)
def test_valid_identifiers(system: ExternalSystem, value: str, owner: Owner) -> None:
    assert external_id_problem(system, value, owner) is None


@pytest.mark.parametrize(
    ("system", "value", "owner"),
    [
        (IMDB, "nm0000001", Owner.WORK),  # a name id on a work
        (IMDB, "tt0168937", Owner.PERSON),  # a title id on a person
        (IMDB, "tt016893", Owner.WORK),  # 6 digits
        (IMDB, "tt123456789", Owner.WORK),  # 9 digits
        (IMDB, "TT0168937", Owner.WORK),
        (IMDB, "tt0168937 ", Owner.WORK),
        (IMDB, "https://www.imdb.com/title/tt0168937", Owner.WORK),
        (IMDB, "tt" + "\uff10" * 7, Owner.WORK),  # fullwidth digits are not digits here
        (WIKIDATA, "q42", Owner.WORK),
        (WIKIDATA, "Q", Owner.WORK),
        (WIKIDATA, "Q042", Owner.PERSON),
        (WIKIDATA, "Q" + "1" * 40, Owner.WORK),  # longer than the column
        (WIKIDATA, "", Owner.WORK),
    ],
)
def test_invalid_identifiers_say_what_was_expected(
    system: ExternalSystem, value: str, owner: Owner
) -> None:
    problem = external_id_problem(system, value, owner)
    assert problem is not None
    assert f"not a valid {system} identifier of a {owner}" in problem
    assert "expected" in problem


def test_urls_are_built_from_the_value() -> None:
    assert external_url(IMDB, "tt0168937", Owner.WORK) == "https://www.imdb.com/title/tt0168937"
    assert external_url(IMDB, "nm0000001", Owner.PERSON) == "https://www.imdb.com/name/nm0000001"
    assert external_url(WIKIDATA, "Q42", Owner.WORK) == "https://www.wikidata.org/wiki/Q42"
    assert external_url(WIKIDATA, "Q42", Owner.PERSON) == "https://www.wikidata.org/wiki/Q42"


# -- the interchange format --------------------------------------------------------------------


def test_the_bundled_catalog_carries_the_cited_imdb_ids() -> None:
    catalog, problems = parse_catalog(bundled(), FILE)
    assert problems == []
    found = {w.slug: [(e.system, e.value) for e in w.external_ids] for w in catalog.works}
    assert {slug: ids for slug, ids in found.items() if ids} == {
        slug: [(IMDB, value)] for slug, value in CITED.items()
    }
    assert all(p.external_ids == [] for p in catalog.people)


def test_external_ids_are_optional_and_default_to_empty() -> None:
    catalog, problems = parse_catalog(
        {"works": [{"slug": "w", "title": "W", "kind": "FILM"}], "people": [person("p")]}, FILE
    )
    assert problems == []
    assert catalog.works[0].external_ids == []
    assert catalog.people[0].external_ids == []


def test_external_ids_are_read_in_system_order() -> None:
    document = {"works": [work("w", ("WIKIDATA", "Q42"), ("IMDB", "tt0168937"))]}
    catalog, problems = parse_catalog(document, FILE)
    assert problems == []
    assert catalog.works[0].external_ids == [
        ExternalIdRecord(IMDB, "tt0168937"),
        ExternalIdRecord(WIKIDATA, "Q42"),
    ]


def test_an_unknown_system_is_reported_at_its_position() -> None:
    document = {"works": [work("a"), work("b", ("IMDB", "tt0168937"), ("TMDB", "123"))]}
    ((position, reason),) = problems_at(document)
    assert position == "works[1].externalIds[1].system"
    assert "must be one of IMDB, WIKIDATA" in reason and "'TMDB'" in reason


def test_a_bad_value_is_reported_at_its_position() -> None:
    document = {
        "people": [person("p", ("WIKIDATA", "Q7"), ("IMDB", "tt0168937"))],
        "works": [work("w", ("IMDB", "nm0000001"))],
    }
    assert problems_at(document) == [
        (
            "people[0].externalIds[1].value",
            "'tt0168937' is not a valid IMDB identifier of a person (expected nm followed by 7 "
            "or 8 digits, e.g. nm0000001)",
        ),
        (
            "works[0].externalIds[0].value",
            "'nm0000001' is not a valid IMDB identifier of a work (expected tt followed by 7 "
            "or 8 digits, e.g. tt0168937)",
        ),
    ]


@pytest.mark.parametrize(
    ("ids", "position", "reason"),
    [
        ("tt0168937", "works[0].externalIds", "expected a list, got a string"),
        (["tt0168937"], "works[0].externalIds[0]", "expected an object, got a string"),
        ([{"system": "IMDB"}], "works[0].externalIds[0].value", "is required"),
        ([{"value": "tt0168937"}], "works[0].externalIds[0].system", "must be one of"),
        (
            [{"system": "IMDB", "value": "tt0168937", "url": "x"}],
            "works[0].externalIds[0]",
            "unknown key(s): url",
        ),
        ([{"system": "IMDB", "value": 168937}], "works[0].externalIds[0].value", "expected a"),
        ([{"system": "IMDB", "value": "tt01\x0068937"}], "works[0].externalIds[0].value", "NUL"),
    ],
)
def test_malformed_external_ids_are_reported(ids: Any, position: str, reason: str) -> None:
    document = {"works": [{**work("w"), "externalIds": ids}]}
    ((at, why),) = problems_at(document)
    assert at == position
    assert reason in why


def test_two_ids_of_one_system_on_a_record_are_a_duplicate() -> None:
    document = {"works": [work("w", ("IMDB", "tt0168937"), ("IMDB", "tt0862677"))]}
    assert problems_at(document) == [
        ("works[0].externalIds[1]", "duplicate external id: IMDB is already given")
    ]
    document = {"works": [work("w", ("IMDB", "tt0168937"), ("IMDB", "tt0168937"))]}
    assert [p for p, _ in problems_at(document)] == ["works[0].externalIds[1]"]


def test_a_record_with_a_bad_id_is_left_out_and_the_others_are_read() -> None:
    document = {"works": [work("a", ("IMDB", "tt1")), work("b", ("IMDB", "tt0168937"))]}
    catalog, problems = parse_catalog(document, FILE)
    assert [p.position for p in problems] == ["works[0].externalIds[0].value"]
    assert [w.slug for w in catalog.works] == ["b"]


# -- loading: all or nothing, one record per identifier ----------------------------------------


async def test_one_identifier_on_two_records_of_a_document_is_rejected(
    session: AsyncSession,
) -> None:
    document = {
        "works": [work("one", ("IMDB", "tt7654321")), work("two", ("IMDB", "tt7654321"))],
        "people": [person("p1", ("WIKIDATA", "Q5")), person("p2", ("WIKIDATA", "Q5"))],
    }
    with pytest.raises(CatalogError) as raised:
        await load(session, document)
    assert [str(p) for p in raised.value.problems] == [
        "doc0.json: works[1].externalIds[0].value: IMDB 'tt7654321' already identifies work 'one'",
        "doc0.json: people[1].externalIds[0].value: WIKIDATA 'Q5' already identifies person 'p1'",
    ]
    assert await stored_ids(session, "one") == []


async def test_an_identifier_already_stored_on_another_record_is_rejected(
    session: AsyncSession,
) -> None:
    with pytest.raises(CatalogError) as raised:
        await load(session, {"works": [work("copy", ("IMDB", "tt0168937"))]})
    (problem,) = raised.value.problems
    assert problem.position == "works[0].externalIds[0].value"
    assert problem.reason == "IMDB 'tt0168937' already identifies work 'the-flower-girl'"


async def test_identifiers_across_documents_clash_unless_the_later_one_replaces_the_record(
    session: AsyncSession,
) -> None:
    with pytest.raises(CatalogError) as raised:
        await load(
            session,
            {"works": [work("a", ("IMDB", "tt7654321"))]},
            {"works": [work("b", ("IMDB", "tt7654321"))]},
        )
    assert [(p.file, p.position) for p in raised.value.problems] == [
        ("doc1.json", "works[0].externalIds[0].value")
    ]
    # The later document replaces `a` without the id: `b` may take it.
    await load(
        session,
        {"works": [work("a", ("IMDB", "tt7654321"))]},
        {"works": [work("a"), work("b", ("IMDB", "tt7654321"))]},
    )
    assert await stored_ids(session, "a") == []
    assert await stored_ids(session, "b") == [("IMDB", "tt7654321")]


async def test_an_identifier_can_move_between_records_in_one_load(session: AsyncSession) -> None:
    await load(
        session,
        {
            "works": [work("a", ("IMDB", "tt7654321")), work("b")],
            "people": [person("p", ("IMDB", "nm7654321")), person("q")],
        },
    )
    # `b` comes first in the document, so it is written before `a` gives the id up.
    report = await load(
        session,
        {
            "works": [work("b", ("IMDB", "tt7654321")), work("a")],
            "people": [person("q", ("IMDB", "nm7654321")), person("p")],
        },
    )
    assert report.counts["works"]["updated"] == 2
    assert report.counts["people"]["updated"] == 2
    assert await stored_ids(session, "a") == []
    assert await stored_ids(session, "b") == [("IMDB", "tt7654321")]
    (found,) = await people_by_external_id(session, [(IMDB, "nm7654321")])
    assert found is not None and found.slug == "q"


async def test_external_ids_are_part_of_the_record_for_the_upsert(session: AsyncSession) -> None:
    document = bundled()
    report = await load(session, document)
    assert report.counts["works"] == {"created": 0, "updated": 0, "unchanged": 10}

    girl = next(w for w in document["works"] if w["slug"] == "the-flower-girl")
    girl["externalIds"] = [
        {"system": "WIKIDATA", "value": "Q1000001"},
        {"system": "IMDB", "value": "tt0168937"},
    ]
    choe = next(p for p in document["people"] if p["slug"] == "choe-ik-kyu")
    choe["externalIds"] = [{"system": "WIKIDATA", "value": "Q1000002"}]
    report = await load(session, document)
    assert report.counts["works"] == {"created": 0, "updated": 1, "unchanged": 9}
    assert report.counts["people"] == {"created": 0, "updated": 1, "unchanged": 14}
    assert await stored_ids(session, "the-flower-girl") == [
        ("IMDB", "tt0168937"),
        ("WIKIDATA", "Q1000001"),
    ]

    # The same ids in another order are the same record: nothing changes.
    girl["externalIds"].reverse()
    report = await load(session, document)
    assert not report.changed

    # Dropping the key removes the ids (a record in a file replaces the stored one).
    del girl["externalIds"]
    report = await load(session, document)
    assert report.counts["works"]["updated"] == 1
    assert await stored_ids(session, "the-flower-girl") == []


async def test_the_export_places_external_ids_canonically(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await load(
        session,
        {
            "works": [work("w", ("WIKIDATA", "Q42"), ("IMDB", "tt7654321"))],
            "people": [person("p", ("IMDB", "nm7654321"))],
        },
    )
    await session.commit()
    async with sessions() as other:
        exported = json.loads(await export_catalog(other))
    w = next(x for x in exported["works"] if x["slug"] == "w")
    p = next(x for x in exported["people"] if x["slug"] == "p")
    assert list(w)[-3:] == ["disputes", "externalIds", "attributions"]
    assert list(p)[-3:] == ["sources", "externalIds", "attributions"]
    assert w["externalIds"] == [
        {"system": "IMDB", "value": "tt7654321"},
        {"system": "WIKIDATA", "value": "Q42"},
    ]
    assert p["externalIds"] == [{"system": "IMDB", "value": "nm7654321"}]
    assert all(x["externalIds"] == [] for x in exported["people"] if x["slug"] != "p")


# -- the tables --------------------------------------------------------------------------------


async def _work_id(session: AsyncSession, slug: str) -> int:
    return (await session.execute(select(m.Work.id).where(m.Work.slug == slug))).scalar_one()


async def test_the_database_keeps_one_record_per_identifier(session: AsyncSession) -> None:
    sea = await _work_id(session, "sea-of-blood")
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            await session.execute(
                insert(m.WorkExternalId).values(work_id=sea, system=IMDB, value="tt0168937")
            )


async def test_the_database_keeps_one_identifier_per_system(session: AsyncSession) -> None:
    girl = await _work_id(session, "the-flower-girl")
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            await session.execute(
                insert(m.WorkExternalId).values(work_id=girl, system=IMDB, value="tt7654321")
            )


async def test_the_database_rejects_an_unknown_system(session: AsyncSession) -> None:
    """The enum's CHECK constraint, below the ORM's own validation."""
    girl = await _work_id(session, "the-flower-girl")
    with pytest.raises(StatementError):
        await session.execute(
            insert(m.WorkExternalId).values(work_id=girl, system="TMDB", value="12345")
        )
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            await session.execute(
                text(
                    "INSERT INTO work_external_ids (work_id, system, value) "
                    "VALUES (:work, 'TMDB', '12345')"
                ),
                {"work": girl},
            )


async def test_deleting_a_work_deletes_its_identifiers(session: AsyncSession) -> None:
    sea = await _work_id(session, "sea-of-blood")
    assert await stored_ids(session, "sea-of-blood") == [("IMDB", "tt0862677")]
    await session.execute(delete(m.Work).where(m.Work.id == sea))
    left = await session.execute(select(m.WorkExternalId).where(m.WorkExternalId.work_id == sea))
    assert left.all() == []


# -- batch queries -----------------------------------------------------------------------------


async def test_identifiers_of_many_records_in_one_statement(
    session: AsyncSession, statements: StatementCounter
) -> None:
    await load(
        session,
        {
            "works": [work("w", ("WIKIDATA", "Q42"), ("IMDB", "tt7654321"))],
            "people": [person("p", ("WIKIDATA", "Q43")), person("q")],
        },
    )
    ids = [await _work_id(session, s) for s in ("sea-of-blood", "pulgasari", "w")]
    statements.reset()
    found = await external_ids_of_works(session, [*ids, -1])
    assert statements.count == 1
    assert [[(r.system, r.value) for r in rows] for rows in found] == [
        [(IMDB, "tt0862677")],
        [],
        [(IMDB, "tt7654321"), (WIKIDATA, "Q42")],
        [],
    ]
    people = (
        (await session.execute(select(m.Person.id).where(m.Person.slug.in_(["p", "q"]))))
        .scalars()
        .all()
    )
    statements.reset()
    found_people = await external_ids_of_people(session, sorted(people))
    assert statements.count == 1
    assert sorted([(r.system, r.value) for r in rows] for rows in found_people) == [
        [],
        [(WIKIDATA, "Q43")],
    ]


async def test_records_by_identifier_in_one_statement(
    session: AsyncSession, statements: StatementCounter
) -> None:
    await load(session, {"works": [work("w", ("WIKIDATA", "Q42"))]})
    keys = [
        (IMDB, "tt0862677"),
        (WIKIDATA, "Q42"),
        (IMDB, "tt9999999"),
        (WIKIDATA, "Q0168937"),
        (IMDB, "tt0168937"),
        (IMDB, "tt0862677"),
    ]
    statements.reset()
    found = await works_by_external_id(session, keys)
    assert statements.count == 1
    assert [w.slug if w else None for w in found] == [
        "sea-of-blood",
        "w",
        None,
        None,
        "the-flower-girl",
        "sea-of-blood",
    ]
    assert await works_by_external_id(session, []) == []
    assert await people_by_external_id(session, [(IMDB, "tt0862677")]) == [None]
