"""Synthetic catalogs (``seeds.synthetic``, ``nkcinema seed --synthetic N``): deterministic,
valid, shaped like a real catalog, and loaded through the same path as any catalog file."""

from __future__ import annotations

import collections
import hashlib
import io
import json
import os
import random
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from cli import migrate
from db.interchange.export import StoredCatalog, export_catalog
from db.interchange.format import Catalog, catalog_to_json, dump_catalog, parse_catalog
from db.interchange.load import load_catalogs, validate_documents
from seeds import ProgressBar
from seeds.synthetic import (
    PROLIFIC_CAREERS,
    SOURCE_KEY,
    THEME_COUNT,
    _director_careers,
    synthetic_catalog,
)
from tests.support.cli import COMMAND_TIMEOUT, KINDS, export, nkcinema, ok, seed_report
from tests.support.databases import Databases

REPO = Path(__file__).resolve().parents[2]
HANGUL = range(0xAC00, 0xD7A4)


def has_hangul(text: str | None) -> bool:
    return text is not None and any(ord(c) in HANGUL for c in text)


def digest(document: dict[str, Any]) -> str:
    return hashlib.sha256(dump_catalog(document).encode("utf-8")).hexdigest()


# -- the generator ---------------------------------------------------------------------------


def test_the_same_works_and_seed_give_the_same_document_byte_for_byte() -> None:
    assert dump_catalog(synthetic_catalog(400, 7)) == dump_catalog(synthetic_catalog(400, 7))


@pytest.mark.parametrize("other", [(400, 8), (401, 7)])
def test_another_seed_or_size_gives_another_document(other: tuple[int, int]) -> None:
    assert digest(synthetic_catalog(*other)) != digest(synthetic_catalog(400, 7))


def test_the_document_does_not_depend_on_the_process() -> None:
    """No hash-ordered iteration: other string hash seeds give the same bytes."""
    code = (
        "import hashlib; from seeds.synthetic import synthetic_catalog; "
        "from db.interchange.format import dump_catalog; "
        "print(hashlib.sha256(dump_catalog(synthetic_catalog(300, 5)).encode()).hexdigest())"
    )
    expected = digest(synthetic_catalog(300, 5))
    for hash_seed in ("1", "2"):
        result = subprocess.run(
            [sys.executable, "-c", code],
            cwd=REPO,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=True,
        )
        assert result.stdout.strip() == expected


@pytest.mark.parametrize("works", [1, 300, 2000])
def test_the_document_is_valid(works: int) -> None:
    document = synthetic_catalog(works, 3)
    catalog, problems = parse_catalog(document, "synthetic")
    assert problems == []
    assert len(catalog.works) == works
    # References too (every credited person, theme, related work and source exists).
    validate_documents([("synthetic", document)], StoredCatalog(Catalog()))


@pytest.fixture(scope="module")
def catalog() -> dict[str, Any]:
    return synthetic_catalog(2000, 11)


def test_one_synthetic_source_cites_every_record(catalog: dict[str, Any]) -> None:
    assert catalog["sources"] == [
        {"key": SOURCE_KEY, "title": "Synthetic catalog (seed 11)", "url": None}
    ]
    for record in catalog["people"] + catalog["works"]:
        assert record["sources"] == [SOURCE_KEY]


def test_people_are_about_half_the_works_and_themes_a_few_hundred(
    catalog: dict[str, Any],
) -> None:
    assert len(catalog["works"]) == 2000
    assert 900 <= len(catalog["people"]) <= 1100
    assert len(catalog["themes"]) == THEME_COUNT
    assert 200 <= THEME_COUNT <= 500
    assert len({p["slug"] for p in catalog["people"]}) == len(catalog["people"])
    assert len({w["slug"] for w in catalog["works"]}) == len(catalog["works"])


def test_credits_and_themes_per_work_are_within_bounds(catalog: dict[str, Any]) -> None:
    directors, others, themes = [], [], []
    for work in catalog["works"]:
        roles = [c["role"] for c in work["credits"]]
        directing = roles.count("DIRECTOR")
        assert roles[:directing] == ["DIRECTOR"] * directing, "directors are billed first"
        directors.append(directing)
        others.append(len(roles) - directing)
        themes.append(len(work["themes"]))
    assert min(directors) == 1 and max(directors) == 3
    assert min(others) == 0 and max(others) == 8
    assert min(themes) == 1 and max(themes) == 5
    assert 1.2 <= statistics.fmean(directors) <= 1.6
    assert 2.5 <= statistics.fmean(others) <= 5.5
    other_roles = {c["role"] for w in catalog["works"] for c in w["credits"]} - {"DIRECTOR"}
    assert {"ACTOR", "WRITER", "COMPOSER", "PRODUCER"} <= other_roles


