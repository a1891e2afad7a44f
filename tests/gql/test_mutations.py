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

from db.engine import create_engine
from db.interchange.export import export_catalog
from db.tokens import create_token, revoke_token
from gql.schema import schema
from settings import Settings
from tests.support.cli import export, nkcinema, ok
from tests.support.client import app_client
from tests.support.curation import (
    ADD_CREDIT,
    CREATE,
    CREATE_PERSON,
    CREATE_THEME,
    DELETE,
    DELETE_PERSON,
    DELETE_THEME,
    DISPUTE,
    ON_PULGASARI,
    RELATE,
    REMOVE_CREDIT,
    REORDER,
    SAMPLES,
    SOURCE,
    TAG,
    UNDISPUTE,
    UNRELATE,
    UNTAG,
    UPDATE,
    UPDATE_PERSON,
    UPDATE_THEME,
    Curator,
)

CHANGES = """query H($subject: String) { changes(first: 10, subject: $subject) {
  nodes { actor operation subjectSlug source before after } } }"""


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

NEEDS_ADMIN = {"deleteWork", "deletePerson", "deleteTheme"}


def test_every_mutation_in_the_schema_has_a_sample() -> None:
    mutation = schema._schema.mutation_type
    assert mutation is not None
    assert set(mutation.fields) == set(SAMPLES)  # a new mutation must be added here


REFUSALS = [
    (name, who)
    for name in sorted(SAMPLES)
    for who in ("nobody", "unknown", "revoked", "small")
    if who != "small" or name in NEEDS_ADMIN  # an editor token is enough for the others
]


@pytest.mark.parametrize(("name", "who"), REFUSALS)
async def test_mutations_refuse_missing_bad_and_small_tokens(
    client: httpx.AsyncClient, session: AsyncSession, name: str, who: str
) -> None:
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
        async with app_client(Settings(database_url=migrated_database), engine=engine) as client:
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


async def test_people_and_themes_are_created_changed_and_deleted(
    editor: Curator, admin: Curator, session: AsyncSession
) -> None:
    person = _data(
        await editor(CREATE_PERSON, {"input": {"name": "Ri Hyon-sun", "originalName": "리현순"}}),
        "createPerson",
    )
    assert person["userErrors"] == [] and person["person"]["slug"] == "ri-hyon-sun"
    renamed = _data(
        await editor(
            UPDATE_PERSON, {"input": {"slug": "ri-hyon-sun", "version": 1, "name": "Ri Hyon-son"}}
        ),
        "updatePerson",
    )
    assert renamed["person"] == {"slug": "ri-hyon-sun", "name": "Ri Hyon-son", "version": 2}
    found = await editor('{ search(query: "ri hyon son") { ... on Person { slug } } }')
    assert {"slug": "ri-hyon-sun"} in found["data"]["search"]  # the search index follows
    gone = _data(
        await admin(DELETE_PERSON, {"input": {"slug": "ri-hyon-sun", "version": 2}}), "deletePerson"
    )
    assert gone == {"deletedSlug": "ri-hyon-sun", "userErrors": []}

    theme = _data(await editor(CREATE_THEME, {"input": {"name": "Family"}}), "createTheme")
    assert theme["theme"]["slug"] == "family-2"  # "family" is taken
    described = _data(
        await editor(
            UPDATE_THEME,
            {"input": {"slug": "family-2", "version": 1, "description": "Kinship."}},
        ),
        "updateTheme",
    )
    assert described["theme"]["description"] == "Kinship." and described["theme"]["version"] == 2
    removed = _data(
        await admin(DELETE_THEME, {"input": {"slug": "family-2", "version": 2}}), "deleteTheme"
    )
    assert removed == {"deletedSlug": "family-2", "userErrors": []}
    assert (await editor('{ theme(slug: "family-2") { name } }'))["data"]["theme"] is None
    history = _data(await editor(CHANGES), "changes")["nodes"]
    assert [h["operation"] for h in history][:4] == [
        "deleteTheme",
        "updateTheme",
        "createTheme",
        "deletePerson",
    ]


async def test_what_is_in_use_cannot_be_deleted(admin: Curator, session: AsyncSession) -> None:
    before = await export_catalog(session)
    for query, field, slug in (
        (DELETE_PERSON, "deletePerson", "choe-ik-kyu"),  # has credits
        (DELETE_THEME, "deleteTheme", "family"),  # tags works
    ):
        refused = _data(await admin(query, {"input": {"slug": slug, "version": 1}}), field)
        assert [e["code"] for e in refused["userErrors"]] == ["REFERENCED"], refused
    stale = _data(
        await admin(UPDATE_THEME, {"input": {"slug": "family", "version": 7, "name": "F"}}),
        "updateTheme",
    )
    assert [e["code"] for e in stale["userErrors"]] == ["CONFLICT"]
    blank = _data(await admin(CREATE_PERSON, {"input": {"name": " "}}), "createPerson")
    assert [(e["field"], e["code"]) for e in blank["userErrors"]] == [
        (["input", "name"], "REQUIRED")
    ]
    assert await export_catalog(session) == before


