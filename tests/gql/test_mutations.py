"""Curation through the API: authorised, validated, atomic, versioned, attributed, audited.

Every failure leaves the catalog exactly as it was (the canonical export before and after is
compared); every mutation in the schema is refused without a valid token of enough scope."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app import create_app
from db.catalog_io import export_catalog
from db.engine import create_engine
from db.tokens import create_token, revoke_token
from gql.schema import schema
from settings import Settings
from tests.test_cli import export, nkcinema, ok

CREATE = """mutation C($input: CreateWorkInput!) { createWork(input: $input) {
  work { slug title year kind version directors { slug } themes { slug }
         attributions { field sources { key } } }
  userErrors { field code message } } }"""
UPDATE = """mutation U($input: UpdateWorkInput!) { updateWork(input: $input) {
  work { slug title year version } userErrors { field code message } } }"""
DELETE = """mutation D($input: DeleteWorkInput!) { deleteWork(input: $input) {
  deletedSlug userErrors { field code message } } }"""
CHANGES = """query H($subject: String) { changes(first: 10, subject: $subject) {
  nodes { actor operation subjectSlug source before after } } }"""


class Curator:
    """Sends operations with a bearer token (or none)."""

    def __init__(self, client: httpx.AsyncClient, token: str | None) -> None:
        self.client, self.token = client, token

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
async def editor(client: httpx.AsyncClient, session: AsyncSession) -> Curator:
    return Curator(client, await create_token(session, "ed", "editor"))


@pytest.fixture
async def admin(client: httpx.AsyncClient, session: AsyncSession) -> Curator:
    return Curator(client, await create_token(session, "root", "admin"))


def _data(body: dict[str, Any], field: str) -> Any:
    assert "errors" not in body, body
    return body["data"][field]


async def test_create_a_work_with_directors_themes_and_a_source(
    editor: Curator, session: AsyncSession
) -> None:
    payload = _data(
        await editor(
            CREATE,
            {
                "input": {
                    "title": "The Sea of Blood",  # slug from the title, made unique
                    "kind": "FILM",
                    "year": 1969,
                    "directors": ["choe-ik-kyu"],
                    "themes": ["revolution", "family"],
                    "source": "seed-document",
                }
            },
        ),
        "createWork",
    )
    assert payload["userErrors"] == []
    work = payload["work"]
    assert work["slug"] == "the-sea-of-blood"
    assert work["version"] == 1
    assert [d["slug"] for d in work["directors"]] == ["choe-ik-kyu"]
    assert sorted(t["slug"] for t in work["themes"]) == ["family", "revolution"]
    attributed = {a["field"]: [s["key"] for s in a["sources"]] for a in work["attributions"]}
    assert attributed["title"] == ["seed-document"] and attributed["year"] == ["seed-document"]
    again = _data(
        await editor(CREATE, {"input": {"title": "The Sea of Blood", "kind": "FILM"}}), "createWork"
    )
    assert again["work"]["slug"] == "the-sea-of-blood-2"
    [change, *_] = _data(await editor(CHANGES, {"subject": "the-sea-of-blood"}), "changes")["nodes"]
    assert change["actor"] == "ed" and change["operation"] == "createWork"
    assert change["before"] is None and change["after"]["year"] == 1969
    assert change["source"] == "seed-document"


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"title": "  ", "kind": "FILM"}, ["input", "title"], "REQUIRED"),
        ({"title": "x" * 501, "kind": "FILM"}, ["input", "title"], "TOO_LONG"),
        ({"title": "X", "kind": "FILM", "year": 1700}, ["input", "year"], "OUT_OF_RANGE"),
        (
            {"title": "X", "kind": "FILM", "directors": ["nobody"]},
            ["input", "directors", "0"],
            "NOT_FOUND",
        ),
        (
            {"title": "X", "kind": "FILM", "themes": ["family", "family"]},
            ["input", "themes", "1"],
            "DUPLICATE",
        ),
        ({"title": "X", "kind": "FILM", "source": "nowhere"}, ["input", "source"], "NOT_FOUND"),
        ({"title": "X", "kind": "FILM", "slug": "Not A Slug"}, ["input", "slug"], "INVALID_SLUG"),
        ({"title": "X", "kind": "FILM", "slug": "pulgasari"}, ["input", "slug"], "SLUG_TAKEN"),
    ],
)
async def test_invalid_input_is_a_user_error_and_writes_nothing(
    editor: Curator, session: AsyncSession, data: dict[str, Any], field: list[str], code: str
) -> None:
    before = await export_catalog(session)
    payload = _data(await editor(CREATE, {"input": data}), "createWork")
    assert payload["work"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(field, code)]
    assert await export_catalog(session) == before
    assert _data(await editor(CHANGES), "changes")["nodes"] == []


async def test_update_names_the_version_it_read(editor: Curator, session: AsyncSession) -> None:
    read = await editor('{ work(slug: "pulgasari") { version year } }')
    version = read["data"]["work"]["version"]
    changed = _data(
        await editor(UPDATE, {"input": {"slug": "pulgasari", "version": version, "year": 1986}}),
        "updateWork",
    )
    assert changed["userErrors"] == []
    assert changed["work"]["year"] == 1986 and changed["work"]["version"] == version + 1
    before = await export_catalog(session)
    stale = _data(
        await editor(UPDATE, {"input": {"slug": "pulgasari", "version": version, "year": 1990}}),
        "updateWork",
    )
    assert [e["code"] for e in stale["userErrors"]] == ["CONFLICT"]
    assert await export_catalog(session) == before
    history = _data(await editor(CHANGES, {"subject": "pulgasari"}), "changes")["nodes"]
    assert [(h["operation"], h["before"]["year"], h["after"]["year"]) for h in history] == [
        ("updateWork", 1985, 1986)
    ]


async def test_delete_needs_an_admin_and_keeps_the_catalog_consistent(
    editor: Curator, admin: Curator, session: AsyncSession
) -> None:
    version = (await admin('{ work(slug: "the-flower-girl") { version } }'))["data"]["work"][
        "version"
    ]
    refused = await editor(DELETE, {"input": {"slug": "sea-of-blood", "version": 1}})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    before = await export_catalog(session)
    referenced = _data(
        await admin(DELETE, {"input": {"slug": "the-flower-girl", "version": version}}),
        "deleteWork",
    )
    assert [e["code"] for e in referenced["userErrors"]] == ["REFERENCED"]  # its sequel extends it
    assert await export_catalog(session) == before
    deleted = _data(
        await admin(DELETE, {"input": {"slug": "sea-of-blood", "version": 1}}), "deleteWork"
    )
    assert deleted == {"deletedSlug": "sea-of-blood", "userErrors": []}
    assert (await admin('{ work(slug: "sea-of-blood") { title } }'))["data"]["work"] is None


# -- every mutation is protected ----------------------------------------------------------------

SAMPLES: dict[str, tuple[str, dict[str, Any]]] = {
    "createWork": (CREATE, {"input": {"title": "Probe", "kind": "FILM"}}),
    "updateWork": (UPDATE, {"input": {"slug": "pulgasari", "version": 1, "year": 1999}}),
    "deleteWork": (DELETE, {"input": {"slug": "sea-of-blood", "version": 1}}),
}
NEEDS_ADMIN = {"deleteWork"}


def test_every_mutation_in_the_schema_has_a_sample() -> None:
    mutation = schema._schema.mutation_type
    assert mutation is not None
    assert set(mutation.fields) == set(SAMPLES)  # a new mutation must be added here


@pytest.mark.parametrize("name", sorted(SAMPLES))
@pytest.mark.parametrize("who", ["nobody", "unknown", "revoked", "small"])
async def test_mutations_refuse_missing_bad_and_small_tokens(
    client: httpx.AsyncClient, session: AsyncSession, name: str, who: str
) -> None:
    if who == "small" and name not in NEEDS_ADMIN:
        pytest.skip("an editor token is enough for this mutation")
    token: str | None = None
    if who == "unknown":
        token = "nkc_" + "x" * 43
    elif who == "revoked":
        token = await create_token(session, "gone", "admin")
        await revoke_token(session, "gone")
    elif who == "small":
        token = await create_token(session, "small", "editor")
    before = await export_catalog(session)
    query, variables = SAMPLES[name]
    body = await Curator(client, token)(query, variables)
    expected = "FORBIDDEN" if who == "small" else "UNAUTHENTICATED"
    assert [e["extensions"]["code"] for e in body["errors"]] == [expected], body
    assert body["data"] is None
    assert await export_catalog(session) == before
    assert token is None or token not in json.dumps(body)


async def test_the_audit_trail_needs_a_token(client: httpx.AsyncClient) -> None:
    body = await Curator(client, None)(CHANGES)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_mutation_changes_cached_answers(
    editor: Curator, client: httpx.AsyncClient
) -> None:
    query = {"query": '{ work(slug: "pulgasari") { year } }'}
    first = await client.get("/graphql", params=query)
    tag = first.headers["etag"]
    _data(
        await editor(UPDATE, {"input": {"slug": "pulgasari", "version": 1, "year": 1984}}),
        "updateWork",
    )
    after = await client.get("/graphql", params=query, headers={"If-None-Match": tag})
    assert after.status_code == 200 and after.json()["data"]["work"]["year"] == 1984
    repeated = await client.post("/graphql", json=query)
    assert repeated.json()["data"]["work"]["year"] == 1984


# -- concurrency and export, on a database of their own ---------------------------------------


@pytest.fixture
async def own_app(
    migrated_database: str, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, str, str]]:
    ok("seed", database_url=migrated_database, cwd=tmp_path)
    made = nkcinema(
        "token", "create", "--name", "racer", database_url=migrated_database, cwd=tmp_path
    )
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    engine = create_engine(migrated_database)
    try:
        app = create_app(Settings(database_url=migrated_database), engine=engine)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client, token, migrated_database
    finally:
        await engine.dispose()


async def test_two_writers_on_one_version_one_wins(
    own_app: tuple[httpx.AsyncClient, str, str],
) -> None:
    client, token, _ = own_app
    curator = Curator(client, token)
    results = await asyncio.gather(
        *(
            curator(UPDATE, {"input": {"slug": "pulgasari", "version": 1, "year": year}})
            for year in (1991, 1992)
        )
    )
    outcomes = sorted(
        "ok"
        if not r["data"]["updateWork"]["userErrors"]
        else r["data"]["updateWork"]["userErrors"][0]["code"]
        for r in results
    )
    assert outcomes == ["CONFLICT", "ok"]
    final = await curator('{ work(slug: "pulgasari") { year version } }')
    assert final["data"]["work"]["version"] == 2
    assert final["data"]["work"]["year"] in (1991, 1992)


async def test_export_round_trips_after_mutations(
    own_app: tuple[httpx.AsyncClient, str, str], empty_database: str, tmp_path: Path
) -> None:
    client, token, database_url = own_app
    curator = Curator(client, token)
    _data(
        await curator(
            CREATE,
            {
                "input": {
                    "title": "A New Film",
                    "kind": "FILM",
                    "year": 2001,
                    "directors": ["choe-ik-kyu"],
                    "themes": ["family"],
                    "source": "seed-document",
                }
            },
        ),
        "createWork",
    )
    _data(
        await curator(
            UPDATE, {"input": {"slug": "pulgasari", "version": 1, "title": "Pulgasari!"}}
        ),
        "updateWork",
    )
    exported = export(database_url, tmp_path)
    assert b"A New Film" in exported and b"Pulgasari!" in exported
    copy = tmp_path / "copy.json"
    copy.write_bytes(exported)
    ok("db", "upgrade", database_url=empty_database, cwd=tmp_path)
    ok("seed", str(copy), database_url=empty_database, cwd=tmp_path)
    assert export(empty_database, tmp_path) == exported


async def test_a_seed_that_changes_a_work_makes_a_curators_version_stale(
    own_app: tuple[httpx.AsyncClient, str, str], tmp_path: Path
) -> None:
    client, token, database_url = own_app
    curator = Curator(client, token)
    catalog = json.loads(export(database_url, tmp_path))
    [work] = [w for w in catalog["works"] if w["slug"] == "pulgasari"]
    work["synopsis"] = "Seeded again, differently."
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(catalog), "utf-8")
    ok("seed", str(changed), database_url=database_url, cwd=tmp_path)
    stale = _data(
        await curator(UPDATE, {"input": {"slug": "pulgasari", "version": 1, "year": 1990}}),
        "updateWork",
    )
    assert [e["code"] for e in stale["userErrors"]] == ["CONFLICT"]
    read = await curator('{ work(slug: "pulgasari") { version synopsis } }')
    assert read["data"]["work"] == {"version": 2, "synopsis": "Seeded again, differently."}
