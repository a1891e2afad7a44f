"""db.interchange.load (and seeds): all-or-nothing idempotent loading by slug, round trips.

Loads against the shared seeded catalog run inside the test's rolled-back transaction (the
``session`` fixture); round trips through an empty database use a freshly migrated one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cli import _run
from db import models as m
from db.engine import session_factory
from db.interchange.export import export_catalog
from db.interchange.format import FORMAT, CatalogError, Problem, dump_catalog
from db.interchange.load import LoadReport, load_catalogs
from db.search_documents import work_document
from db.text import sort_key
from seeds import BUNDLED_CATALOG, read_documents, seed

KINDS = ("sources", "themes", "studios", "people", "works")
BUNDLED_COUNTS = {"sources": 21, "themes": 16, "studios": 2, "people": 15, "works": 10}


def bundled() -> dict[str, Any]:
    return json.loads(BUNDLED_CATALOG.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def counts(report: LoadReport, outcome: str) -> dict[str, int]:
    return {kind: report.counts[kind][outcome] for kind in KINDS}


def nothing(**overrides: int) -> dict[str, int]:
    return {kind: overrides.get(kind, 0) for kind in KINDS}


def new_work(slug: str = "new-film", **fields: Any) -> dict[str, Any]:
    return {"slug": slug, "title": "A New Film", "kind": "FILM", "year": 1999, **fields}


async def fresh_export(sessions: async_sessionmaker[AsyncSession]) -> str:
    """The export as another session on the test's connection sees it (no identity map)."""
    async with sessions() as s:
        return await export_catalog(s)