async def test_credits_tags_relations_sources_and_disputes(
    editor: Curator, session: AsyncSession
) -> None:
    version = 1

    async def step(query: str, field: str, data: dict[str, Any]) -> dict[str, Any]:
        nonlocal version
        payload = _data(
            await editor(query, {"input": {"slug": "pulgasari", "version": version, **data}}), field
        )
        assert payload["userErrors"] == [], payload
        version = payload["work"]["version"]
        return payload

    await step(ADD_CREDIT, "addCredit", {"person": "kim-ki-nam", "role": "WRITER"})
    credits = await editor('{ work(slug: "pulgasari") { credits { person { slug } role } } }')
    order = [
        {"person": c["person"]["slug"], "role": c["role"]}
        for c in credits["data"]["work"]["credits"]
    ]
    assert order[-1] == {"person": "kim-ki-nam", "role": "WRITER"}  # billed last
    await step(REORDER, "reorderCredits", {"order": list(reversed(order))})
    again = await editor('{ work(slug: "pulgasari") { credits { person { slug } role } } }')
    assert [c["person"]["slug"] for c in again["data"]["work"]["credits"]] == [
        o["person"] for o in reversed(order)
    ]
    await step(REMOVE_CREDIT, "removeCredit", {"person": "kim-ki-nam", "role": "WRITER"})
    await step(TAG, "tagWork", {"theme": "family"})
    await step(UNTAG, "untagWork", {"theme": "family"})
    await step(RELATE, "relateWorks", {"type": "REMAKES", "work": "sea-of-blood"})
    related = await editor('{ work(slug: "pulgasari") { related { type work { slug } } } }')
    assert {"type": "REMAKES", "work": {"slug": "sea-of-blood"}} in related["data"]["work"][
        "related"
    ]
    await step(UNRELATE, "unrelateWorks", {"type": "REMAKES", "work": "sea-of-blood"})
    source = _data(
        await editor(
            SOURCE,
            {
                "input": {
                    "key": "kfa-1985",
                    "title": "KFA catalogue",
                    "url": "https://example.org/kfa",
                }
            },
        ),
        "createSource",
    )
    assert source == {"key": "kfa-1985", "userErrors": []}
    await step(
        DISPUTE,
        "addDispute",
        {"field": "year", "stated": "1985", "reported": "1986", "source": "kfa-1985"},
    )
    disputes = await editor(
        '{ work(slug: "pulgasari") { disputes { field reported source { title } } } }'
    )
    assert {"field": "year", "reported": "1986", "source": {"title": "KFA catalogue"}} in disputes[
        "data"
    ]["work"]["disputes"]
    position = len(disputes["data"]["work"]["disputes"]) - 1
    await step(UNDISPUTE, "removeDispute", {"position": position})
    history = _data(await editor(CHANGES, {"subject": "pulgasari"}), "changes")["nodes"]
    assert [h["operation"] for h in history][:3] == ["removeDispute", "addDispute", "unrelateWorks"]


