"""The ``nkcinema`` console script, run as a subprocess against throwaway databases.

Every command runs in a temporary working directory with DATABASE_URL set to a database of
the backend under test (SQLite by default, PostgreSQL when TEST_DATABASE_URL is set).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from cli import alembic_config, migrate
from db.engine import create_engine
from db.interchange.load import loaded_tables
from seeds import BUNDLED_CATALOG
from tests.support.cli import COMMAND_TIMEOUT, KINDS, export, nkcinema, ok, seed_report
from tests.support.databases import Databases, backend_name
from tests.support.live import NKCINEMA, SERVER_START_TIMEOUT, free_port, serve, server_env, stop

ON_POSTGRESQL = backend_name() == "postgresql"

DIRECTOR_QUERY = (
    '{ person(slug: "choe-ik-kyu") { originalName '
    "works(role: DIRECTOR) { nodes { title year kind } } } }"
)
DIRECTOR_WORKS = [
    {"title": "The Flower Girl", "year": 1972, "kind": "FILM"},
    {"title": "The Country I Saw", "year": 1987, "kind": "SERIES"},
    {"title": "A Traffic Controller on Crossroads", "year": 1989, "kind": "SERIES"},
]


@pytest.fixture
def seeded_database(migrated_database: str, tmp_path: Path) -> str:
    """A migrated database holding the bundled catalog, seeded through the CLI."""
    ok("seed", database_url=migrated_database, cwd=tmp_path)
    return migrated_database


Statistics = dict[str, tuple[int, list[int], object]]


async def _statistics(database_url: str) -> Statistics:
    """Each loaded table's rows, the row counts its planner statistics give, and when it was
    last analyzed by hand (PostgreSQL; None on SQLite). PostgreSQL: ``pg_class.reltuples``
    and ``pg_stat_user_tables.last_analyze`` (autovacuum's are ``last_autoanalyze``); SQLite:
    ``sqlite_stat1``'s lines (one per index, or one for a table without), each leading with
    the row count."""
    engine = create_engine(database_url)
    found: Statistics = {}
    try:
        async with engine.connect() as connection:
            postgres = engine.dialect.name == "postgresql"
            stat1 = "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"
            has_stat1 = postgres or (await connection.execute(text(stat1))).scalar_one() > 0
            for table in loaded_tables():
                rows = await connection.execute(text(f"SELECT count(*) FROM {table}"))
                count, counted, analyzed = int(rows.scalar_one()), [], None
                if postgres:
                    stats = await connection.execute(
                        text(
                            "SELECT c.reltuples, s.last_analyze FROM pg_class c"
                            " JOIN pg_stat_user_tables s ON s.relid = c.oid"
                            " WHERE s.relname = :t"
                        ),
                        {"t": table},
                    )
                    reltuples, analyzed = stats.one()
                    counted = [int(reltuples)]
                elif has_stat1:
                    stats = await connection.execute(
                        text("SELECT stat FROM sqlite_stat1 WHERE tbl = :t"), {"t": table}
                    )
                    counted = [int(str(r[0]).split()[0]) for r in stats]
                found[table] = (count, counted, analyzed)
    finally:
        await engine.dispose()
    return found


def test_seed_leaves_planner_statistics_for_the_tables_it_loaded_on_postgresql(
    migrated_database: str, tmp_path: Path
) -> None:
    """Right after ``nkcinema seed`` into a fresh PostgreSQL database, every table the load
    wrote has statistics counting the rows it holds, from an ANALYZE run since the migrations
    (which analyze a few tables while they are empty): the first requests are planned for the
    catalog as loaded, not for empty tables (autovacuum would get there a minute or more
    later). On SQLite, none: they would never be refreshed as the API grows the catalog
    (``db.interchange.load.analyze_loaded``)."""
    before = asyncio.run(_statistics(migrated_database))
    ok("seed", database_url=migrated_database, cwd=tmp_path)
    after = asyncio.run(_statistics(migrated_database))
    assert before["works"][0] == 0
    loaded = {table for table, (count, _, _) in after.items() if count}
    assert {"works", "people", "themes", "credits", "work_themes", "sources"} <= loaded
    for table in sorted(loaded):
        count, counted, analyzed = after[table]
        if not ON_POSTGRESQL:
            assert counted == [], table
            continue
        assert counted == [count], table
        # by hand (not autovacuum's), and since the migrations
        assert analyzed is not None and analyzed != before[table][2], table


def _problem_line(stderr: str, position: str) -> str:
    lines = [line for line in stderr.splitlines() if f": {position}: " in line]
    assert len(lines) == 1, f"expected one problem at {position}, stderr:\n{stderr}"
    return lines[0].strip()


# -- seed: broken files -----------------------------------------------------------------------


def test_seed_rejects_a_broken_file_naming_file_position_and_reason(
    seeded_database: str, tmp_path: Path
) -> None:
    before = export(seeded_database, tmp_path)
    broken = tmp_path / "broken.json"
    broken.write_text(
        json.dumps(
            {
                "format": "nkcinema-catalog/1",
                # Valid records: they would be written if the load were not all-or-nothing.
                "themes": [{"slug": "brand-new-theme", "name": "Brand new theme"}],
                "people": [{"slug": "new-person", "name": "New Person"}],
                "works": [
                    {
                        "slug": "a-film-by-nobody",
                        "title": "A Film by Nobody",
                        "kind": "FILM",
                        "year": 1980,
                        "credits": [{"person": "no-such-person", "role": "DIRECTOR"}],
                    },
                    {
                        "slug": "a-film-from-the-past",
                        "title": "A Film from the Past",
                        "kind": "FILM",
                        "year": 1700,
                        "credits": [{"person": "new-person", "role": "DIRECTOR"}],
                    },
                ],
            },
            indent=2,
        ),
        encoding="utf-8",
    )

    result = nkcinema("seed", str(broken), database_url=seeded_database, cwd=tmp_path)

    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    assert "nothing was written" in result.stderr
    person = _problem_line(result.stderr, "works[0].credits[0].person")
    assert person.startswith(f"{broken}: "), person
    assert "unknown person 'no-such-person'" in person
    year = _problem_line(result.stderr, "works[1].year")
    assert year.startswith(f"{broken}: "), year
    assert "between 1888 and 2100" in year and "1700" in year
    assert export(seeded_database, tmp_path) == before


def test_seed_rejects_a_file_that_is_not_json(seeded_database: str, tmp_path: Path) -> None:
    before = export(seeded_database, tmp_path)
    not_json = tmp_path / "not-json.json"
    not_json.write_text('{\n  "works": [\n    {"slug": "x",}\n  ]\n}\n', encoding="utf-8")

    result = nkcinema("seed", str(not_json), database_url=seeded_database, cwd=tmp_path)

    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    line = _problem_line(result.stderr, "line 3 column 18")
    assert line.startswith(f"{not_json}: "), line
    assert "not valid JSON" in line
    assert export(seeded_database, tmp_path) == before


def test_seed_writes_nothing_when_any_of_several_files_is_broken(
    seeded_database: str, tmp_path: Path
) -> None:
    before = export(seeded_database, tmp_path)
    good = tmp_path / "good.json"
    good.write_text(
        json.dumps({"themes": [{"slug": "brand-new-theme", "name": "Brand new theme"}]}),
        encoding="utf-8",
    )
    broken = tmp_path / "broken.json"
    broken.write_text(
        json.dumps({"themes": [{"slug": "Not A Slug", "name": "Bad"}]}), encoding="utf-8"
    )

    result = nkcinema("seed", str(good), str(broken), database_url=seeded_database, cwd=tmp_path)

    assert result.returncode != 0, result.stdout
    line = _problem_line(result.stderr, "themes[0].slug")
    assert line.startswith(f"{broken}: "), line
    assert "is not a slug" in line
    assert str(good) not in result.stderr
    assert export(seeded_database, tmp_path) == before


# -- seed: idempotence and round trips --------------------------------------------------------


def test_seed_twice_changes_nothing_the_second_time(migrated_database: str, tmp_path: Path) -> None:
    first = seed_report(ok("seed", database_url=migrated_database, cwd=tmp_path).stdout)
    assert all(first[kind]["created"] > 0 for kind in KINDS), first
    exported = export(migrated_database, tmp_path)

    second = seed_report(ok("seed", database_url=migrated_database, cwd=tmp_path).stdout)

    for kind in KINDS:
        assert second[kind] == {
            "created": 0,
            "updated": 0,
            "unchanged": first[kind]["created"],
        }, second
    assert export(migrated_database, tmp_path) == exported


def test_export_seed_export_round_trip_is_byte_identical(
    seeded_database: str, databases: Databases, tmp_path: Path
) -> None:
    exported = tmp_path / "catalog.json"
    ok("export", "--output", str(exported), database_url=seeded_database, cwd=tmp_path)
    first = exported.read_bytes()
    document = json.loads(first)
    assert document["format"] == "nkcinema-catalog/1"
    assert any(p["slug"] == "choe-ik-kyu" for p in document["people"])
    assert document["works"]

    other = databases.create()
    migrate(other)
    report = seed_report(ok("seed", str(exported), database_url=other, cwd=tmp_path).stdout)
    assert report["works"]["created"] == len(document["works"])

    assert export(other, tmp_path) == first


def test_export_to_stdout_matches_export_to_a_file(seeded_database: str, tmp_path: Path) -> None:
    to_stdout = subprocess.run(
        [NKCINEMA, "export"],
        cwd=tmp_path,
        env=server_env(seeded_database),
        capture_output=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    assert to_stdout.returncode == 0, to_stdout.stderr
    assert to_stdout.stdout == export(seeded_database, tmp_path)


def test_the_bundled_catalog_is_in_canonical_export_form(
    seeded_database: str, tmp_path: Path
) -> None:
    """Seeding seeds/catalog.json and exporting it gives the file back, byte for byte."""
    assert export(seeded_database, tmp_path) == BUNDLED_CATALOG.read_bytes()


# -- db -----------------------------------------------------------------------------------------


def _current(database_url: str, cwd: Path) -> str:
    return ok("db", "current", database_url=database_url, cwd=cwd).stdout


def test_db_upgrade_current_downgrade_and_upgrade_again(
    empty_database: str, tmp_path: Path
) -> None:
    script = ScriptDirectory.from_config(alembic_config(empty_database))
    head = script.get_current_head()
    assert head is not None
    previous = script.get_revision(head).down_revision
    assert isinstance(previous, str)  # more than one migration, in one line
    assert _current(empty_database, tmp_path).strip() == ""

    ok("db", "upgrade", database_url=empty_database, cwd=tmp_path)
    assert f"{head} (head)" in _current(empty_database, tmp_path)

    ok("db", "downgrade", "base", database_url=empty_database, cwd=tmp_path)
    assert _current(empty_database, tmp_path).strip() == ""

    ok("db", "upgrade", database_url=empty_database, cwd=tmp_path)
    assert f"{head} (head)" in _current(empty_database, tmp_path)
    # The re-created schema is usable.
    ok("seed", database_url=empty_database, cwd=tmp_path)

    # `db downgrade` without a revision steps back one revision.
    ok("db", "downgrade", database_url=empty_database, cwd=tmp_path)
    assert _current(empty_database, tmp_path).split() == [previous]


# -- settings errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("database_url", "message"),
    [
        ("mysql://x", "DATABASE_URL scheme 'mysql' is not supported"),
        ("nkcinema.db", "DATABASE_URL is not a URL"),
    ],
)
@pytest.mark.parametrize(
    "args",
    [("seed",), ("export",), ("db", "upgrade"), ("serve", "--port", "1")],
    ids=lambda args: "-".join(args),
)
def test_a_bad_database_url_exits_2_with_a_clear_message(
    args: tuple[str, ...], database_url: str, message: str, tmp_path: Path
) -> None:
    result = nkcinema(*args, database_url=database_url, cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert message in result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing created (no stray SQLite file)


def test_a_bad_setting_exits_2_with_a_clear_message(empty_database: str, tmp_path: Path) -> None:
    result = nkcinema("export", database_url=empty_database, cwd=tmp_path, NKCINEMA_PORT="eighty")
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "NKCINEMA_PORT must be an integer" in result.stderr
    assert "Traceback" not in result.stderr, result.stderr


# -- schema -------------------------------------------------------------------------------------


def test_schema_prints_the_sdl(tmp_path: Path) -> None:
    result = ok("schema", database_url=None, cwd=tmp_path)
    assert "type Query" in result.stdout
    assert "person(" in result.stdout
    assert list(tmp_path.iterdir()) == []  # printing the schema touches no database


# -- serve --------------------------------------------------------------------------------------


def _director_works(base_url: str) -> dict[str, object]:
    response = httpx.post(f"{base_url}/graphql", json={"query": DIRECTOR_QUERY}, timeout=10)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    person: dict[str, object] = body["data"]["person"]
    return person


@pytest.mark.serial
@pytest.mark.skipif(
    ON_POSTGRESQL,
    reason="the first-run path (migrate and seed the default SQLite file) is SQLite-only",
)
def test_serve_first_run_creates_migrates_and_seeds_the_default_sqlite_database(
    tmp_path: Path,
) -> None:
    cwd = tmp_path / "first-run"
    cwd.mkdir()
    database_file = cwd / "nkcinema.db"
    assert not database_file.exists()

    with serve(None, cwd, name="first") as server:
        assert f"GraphiQL at {server.base_url}/graphql" in server.stdout, server.output()
        assert "seeded the empty catalog" in server.stdout, server.output()
        assert database_file.exists()

        person = _director_works(server.base_url)
        assert person["originalName"] == "최익규"
        assert person["works"] == {"nodes": DIRECTOR_WORKS}

        graphiql = httpx.get(
            f"{server.base_url}/graphql", headers={"Accept": "text/html"}, timeout=10
        )
        assert graphiql.status_code == 200
        assert graphiql.headers["content-type"].startswith("text/html")
        assert "graphiql" in graphiql.text.lower()

        ready = httpx.get(f"{server.base_url}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
    assert "Traceback" not in server.stderr, server.output()

    database_url = f"sqlite:///{database_file}"
    after_first = export(database_url, tmp_path)
    # no planner statistics, which would stay those of the 10 seeded works
    assert asyncio.run(_statistics(database_url))["works"][1] == []

    # A second start on the existing database neither fails nor reseeds.
    with serve(None, cwd, name="second") as server:
        assert f"GraphiQL at {server.base_url}/graphql" in server.stdout, server.output()
        assert "seeded" not in server.stdout, server.output()
        assert _director_works(server.base_url)["works"] == {"nodes": DIRECTOR_WORKS}
        assert httpx.get(f"{server.base_url}/readyz", timeout=10).status_code == 200
    assert "Traceback" not in server.stderr, server.output()
    assert export(database_url, tmp_path) == after_first


@pytest.mark.serial
@pytest.mark.skipif(
    not ON_POSTGRESQL, reason="PostgreSQL only: serve migrates the SQLite default itself"
)
def test_serve_refuses_an_unmigrated_postgresql_database(
    empty_database: str, tmp_path: Path
) -> None:
    process = subprocess.Popen(
        [NKCINEMA, "serve", "--port", str(free_port())],
        cwd=tmp_path,
        env=server_env(empty_database),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    try:
        stdout, stderr = process.communicate(timeout=SERVER_START_TIMEOUT)
    except subprocess.TimeoutExpired:
        stop(process)
        stdout, stderr = process.communicate()
        pytest.fail(f"serve kept running on an empty database\n{stdout}\n{stderr}")
    finally:
        stop(process)
    assert process.returncode != 0, stdout
    assert "nkcinema db upgrade" in stderr
    assert "Traceback" not in stderr, stderr


@pytest.mark.serial
def test_serve_answers_over_http_on_a_seeded_database(seeded_database: str, tmp_path: Path) -> None:
    cwd = tmp_path / "serve"
    cwd.mkdir()
    before = export(seeded_database, tmp_path)
    with serve(seeded_database, cwd) as server:
        assert "seeded" not in server.stdout, server.output()
        person = _director_works(server.base_url)
        assert person["originalName"] == "최익규"
        assert person["works"] == {"nodes": DIRECTOR_WORKS}
        assert httpx.get(f"{server.base_url}/readyz", timeout=10).status_code == 200
    assert list(cwd.iterdir()) == []  # no default SQLite file beside an explicit database
    assert export(seeded_database, tmp_path) == before


# -- database failures are reported in one line, never as a traceback


def test_commands_on_an_unmigrated_database_say_to_migrate(
    empty_database: str, tmp_path: Path
) -> None:
    for command in (["seed"], ["export"]):
        result = nkcinema(*command, database_url=empty_database, cwd=tmp_path)
        assert result.returncode == 1
        assert "nkcinema db upgrade" in result.stderr
        assert "Traceback" not in result.stderr


def test_an_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    result = nkcinema("export", database_url="postgresql://postgres@127.0.0.1:1/none", cwd=tmp_path)
    assert result.returncode == 1
    assert "cannot reach the database" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_revision_is_reported(migrated_database: str, tmp_path: Path) -> None:
    result = nkcinema("db", "upgrade", "bogus", database_url=migrated_database, cwd=tmp_path)
    assert result.returncode == 1
    assert "bogus" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop does not run on Windows")
def test_serve_runs_on_uvloop_and_httptools() -> None:
    """``nkcinema serve`` leaves uvicorn's ``loop`` and ``http`` on "auto", which take uvloop
    and httptools when they are installed: the project depends on both, since on asyncio's
    loop and h11 a cached answer costs about three times the CPU."""
    import uvloop
    from uvicorn.loops.auto import auto_loop_factory
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    assert AutoHTTPProtocol.__name__ == "HttpToolsProtocol"
    loop = auto_loop_factory()()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()