async def work_row(session: AsyncSession, slug: str) -> m.Work | None:
    result = await session.execute(
        select(m.Work).where(m.Work.slug == slug).execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


def export_url(url: str) -> str:
    async def export(engine: AsyncEngine) -> str:
        async with session_factory(engine)() as s:
            return await export_catalog(s)

    return _run(export, url)


def seed_url(url: str, files: list[Path]) -> LoadReport:
    return _run(lambda engine: seed(session_factory(engine), files), url)


def write_json(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


# -- (b) idempotent re-load --------------------------------------------------------------------


async def test_loading_the_bundled_catalog_again_changes_nothing(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    statements: Any,
) -> None:
    before = await fresh_export(sessions)
    statements.reset()
    report = await load_catalogs(session, read_documents([BUNDLED_CATALOG]))
    writes = [
        s
        for s in statements.statements
        if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
    assert counts(report, "unchanged") == BUNDLED_COUNTS
    assert counts(report, "created") == nothing()
    assert counts(report, "updated") == nothing()
    assert not report.changed
    assert str(report) == (
        "sources: 0 created, 0 updated, 21 unchanged; themes: 0 created, 0 updated, 16 unchanged; "
        "studios: 0 created, 0 updated, 2 unchanged; "
        "people: 0 created, 0 updated, 15 unchanged; works: 0 created, 0 updated, 10 unchanged"
    )
    assert await fresh_export(sessions) == before


async def test_seed_twice_through_the_seed_command_changes_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    before = await fresh_export(sessions)
    report = await seed(sessions)
    assert counts(report, "unchanged") == BUNDLED_COUNTS
    assert not report.changed
    assert await fresh_export(sessions) == before


# -- (c) round trip through an empty database --------------------------------------------------


def test_export_load_into_an_empty_database_export_is_identical(
    catalog_url: str, migrated_database: str, tmp_path: Path
) -> None:
    assert json.loads(export_url(migrated_database)) == {
        "format": FORMAT,
        "sources": [],
        "themes": [],
        "people": [],
        "works": [],
    }
    exported = export_url(catalog_url)
    path = tmp_path / "export.json"
    path.write_text(exported, encoding="utf-8")

    report = seed_url(migrated_database, [path])
    assert counts(report, "created") == BUNDLED_COUNTS
    assert counts(report, "updated") == nothing()
    assert counts(report, "unchanged") == nothing()

    assert export_url(migrated_database) == exported
    again = seed_url(migrated_database, [path])
    assert counts(again, "unchanged") == BUNDLED_COUNTS
    assert not again.changed


def test_relations_may_point_at_works_later_in_the_document(
    migrated_database: str, tmp_path: Path
) -> None:
    document = {
        "format": FORMAT,
        "works": [
            new_work("a-sequel", related=[{"type": "SEQUEL_OF", "work": "b-original"}]),
            new_work("b-original"),
        ],
    }
    seed_url(migrated_database, [write_json(tmp_path / "c.json", document)])
    exported = json.loads(export_url(migrated_database))
    assert [(w["slug"], w["related"]) for w in exported["works"]] == [
        ("a-sequel", [{"type": "SEQUEL_OF", "work": "b-original"}]),
        ("b-original", []),
    ]


# -- (d) all or nothing ------------------------------------------------------------------------


async def test_one_invalid_record_means_nothing_is_written(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    before = await fresh_export(sessions)
    changed = bundled()
    changed["works"][2]["title"] = "Pulgasari, Renamed"
    changed["works"][2]["titles"][0]["text"] = "Pulgasari, Renamed"  # its MAIN form
    document = {
        "format": FORMAT,
        "themes": [{"slug": "new-theme", "name": "New theme", "description": None}],
        "people": [{"slug": "new-person", "name": "New Person"}],
        "works": [
            new_work("new-film", themes=["new-theme"]),
            changed["works"][2],
            new_work("another-film", credits=[{"person": "kim-nobody", "role": "ACTOR"}]),
            new_work("broken-film", kind="MOVIE"),
        ],
    }
    with pytest.raises(CatalogError) as error:
        await load_catalogs(session, [("bad.json", document)])
    assert error.value.problems == [
        Problem("bad.json", "works[3].kind", "must be one of FILM, SERIES; got 'MOVIE'"),
        Problem("bad.json", "works[2].credits[0].person", "unknown person 'kim-nobody'"),
    ]
    assert "bad.json: works[3].kind: must be one of FILM, SERIES; got 'MOVIE'" in str(error.value)
    assert await work_row(session, "new-film") is None
    assert await fresh_export(sessions) == before
    pulgasari = await work_row(session, "pulgasari")
    assert pulgasari is not None
    assert pulgasari.title == "Pulgasari"


async def test_an_invalid_file_stops_the_valid_ones_loaded_with_it(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    before = await fresh_export(sessions)
    good = {"works": [new_work("good-film")]}
    bad = {"works": [new_work("bad-film", year=1800)]}
    with pytest.raises(CatalogError) as error:
        await load_catalogs(session, [("good.json", good), ("bad.json", bad)])
    assert [(p.file, p.position) for p in error.value.problems] == [("bad.json", "works[0].year")]
    assert await work_row(session, "good-film") is None
    assert await fresh_export(sessions) == before


def test_an_invalid_file_leaves_an_empty_database_empty(
    migrated_database: str, tmp_path: Path
) -> None:
    empty = export_url(migrated_database)
    document = {
        "works": [
            new_work("fine-film"),
            new_work("self", related=[{"type": "REMAKES", "work": "self"}]),
        ]
    }
    with pytest.raises(CatalogError) as error:
        seed_url(migrated_database, [write_json(tmp_path / "bad.json", document)])
    assert [str(p) for p in error.value.problems] == [
        f"{tmp_path / 'bad.json'}: works[1].related[0].work: a work cannot relate to itself"
    ]
    assert export_url(migrated_database) == empty


# -- (e) updates -------------------------------------------------------------------------------


async def test_an_updated_record_is_applied_and_counted(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    document = bundled()
    pulgasari = document["works"][2]
    assert pulgasari["slug"] == "pulgasari"
    pulgasari["title"] = "Pulgasari: The Iron-Eating Monster"
    pulgasari["titles"][0]["text"] = pulgasari["title"]  # its MAIN form is the title
    pulgasari["credits"].reverse()
    assert "fantasy" in pulgasari["themes"]
    pulgasari["themes"].remove("fantasy")

    report = await load_catalogs(session, [("update.json", document)])
    assert counts(report, "updated") == nothing(works=1)
    assert counts(report, "created") == nothing()
    assert counts(report, "unchanged") == {**BUNDLED_COUNTS, "works": 9}
    assert report.changed

    assert await fresh_export(sessions) == dump_catalog(document)
    exported = json.loads(await fresh_export(sessions))
    stored = next(w for w in exported["works"] if w["slug"] == "pulgasari")
    assert stored["title"] == "Pulgasari: The Iron-Eating Monster"
    assert [c["person"] for c in stored["credits"]] == ["chong-gon-jo", "shin-sang-ok"]
    assert "fantasy" not in stored["themes"]

    row = await work_row(session, "pulgasari")
    assert row is not None
    await session.refresh(row, ["search_text"])  # deferred: not loaded with the row
    assert row.title_key == sort_key("Pulgasari: The Iron-Eating Monster")
    assert row.search_text == work_document(
        row.title, "불가사리", pulgasari["alternativeTitles"], pulgasari["synopsis"]
    )

    again = await load_catalogs(session, [("update.json", document)])
    assert counts(again, "unchanged") == BUNDLED_COUNTS
    assert not again.changed


async def test_updated_people_themes_and_sources_are_counted(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    document = bundled()
    document["sources"][0]["title"] = "The Country I Saw (38 North, 2012)"
    document["themes"][1]["description"] = None
    document["people"][12]["alternativeNames"] = ["Simon Sheen"]  # shin-sang-ok
    document["people"][12]["biography"] = "Director of Pulgasari."
    report = await load_catalogs(session, [("people.json", document)])
    assert counts(report, "updated") == nothing(sources=1, themes=1, people=1)
    assert await fresh_export(sessions) == dump_catalog(document)


async def test_a_record_left_out_of_a_document_is_kept(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    before = json.loads(await fresh_export(sessions))
    report = await load_catalogs(session, [("one.json", {"works": [new_work("only-film")]})])
    assert counts(report, "created") == nothing(works=1)
    after = json.loads(await fresh_export(sessions))
    assert [w["slug"] for w in after["works"]] == sorted(
        [*(w["slug"] for w in before["works"]), "only-film"]
    )
    assert after["people"] == before["people"]


# -- (f) later documents win -------------------------------------------------------------------


@pytest.mark.parametrize("order", ["a-then-b", "b-then-a"])
async def test_the_later_document_wins_for_the_same_slug(session: AsyncSession, order: str) -> None:
    first = ("a.json", {"works": [new_work("pulgasari", title="Title From A")]})
    second = ("b.json", {"works": [new_work("pulgasari", title="Title From B", kind="SERIES")]})
    documents = [first, second] if order == "a-then-b" else [second, first]
    report = await load_catalogs(session, documents)
    assert counts(report, "updated") == nothing(works=1)
    row = await work_row(session, "pulgasari")
    assert row is not None
    assert row.title == ("Title From B" if order == "a-then-b" else "Title From A")
    assert row.kind == ("SERIES" if order == "a-then-b" else "FILM")


async def test_the_later_document_wins_for_a_new_slug_and_it_is_created_once(
    session: AsyncSession,
) -> None:
    documents = [
        ("a.json", {"people": [{"slug": "new-person", "name": "First Name"}]}),
        ("b.json", {"people": [{"slug": "new-person", "name": "Second Name"}]}),
        (
            "c.json",
            {"works": [new_work(credits=[{"person": "new-person", "role": "ACTOR"}])]},
        ),
    ]
    report = await load_catalogs(session, documents)
    assert counts(report, "created") == nothing(people=1, works=1)
    name = await session.execute(select(m.Person.name).where(m.Person.slug == "new-person"))
    assert name.scalar_one() == "Second Name"


# -- (g) reading files -------------------------------------------------------------------------


def test_read_documents_decodes_every_file_in_order(tmp_path: Path) -> None:
    a = write_json(tmp_path / "a.json", {"works": []})
    documents = read_documents([BUNDLED_CATALOG, a])
    assert documents == [(str(BUNDLED_CATALOG), bundled()), (str(a), {"works": []})]


def test_read_documents_reports_malformed_json_with_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "format": "nkcinema-catalog/1",\n  "works": [,]\n}\n', encoding="utf-8")
    with pytest.raises(CatalogError) as error:
        read_documents([path])
    (problem,) = error.value.problems
    assert problem == Problem(str(path), "line 3 column 13", "not valid JSON: Expecting value")
    assert str(path) in str(error.value)
    assert "line 3 column 13" in str(error.value)


def test_read_documents_reports_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.json"
    with pytest.raises(CatalogError) as error:
        read_documents([path])
    (problem,) = error.value.problems
    assert problem.file == str(path)
    assert problem.position == ""
    assert problem.reason.startswith("cannot read the file")
    assert str(problem).startswith(f"{path}: cannot read the file")


def test_read_documents_reports_every_bad_file(tmp_path: Path) -> None:
    good = write_json(tmp_path / "good.json", {})
    missing = tmp_path / "missing.json"
    truncated = tmp_path / "truncated.json"
    truncated.write_text('{"works": [', encoding="utf-8")
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes('{"works": [{"title": "Ch\u00f6"}]}'.encode("latin-1"))
    with pytest.raises(CatalogError) as error:
        read_documents([good, missing, truncated, latin1])
    assert [p.file for p in error.value.problems] == [str(missing), str(truncated), str(latin1)]
    assert error.value.problems[1].position == "line 1 column 12"
    assert error.value.problems[2].reason.startswith("cannot read the file")


async def test_seed_with_a_malformed_file_writes_nothing(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    before = await fresh_export(sessions)
    good = write_json(tmp_path / "good.json", {"works": [new_work("good-film")]})
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(CatalogError):
        await seed(sessions, [good, broken])
    assert await fresh_export(sessions) == before