def test_works_per_director_are_skewed(catalog: dict[str, Any]) -> None:
    per_director = collections.Counter(
        c["person"] for w in catalog["works"] for c in w["credits"] if c["role"] == "DIRECTOR"
    )
    counts = sorted(per_director.values(), reverse=True)
    assert counts[0] >= 4 * statistics.median(counts)
    assert statistics.median(counts) <= 5


def test_a_few_directors_have_100_works_or_more_at_100000_works() -> None:
    rng = random.Random(1)
    careers = _director_careers(rng, 100_000, 140_000, 50_000)
    per_director = collections.Counter(careers)
    prolific = [n for n in per_director.values() if n >= 100]
    assert len(PROLIFIC_CAREERS) - 3 <= len(prolific) <= len(PROLIFIC_CAREERS) + 3
    assert statistics.median(per_director.values()) <= 5


def test_titles_names_and_years_look_like_a_catalog(catalog: dict[str, Any]) -> None:
    works, people = catalog["works"], catalog["people"]

    def share(records: list[dict[str, Any]], test: Any) -> float:
        return sum(1 for r in records if test(r)) / len(records)

    assert 0.3 <= share(works, lambda w: has_hangul(w.get("originalTitle"))) <= 0.5
    assert 0.02 <= share(works, lambda w: has_hangul(w["title"])) <= 0.1
    assert 0.1 <= share(works, lambda w: w.get("alternativeTitles")) <= 0.3
    assert 0.4 <= share(people, lambda p: has_hangul(p.get("originalName"))) <= 0.6
    assert 0.05 <= share(people, lambda p: p.get("alternativeNames")) <= 0.25
    assert 0.02 <= share(works, lambda w: w["year"] is None) <= 0.1
    assert 0.1 <= share(works, lambda w: w["kind"] == "SERIES") <= 0.3
    assert 0.2 <= share(works, lambda w: w.get("synopsis")) <= 0.4
    assert any(w.get("related") for w in works)
    years = [w["year"] for w in works if w["year"] is not None]
    assert min(years) >= 1945 and max(years) <= 2020
    for work in works:
        assert work["title"] not in work.get("alternativeTitles", [])


def test_generation_reports_its_progress() -> None:
    seen: list[tuple[int, int]] = []
    synthetic_catalog(12_000, 1, progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, 12_000)
    assert seen[-1] == (12_000, 12_000)
    assert len(seen) >= 3


def test_the_progress_bar_writes_a_line_per_phase_off_a_terminal() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream)
    for done in range(0, 11):
        bar("writing works", done * 100, 1000)
    bar("committing", 0, 1)
    bar("committing", 1, 1)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("writing works") and "100%" in lines[0] and "1,000/1,000" in lines[0]
    assert "#" * 30 in lines[0]
    assert lines[1].startswith("committing")


# -- loading ---------------------------------------------------------------------------------


async def test_a_synthetic_catalog_loads_as_it_is_written(session: AsyncSession) -> None:
    """Through ``load_catalogs`` (the bulk writer): exported back, every record is the
    canonical form of the generated one."""
    document = synthetic_catalog(300, 4)
    report = await load_catalogs(session, [("synthetic", document)])
    assert report.counts["works"]["created"] == 300
    assert report.counts["people"]["created"] == len(document["people"])
    exported = json.loads(await export_catalog(session))
    expected = catalog_to_json(parse_catalog(document, "synthetic")[0])
    for kind in ("themes", "people", "works"):
        slugs = {r["slug"] for r in expected[kind]}
        assert [r for r in exported[kind] if r["slug"] in slugs] == expected[kind]
    assert [s for s in exported["sources"] if s["key"] == SOURCE_KEY] == expected["sources"]

    again = await load_catalogs(session, [("synthetic", document)])
    assert not again.changed


# -- the command -----------------------------------------------------------------------------