@pytest.mark.parametrize(
    ("query", "field", "data", "code"),
    [
        (ADD_CREDIT, "addCredit", {"person": "nobody", "role": "ACTOR"}, "NOT_FOUND"),
        (ADD_CREDIT, "addCredit", {"person": "chong-gon-jo", "role": "DIRECTOR"}, "DUPLICATE"),
        (REMOVE_CREDIT, "removeCredit", {"person": "kim-ki-nam", "role": "ACTOR"}, "NOT_FOUND"),
        (REORDER, "reorderCredits", {"order": []}, "INVALID_ORDER"),
        (TAG, "tagWork", {"theme": "fantasy"}, "DUPLICATE"),
        (UNTAG, "untagWork", {"theme": "family"}, "NOT_FOUND"),
        (RELATE, "relateWorks", {"type": "REMAKES", "work": "pulgasari"}, "SELF_RELATION"),
        (RELATE, "relateWorks", {"type": "REMAKES", "work": "nope"}, "NOT_FOUND"),
        (UNRELATE, "unrelateWorks", {"type": "REMAKES", "work": "sea-of-blood"}, "NOT_FOUND"),
        (
            DISPUTE,
            "addDispute",
            {"field": "year", "stated": "1", "reported": "2", "source": "x"},
            "NOT_FOUND",
        ),
        (
            DISPUTE,
            "addDispute",
            {"field": "colour", "stated": "1", "reported": "2", "source": "seed-document"},
            "NOT_FOUND",
        ),
        (UNDISPUTE, "removeDispute", {"position": 99}, "NOT_FOUND"),
        (TAG, "tagWork", {"theme": "family", "version": 9}, "CONFLICT"),
    ],
)
async def test_link_mistakes_write_nothing(
    editor: Curator, session: AsyncSession, query: str, field: str, data: dict[str, Any], code: str
) -> None:
    before = await export_catalog(session)
    payload = _data(await editor(query, {"input": {**ON_PULGASARI, **data}}), field)
    assert [e["code"] for e in payload["userErrors"]] == [code], payload
    assert await export_catalog(session) == before


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"key": "seed-document", "title": "Again"}, "SLUG_TAKEN"),
        ({"key": "new", "title": " "}, "REQUIRED"),
        ({"key": "new", "title": "T", "url": "ftp://x"}, "INVALID_URL"),
    ],
)
async def test_source_mistakes_write_nothing(
    editor: Curator, session: AsyncSession, data: dict[str, Any], code: str
) -> None:
    before = await export_catalog(session)
    payload = _data(await editor(SOURCE, {"input": data}), "createSource")
    assert [e["code"] for e in payload["userErrors"]] == [code]
    assert await export_catalog(session) == before


async def test_what_no_source_states_is_attributed_to_the_curator(editor: Curator) -> None:
    updated = await editor(
        """mutation { updateWork(input: {slug: "pulgasari", version: 1, year: 1984}) {
             work { attributions { field sources { key } } sources { key } }
             userErrors { code } } }"""
    )
    work = _data(updated, "updateWork")["work"]
    attributed = {a["field"]: [s["key"] for s in a["sources"]] for a in work["attributions"]}
    assert attributed["year"] == ["curator-ed"]
    assert "curator-ed" in [s["key"] for s in work["sources"]]
    credited = _data(
        await editor(
            ADD_CREDIT,
            {
                "input": {
                    "slug": "pulgasari",
                    "version": 2,
                    "person": "kim-ki-nam",
                    "role": "WRITER",
                }
            },
        ),
        "addCredit",
    )
    assert credited["userErrors"] == []
    credits = await editor(
        '{ work(slug: "pulgasari") { credits { person { slug } role sources { key } } } }'
    )
    [writer] = [c for c in credits["data"]["work"]["credits"] if c["role"] == "WRITER"]
    assert writer["sources"] == [{"key": "curator-ed"}]
    person = _data(
        await editor(
            """mutation { createPerson(input: {name: "Kim Ryon-hui"}) {
                 person { attributions { field sources { key } } } userErrors { code } } }"""
        ),
        "createPerson",
    )
    assert person["person"]["attributions"] == [
        {"field": "name", "sources": [{"key": "curator-ed"}]}
    ]


async def test_person_and_credit_writes_may_cite_a_source(
    editor: Curator, session: AsyncSession
) -> None:
    updated = _data(
        await editor(
            """mutation { updatePerson(input: {slug: "kim-ki-nam", version: 1,
                 biography: "Director of Sea of Blood.", source: "seed-document"}) {
               person { attributions { field sources { key } } } userErrors { code } } }"""
        ),
        "updatePerson",
    )
    assert {"field": "biography", "sources": [{"key": "seed-document"}]} in updated["person"][
        "attributions"
    ]
    credit = {"slug": "pulgasari", "version": 1, "person": "kim-ki-nam", "role": "WRITER"}
    _data(await editor(ADD_CREDIT, {"input": {**credit, "source": "seed-document"}}), "addCredit")
    credits = await editor(
        '{ work(slug: "pulgasari") { credits { person { slug } role sources { key } } } }'
    )
    [writer] = [c for c in credits["data"]["work"]["credits"] if c["role"] == "WRITER"]
    assert writer["sources"] == [{"key": "seed-document"}]
    before = await export_catalog(session)
    unknown = _data(
        await editor(
            """mutation { updatePerson(input: {slug: "kim-ki-nam", version: 2, name: "K",
                 source: "nowhere"}) { person { name } userErrors { field code } } }"""
        ),
        "updatePerson",
    )
    assert unknown["userErrors"] == [{"field": ["input", "source"], "code": "NOT_FOUND"}]
    assert await export_catalog(session) == before
