"""`nkcinema documents add|list`: the trusted documents of a deployment, from .graphql files,
manifests (GraphQL Codegen's {sha256: document}, Apollo's persisted query manifest) and the
project's own pages (`--examples`); nothing is added when anything is wrong."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from db.engine import create_engine, session_factory
from db.persisted_documents import document_hash, list_documents, register_document
from tests.support.cli import nkcinema, ok
from tests.support.documents import OPERATIONS

WORK = "query Work($slug: String!) { work(slug: $slug) { title } }"
PERSON = "query Person($slug: String!) { person(slug: $slug) { name } }"
THEMES = "{ themes(first: 3) { nodes { name } } }"
FRAGMENTED = "fragment T on Work { title }\nquery Titled { works(first: 2) { nodes { ...T } } }"
MANY = 1_000_000_000


def _stored(database_url: str) -> dict[str, bool]:
    """{sha256: trusted} of every persisted document."""

    async def read() -> dict[str, bool]:
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as session:
                return {row.sha256: row.trusted for row in await list_documents(session)}
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _register(database_url: str, document: str) -> None:
    async def write() -> None:
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as session:
                sha256 = document_hash(document)
                assert await register_document(
                    session, sha256, document, max_documents=MANY, max_bytes=MANY
                )
        finally:
            await engine.dispose()

    asyncio.run(write())


def test_add_files_and_manifests_then_list(migrated_database: str, tmp_path: Path) -> None:
    (tmp_path / "work.graphql").write_text(WORK, encoding="utf-8")
    (tmp_path / "titled.graphql").write_text(FRAGMENTED, encoding="utf-8")
    codegen = {document_hash(PERSON): PERSON}
    (tmp_path / "persisted-documents.json").write_text(json.dumps(codegen), encoding="utf-8")
    apollo = {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [
            {"id": document_hash(THEMES), "name": None, "type": "query", "body": THEMES}
        ],
    }
    (tmp_path / "apollo.json").write_text(json.dumps(apollo), encoding="utf-8")
    files = ["work.graphql", "titled.graphql", "persisted-documents.json", "apollo.json"]
    added = ok("documents", "add", *files, database_url=migrated_database, cwd=tmp_path)
    assert "4 added, 0 registered ones now trusted, 0 trusted already" in added.stdout
    expected = {document_hash(d): True for d in (WORK, PERSON, THEMES, FRAGMENTED)}
    assert _stored(migrated_database) == expected

    listed = ok("documents", "list", database_url=migrated_database, cwd=tmp_path)
    rows = {tuple(line.split("\t")) for line in listed.stdout.splitlines()}
    assert rows == {
        (document_hash(WORK), "Work", "trusted"),
        (document_hash(PERSON), "Person", "trusted"),
        (document_hash(THEMES), "(anonymous)", "trusted"),
        (document_hash(FRAGMENTED), "Titled", "trusted"),
    }

    again = ok("documents", "add", *files, database_url=migrated_database, cwd=tmp_path)
    assert "0 added, 0 registered ones now trusted, 4 trusted already" in again.stdout


def test_a_registered_document_becomes_trusted(migrated_database: str, tmp_path: Path) -> None:
    _register(migrated_database, WORK)
    listed = ok("documents", "list", database_url=migrated_database, cwd=tmp_path)
    assert listed.stdout == f"{document_hash(WORK)}\tWork\tregistered\n"
    (tmp_path / "work.graphql").write_text(WORK, encoding="utf-8")
    added = ok("documents", "add", "work.graphql", database_url=migrated_database, cwd=tmp_path)
    assert "0 added, 1 registered ones now trusted, 0 trusted already" in added.stdout
    assert _stored(migrated_database) == {document_hash(WORK): True}


def test_add_examples_trusts_graphiqls_tabs_and_the_frontends_documents(
    migrated_database: str, tmp_path: Path
) -> None:
    added = ok("documents", "add", "--examples", database_url=migrated_database, cwd=tmp_path)
    tabs = sorted(OPERATIONS.glob("*.graphql"))
    stored = _stored(migrated_database)
    for tab in tabs:
        assert stored.get(document_hash(tab.read_text("utf-8"))) is True, tab.name
    listed = ok("documents", "list", database_url=migrated_database, cwd=tmp_path)
    names = {line.split("\t")[1] for line in listed.stdout.splitlines()}
    # the frontend's page queries (examples/app.js), beside GraphiQL's tabs
    assert {"Directors", "Search", "WorkPage", "PersonPage", "WorkTitles"} <= names
    assert f"{len(stored)} added" in added.stdout and len(stored) > len(tabs) + 10


def test_nothing_is_added_when_anything_is_wrong(migrated_database: str, tmp_path: Path) -> None:
    (tmp_path / "good.graphql").write_text(WORK, encoding="utf-8")
    (tmp_path / "broken.graphql").write_text("{ works { ", encoding="utf-8")
    (tmp_path / "invalid.graphql").write_text("{ works { nope } }", encoding="utf-8")
    (tmp_path / "fragment.graphql").write_text("fragment T on Work { title }", encoding="utf-8")
    (tmp_path / "md5.json").write_text(
        json.dumps({"0cc175b9c0f1b6a831c399e269772661": PERSON}), encoding="utf-8"
    )
    (tmp_path / "list.json").write_text(json.dumps([PERSON]), encoding="utf-8")
    files = [
        "good.graphql",
        "broken.graphql",
        "invalid.graphql",
        "fragment.graphql",
        "md5.json",
        "list.json",
        "missing.graphql",
    ]
    result = nkcinema("documents", "add", *files, database_url=migrated_database, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "nothing was added" in result.stderr
    problems = {
        "broken.graphql": "not GraphQL",
        "invalid.graphql": "not valid against the schema",
        "fragment.graphql": "no operation",
        "md5.json": "not the SHA-256 of its document",
        "list.json": "not a manifest",
        "missing.graphql": "cannot read it",
    }
    for name, problem in problems.items():
        lines = [line for line in result.stderr.splitlines() if line.strip().startswith(name)]
        assert len(lines) == 1 and problem in lines[0], (name, result.stderr)
    assert _stored(migrated_database) == {}


def test_add_needs_something_to_add(migrated_database: str, tmp_path: Path) -> None:
    result = nkcinema("documents", "add", database_url=migrated_database, cwd=tmp_path)
    assert result.returncode == 2
    assert "--examples" in result.stderr