def test_seed_synthetic_loads_the_catalog_and_again_changes_nothing(
    migrated_database: str, tmp_path: Path
) -> None:
    first = ok("seed", "--synthetic", "500", database_url=migrated_database, cwd=tmp_path)
    report = seed_report(first.stdout)
    document = synthetic_catalog(500)
    for kind in KINDS:
        assert report[kind] == {"created": len(document[kind]), "updated": 0, "unchanged": 0}
    for phase in ("generating", "validating", "writing works", "committing"):
        assert any(
            line.startswith(phase) and "100%" in line for line in first.stderr.splitlines()
        ), first.stderr

    exported = export(migrated_database, tmp_path)
    counts = {kind: len(json.loads(exported)[kind]) for kind in KINDS}
    assert counts == {kind: len(document[kind]) for kind in KINDS}
    expected = catalog_to_json(parse_catalog(document, "synthetic")[0])
    assert exported.decode("utf-8") == dump_catalog(expected)

    second = seed_report(
        ok("seed", "--synthetic", "500", database_url=migrated_database, cwd=tmp_path).stdout
    )
    for kind in KINDS:
        assert second[kind] == {"created": 0, "updated": 0, "unchanged": len(document[kind])}
    assert export(migrated_database, tmp_path) == exported


def test_another_seed_updates_the_catalog_in_place(migrated_database: str, tmp_path: Path) -> None:
    ok("seed", "--synthetic", "300", "--seed", "1", database_url=migrated_database, cwd=tmp_path)
    report = seed_report(
        ok(
            "seed",
            "--synthetic",
            "300",
            "--seed",
            "2",
            database_url=migrated_database,
            cwd=tmp_path,
        ).stdout
    )
    assert report["sources"] == {"created": 0, "updated": 1, "unchanged": 0}
    assert report["works"]["created"] + report["works"]["updated"] > 0
    # The catalog holds what both seeds named, the later seed's version where they overlap.
    exported = json.loads(export(migrated_database, tmp_path))
    later = {w["slug"]: w for w in synthetic_catalog(300, 2)["works"]}
    stored = {w["slug"]: w for w in exported["works"] if w["slug"] in later}
    assert len(stored) == len(later)
    for slug, work in later.items():
        assert stored[slug]["title"] == work["title"]
        assert [c["person"] for c in stored[slug]["credits"]] == [
            c["person"] for c in work["credits"]
        ]


def test_output_writes_a_file_that_seed_loads_to_the_same_catalog(
    migrated_database: str, databases: Databases, tmp_path: Path
) -> None:
    out = tmp_path / "synthetic.json"
    # The database is not touched: it need not even be migrated.
    unmigrated = databases.create()
    written = ok(
        "seed", "--synthetic", "400", "--seed", "9", "--output", str(out),
        database_url=unmigrated, cwd=tmp_path,
    )  # fmt: skip
    assert "the database was not touched" in written.stdout
    assert str(out) in written.stdout
    assert out.read_text(encoding="utf-8") == dump_catalog(synthetic_catalog(400, 9))

    ok("seed", str(out), database_url=migrated_database, cwd=tmp_path)
    other = databases.create()
    migrate(other)
    ok("seed", "--synthetic", "400", "--seed", "9", database_url=other, cwd=tmp_path)
    assert export(migrated_database, tmp_path) == export(other, tmp_path)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--synthetic", "10", "catalog.json"), "give no FILE"),
        (("--seed", "3"), "go with --synthetic"),
        (("--output", "out.json"), "go with --synthetic"),
        (("catalog.json", "--output", "out.json"), "go with --synthetic"),
        (("--synthetic", "0"), "at least 1"),
        (("--synthetic", "many"), "not a number of works"),
        (("--synthetic", "10", "--seed", "x"), "invalid int value"),
    ],
)
def test_argument_errors_exit_2_with_a_clear_message(
    migrated_database: str, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    (tmp_path / "catalog.json").write_text('{"format": "nkcinema-catalog/1"}', encoding="utf-8")
    before = export(migrated_database, tmp_path)
    result = nkcinema("seed", *args, database_url=migrated_database, cwd=tmp_path)
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    assert message in result.stderr, result.stderr
    assert "usage: nkcinema seed" in result.stderr
    assert not (tmp_path / "out.json").exists()
    assert export(migrated_database, tmp_path) == before
