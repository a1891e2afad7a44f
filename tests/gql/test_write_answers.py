"""What a write answers at the edges: the database's refusals of a racing writer as coded
errors (``db.races``, from real failures of the database under test), curators' own sources
kept theirs, updates that change nothing writing nothing, and disputes that follow the record.
The concurrent requests themselves are in ``test_races``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db import models as m
from db.catalog_version import catalog_version
from db.curation.outcome import race_error
from db.enums import CreditRole
from db.interchange.export import export_catalog
from db.tokens import TokenError, create_token, curator_source_key

UPDATE = """mutation U($input: UpdateWorkInput!) { updateWork(input: $input) {
  work { slug year version disputes { field stated reported source { key } note } }
  userErrors { field code message } } }"""
UPDATE_PERSON = """mutation U($input: UpdatePersonInput!) { updatePerson(input: $input) {
  person { slug version } userErrors { code } } }"""
UPDATE_THEME = """mutation U($input: UpdateThemeInput!) { updateTheme(input: $input) {
  theme { slug version } userErrors { code } } }"""
SOURCE = """mutation S($input: CreateSourceInput!) { createSource(input: $input) {
  key userErrors { field code message } } }"""
ADD_CREDIT = """mutation A($input: CreditInput!) { addCredit(input: $input) {
  work { version disputes { field stated reported } } userErrors { code } } }"""
CREDITS = """query W($slug: String!) { work(slug: $slug) { credits { person { slug } role } } }"""
REORDER = """mutation R($input: ReorderCreditsInput!) { reorderCredits(input: $input) {
  work { version } userErrors { code } } }"""
DISPUTES = """query W($slug: String!) { work(slug: $slug) {
  version disputes { field stated reported source { key } note } } }"""


class Curator:
    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client, self.token = client, token

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        response = await self.client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        return next(iter(body["data"].values()))


@pytest.fixture
async def editor(client: httpx.AsyncClient, session: AsyncSession) -> Curator:
    return Curator(client, await create_token(session, "ed", "editor"))


async def _refusal(session: AsyncSession, statement: Any) -> IntegrityError:
    """The error the database raises for ``statement`` (run in a savepoint, rolled back)."""
    with pytest.raises(IntegrityError) as raised:
        async with session.begin_nested():
            await session.execute(statement)
    return raised.value


async def _id(session: AsyncSession, entity: Any, slug: str) -> int:
    return int(await session.scalar(select(entity.id).where(entity.slug == slug)))


async def test_the_databases_refusals_become_coded_errors(session: AsyncSession) -> None:
    work = await _id(session, m.Work, "sea-of-blood")
    person = await _id(session, m.Person, "kim-ki-nam")
    taken = await _refusal(
        session,
        insert(m.Work).values(
            slug="sea-of-blood", title="x", title_key="x", kind="FILM", search_text=""
        ),
    )
    error = race_error(taken)
    assert error is not None and (error.field, error.code) == (("input", "slug"), "SLUG_TAKEN")

    key = await _refusal(session, insert(m.Source).values(key="seed-document", title="x"))
    error = race_error(key)
    assert error is not None and (error.field, error.code) == (("input", "key"), "SLUG_TAKEN")

    position = await session.scalar(
        select(func.max(m.Credit.position)).where(m.Credit.work_id == work)
    )
    other = await _id(session, m.Person, "choe-ik-kyu")
    clash = await _refusal(
        session,
        insert(m.Credit).values(
            work_id=work, person_id=other, role=CreditRole.WRITER, position=position
        ),
    )
    error = race_error(clash)
    assert error is not None and error.code == "CONFLICT"

    gone = await _refusal(
        session,
        insert(m.Credit).values(
            work_id=work, person_id=10**9, role=CreditRole.WRITER, position=10**6
        ),
    )
    error = race_error(gone)
    assert error is not None and error.code == "NOT_FOUND"
    if session.get_bind().dialect.name == "postgresql":  # SQLite does not name the key
        assert error.field == ("input", "person")

    used = await _refusal(session, delete(m.Person).where(m.Person.id == person))
    error = race_error(used)
    assert error is not None and (error.field, error.code) == (("input", "slug"), "REFERENCED")

    assert race_error(ValueError("not the database's")) is None


async def test_curators_sources_are_theirs_alone(editor: Curator, session: AsyncSession) -> None:
    before = await export_catalog(session)
    for key in ("curator-ed", "curator-someone-else"):
        payload = await editor(SOURCE, {"input": {"key": key, "title": "Not mine"}})
        assert payload["key"] is None
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
            (["input", "key"], "RESERVED")
        ]
    assert await export_catalog(session) == before
    with pytest.raises(TokenError, match="more than case and punctuation"):
        await create_token(session, "ED", "editor")  # would state things as curator-ed
    assert curator_source_key("Bob") == curator_source_key("bob!") == "curator-bob"
    assert curator_source_key("???") == "curator-unnamed"


async def _audit(session: AsyncSession, slug: str) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(m.Change).where(m.Change.subject_slug == slug)
        )
    )


async def test_an_update_that_changes_nothing_writes_nothing(
    editor: Curator, session: AsyncSession
) -> None:
    catalog = await catalog_version(session)
    same = {
        "slug": "sea-of-blood",
        "version": 1,
        "title": "Sea of Blood",
        "kind": "FILM",
        "year": 1971,
        "directors": ["kim-ki-nam"],
        "themes": ["family", "japanese-occupation", "patriotism", "revolution"],
    }
    for given in (
        same,
        {"slug": "sea-of-blood", "version": 1},
        {**same, "source": "seed-document"},
    ):
        payload = await editor(UPDATE, {"input": given})
        assert payload["userErrors"] == []
        assert payload["work"]["version"] == 1 and payload["work"]["year"] == 1971
    person = await editor(
        UPDATE_PERSON, {"input": {"slug": "kim-ki-nam", "version": 1, "name": "Kim Ki-nam"}}
    )
    assert person == {"person": {"slug": "kim-ki-nam", "version": 1}, "userErrors": []}
    theme = (
        await session.execute(select(m.Theme.slug, m.Theme.name).where(m.Theme.slug == "family"))
    ).one()
    payload = await editor(
        UPDATE_THEME, {"input": {"slug": theme.slug, "version": 1, "name": theme.name}}
    )
    assert payload == {"theme": {"slug": "family", "version": 1}, "userErrors": []}
    credits = (await editor(CREDITS, {"slug": "pulgasari"}))["credits"]
    order = [{"person": c["person"]["slug"], "role": c["role"]} for c in credits]
    reordered = await editor(
        REORDER, {"input": {"slug": "pulgasari", "version": 1, "order": order}}
    )
    assert reordered == {"work": {"version": 1}, "userErrors": []}
    for slug in ("sea-of-blood", "kim-ki-nam", "family", "pulgasari"):
        assert await _audit(session, slug) == 0
    assert await catalog_version(session) == catalog

    # the same values cited to another source do change something: who states them
    cited = await editor(
        UPDATE,
        {
            "input": {
                "slug": "sea-of-blood",
                "version": 1,
                "year": 1971,
                "source": "wp-sea-of-blood",
            }
        },
    )
    assert cited["userErrors"] == [] and cited["work"]["version"] == 2
    # and a real change after the no-ops is the next version, audited once
    changed = await editor(UPDATE, {"input": {"slug": "sea-of-blood", "version": 2, "year": 1972}})
    assert changed["work"]["version"] == 3
    assert await _audit(session, "sea-of-blood") == 2


async def test_a_dispute_follows_the_record(editor: Curator) -> None:
    """The README's updateWork: Sea of Blood to 1969, as Wikipedia reports it. The record now
    agrees with that page and disagrees with the seed document, and the dispute says so."""
    payload = await editor(
        UPDATE,
        {
            "input": {
                "slug": "sea-of-blood",
                "version": 1,
                "year": 1969,
                "source": "wp-sea-of-blood",
            }
        },
    )
    assert payload["userErrors"] == []
    year, some_say = [d for d in payload["work"]["disputes"] if d["field"] == "year"]
    assert year == {
        "field": "year",
        "stated": "1969",
        "reported": "1971",
        "source": {"key": "seed-document"},
        "note": "Some references say 1968; 1971 is the premiere of the opera.",
    }
    # the other reference's 1968 still disagrees, now with 1969
    assert (some_say["stated"], some_say["reported"], some_say["source"]) == (
        "1969",
        "1968",
        {"key": "wp-choe-ik-gyu"},
    )
    # a value that only the second reference states: the seed's report stays, the record's
    # side moves; the second reference's dispute turns round, against the page that stated 1969
    again = await editor(UPDATE, {"input": {"slug": "sea-of-blood", "version": 2, "year": 1968}})
    year, some_say = [d for d in again["work"]["disputes"] if d["field"] == "year"]
    assert (year["stated"], year["reported"], year["source"]["key"]) == (
        "1968",
        "1971",
        "seed-document",
    )
    assert (some_say["stated"], some_say["reported"], some_say["source"]["key"]) == (
        "1968",
        "1969",
        "wp-sea-of-blood",
    )
    # both read paths (the payload's and a plain query's) say the same
    read = await editor(DISPUTES, {"slug": "sea-of-blood"})
    assert read["disputes"] == again["work"]["disputes"]
    # a co-director credited: the directors' dispute states the record's directors now
    credit = {"slug": "sea-of-blood", "version": 3, "person": "choe-ik-kyu", "role": "DIRECTOR"}
    credited = await editor(ADD_CREDIT, {"input": credit})
    assert credited["userErrors"] == []
    [directors] = [d for d in credited["work"]["disputes"] if d["field"] == "directors"]
    assert directors == {
        "field": "directors",
        "stated": "Kim Ki-nam, Choe Ik-kyu",
        "reported": "Choe Ik-gyu",
    }


async def test_a_dispute_the_record_now_settles_is_gone(editor: Curator) -> None:
    """Sea of Blood's directors: the seed says Kim Ki-nam, a reference Choe Ik-gyu. Crediting
    Choe as the director (under the reference's spelling) settles it; the audit keeps it."""
    create = await editor(
        """mutation { createPerson(input: {name: "Choe Ik-gyu", slug: "choe-ik-gyu-2"}) {
             person { slug } userErrors { code } } }"""
    )
    assert create["userErrors"] == []
    payload = await editor(
        UPDATE,
        {
            "input": {
                "slug": "sea-of-blood",
                "version": 1,
                "directors": ["kim-ki-nam"],
                "year": 1971,
            }
        },
    )
    assert payload["work"]["version"] == 1  # nothing changed: the dispute stands
    payload = await editor(
        UPDATE, {"input": {"slug": "sea-of-blood", "version": 1, "directors": ["choe-ik-gyu-2"]}}
    )
    assert payload["userErrors"] == []
    assert [d["field"] for d in payload["work"]["disputes"]] == ["year", "year"]
    credited = await editor(
        ADD_CREDIT,
        {
            "input": {
                "slug": "sea-of-blood",
                "version": 2,
                "person": "kim-ki-nam",
                "role": "DIRECTOR",
            }
        },
    )
    assert credited["userErrors"] == [] and credited["work"]["version"] == 3
    history = await editor(
        """{ changes(first: 5, subject: "sea-of-blood") { nodes { operation before after } } }"""
    )
    [update] = [n for n in history["nodes"] if n["operation"] == "updateWork"]
    assert "directors" in [d["field"] for d in update["before"]["disputes"]]
    assert "directors" not in [d["field"] for d in update["after"]["disputes"]]
