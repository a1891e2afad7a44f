"""Every input of every mutation, and every text argument of a query, goes through the rules of
``db.rules`` at the boundary: a bad value is a coded userError (or BAD_USER_INPUT for a query)
with nothing written, never a database fault, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import strawberry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types.base import StrawberryList, StrawberryOptional, has_object_definition
from strawberry.utils.str_converters import to_camel_case

from db import models as m
from db import rules
from db.interchange.export import export_catalog
from db.text import SORT_KEY_LENGTH
from db.tokens import create_token
from gql.mutations import Mutation, WorkPayload
from gql.validated import RULE, Validated, undeclared
from tests.support.cli import export, nkcinema, ok
from tests.support.client import app_client
from tests.support.curation import SAMPLES
from tests.support.curation import Curator as JsonCurator

CODES = {
    rules.Slug: "INVALID_SLUG",
    rules.SourceKey: "INVALID_KEY",
    rules.Url: "INVALID_URL",
    rules.Text: "INVALID_TEXT",
}
# What a list of input objects holds in the samples, when a case needs one item in it.
ITEMS = {"order": {"person": "kim-ki-nam", "role": "DIRECTOR"}}
# (A lone surrogate never reaches an input: the app refuses JSON holding one, BAD_REQUEST;
# the rules refuse it where it can arrive, in interchange files: tests/db/test_rules.py.)
BAD = {"nul": "x\x00y", "control": "x\x1by", "zero-width": "\u200b\u200d"}


def _mutations() -> dict[str, Any]:
    fields = Mutation.__strawberry_definition__.fields
    return {f.graphql_name or to_camel_case(f.python_name): f for f in fields}


def _unwrap(kind: Any) -> Any:
    while isinstance(kind, StrawberryOptional):
        kind = kind.of_type
    return kind


def _string_paths(cls: Any, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], Any]]:
    """Every string in an input type, as (path, rule); list items at index 0."""
    found = []
    for field in cls.__strawberry_definition__.fields:
        name = field.graphql_name or to_camel_case(field.python_name)
        kind = _unwrap(field.type)
        at = (*path, name)
        if isinstance(kind, StrawberryList):
            kind, at = _unwrap(kind.of_type), (*at, "0")
        if kind is str:
            found.append((at, field.metadata[RULE]))
        elif has_object_definition(kind):
            found.extend(_string_paths(kind, at))
    return found


def _input_type(field: Any) -> Any:
    [argument] = [a for a in field.arguments if a.python_name == "input"]
    return _unwrap(argument.type)


CASES = [
    (name, path, rule, bad)
    for name, field in sorted(_mutations().items())
    for path, rule in _string_paths(_input_type(field), ())
    for bad in BAD
]


def _with(data: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """``data`` with ``value`` at ``path`` (list items at index 0 made as needed)."""
    data = copy.deepcopy(data)
    target: Any = data
    for step, following in itertools.pairwise(path):
        if following == "0":
            item = copy.deepcopy(ITEMS.get(step))
            target[step] = [item] if item is not None else []
        target = target[int(step)] if step == "0" else target[step]
    last = path[-1]
    if last == "0":
        target.append(value)
    else:
        target[last] = value
    return data


class Curator(JsonCurator):
    """Sends JSON with non-ASCII escaped, as many clients do (a lone surrogate as ``\\ud800``)."""

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        body = json.dumps({"query": query, "variables": variables or {}})
        response = await self.client.post("/graphql", content=body, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
async def admin(client: httpx.AsyncClient, session: AsyncSession) -> Curator:
    return Curator(client, await create_token(session, "validator", "admin"))


def test_every_mutation_checks_every_input_field_by_a_declared_rule() -> None:
    for name, field in _mutations().items():
        assert any(isinstance(e, Validated) for e in field.extensions), name
        assert list(undeclared(_input_type(field))) == [], name
    assert set(_mutations()) == set(SAMPLES)  # and every one has a case below
    assert {n for n, _, _, _ in CASES} == set(SAMPLES)


@pytest.mark.parametrize(
    ("name", "path", "rule", "bad"),
    CASES,
    ids=[f"{n}-{'.'.join(p)}-{b}" for n, p, _, b in CASES],
)
async def test_a_bad_string_anywhere_in_a_mutation_is_a_user_error(
    admin: Curator, session: AsyncSession, name: str, path: tuple[str, ...], rule: Any, bad: str
) -> None:
    query, variables = SAMPLES[name]
    data = _with(variables["input"], path, BAD[bad])
    before = await export_catalog(session)
    body = await admin(query, {"input": data})
    assert "errors" not in body, body
    payload = body["data"][name]
    code = CODES[type(rule)]
    if isinstance(rule, rules.Text) and bad == "zero-width":
        code = "REQUIRED"  # invisible only: blank
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["input", *path], code)], (
        payload
    )
    assert payload["userErrors"][0]["message"].startswith(path[0])
    assert all(value is None for key, value in payload.items() if key != "userErrors")
    assert await export_catalog(session) == before


async def test_authorisation_comes_before_validation(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    bad = {"input": {"slug": "x\x00", "version": 1}}
    anonymous = await Curator(client, None)(SAMPLES["deleteTheme"][0], bad)
    assert [e["extensions"]["code"] for e in anonymous["errors"]] == ["UNAUTHENTICATED"]
    editor = Curator(client, await create_token(session, "small", "editor"))
    refused = await editor(SAMPLES["deleteWork"][0], bad)
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]


CREATE_WORK = SAMPLES["createWork"][0]
CREATE_PERSON = SAMPLES["createPerson"][0]


def _film(**fields: Any) -> dict[str, Any]:
    return {"title": "T", "kind": "FILM", **fields}


def _source(url: str | None = None, **fields: Any) -> dict[str, Any]:
    return {"key": "k", "title": "T", **({"url": url} if url is not None else {}), **fields}


ON_PULGASARI = {"slug": "pulgasari", "version": 1}


@pytest.mark.parametrize(
    ("name", "data", "field", "code"),
    [
        ("createWork", _film(title="\u200b\u200c\u2060"), "title", "REQUIRED"),
        ("createWork", _film(title="\ufeff \u3164"), "title", "REQUIRED"),
        ("createWork", _film(title="A\nB"), "title", "INVALID_TEXT"),
        ("createWork", _film(title="A\x07B"), "title", "INVALID_TEXT"),
        ("createWork", _film(title="x" * 501), "title", "TOO_LONG"),
        ("createWork", _film(synopsis="\u00ad"), "synopsis", "REQUIRED"),
        ("createPerson", {"name": "\u2800\u115f\u1160"}, "name", "REQUIRED"),
        ("createPerson", {"name": "N", "originalName": "\u200d"}, "originalName", "REQUIRED"),
        ("createTheme", {"name": "\u180e\u200b"}, "name", "REQUIRED"),
        ("updateWork", {**ON_PULGASARI, "title": "\u200b"}, "title", "REQUIRED"),
        ("createSource", _source(key=" a/b c "), "key", "INVALID_KEY"),
        ("createSource", _source(key="Upper"), "key", "INVALID_KEY"),
        ("createSource", _source(key="k" * 101), "key", "TOO_LONG"),
        ("createSource", _source("https://a.example/\r\nX: y"), "url", "INVALID_URL"),
        ("createSource", _source("https://a.example/x\n"), "url", "INVALID_URL"),
        ("createSource", _source(" https://a.example/"), "url", "INVALID_URL"),
        ("createSource", _source("javascript:alert(1)"), "url", "INVALID_URL"),
        ("createSource", _source("https:///path"), "url", "INVALID_URL"),
        ("createSource", _source("https://a.example/\u200b"), "url", "INVALID_URL"),
        ("createSource", _source("https://a.example/" + "x" * 2000), "url", "INVALID_URL"),
    ],
)
async def test_invisible_control_and_malformed_values_are_user_errors(
    admin: Curator,
    session: AsyncSession,
    name: str,
    data: dict[str, Any],
    field: str,
    code: str,
) -> None:
    before = await export_catalog(session)
    payload = (await admin(SAMPLES[name][0], {"input": data}))["data"][name]
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["input", field], code)]
    assert await export_catalog(session) == before


@pytest.mark.parametrize(
    ("name", "data", "field"),
    [
        ("createWork", {"title": "T", "kind": "FILM", "themes": ["a"] * 40_000}, "themes"),
        ("createWork", {"title": "T", "kind": "FILM", "directors": ["a"] * 40_000}, "directors"),
        ("updateWork", {"slug": "pulgasari", "version": 1, "themes": ["a"] * 40_000}, "themes"),
        (
            "reorderCredits",
            {"slug": "pulgasari", "version": 1, "order": [ITEMS["order"]] * 1_001},
            "order",
        ),
    ],
)
async def test_lists_over_the_limit_are_too_many(
    admin: Curator, session: AsyncSession, name: str, data: dict[str, Any], field: str
) -> None:
    before = await export_catalog(session)
    payload = (await admin(SAMPLES[name][0], {"input": data}))["data"][name]
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", field], "TOO_MANY")
    ]
    assert await export_catalog(session) == before


async def test_text_is_stored_normalised(admin: Curator, session: AsyncSession) -> None:
    payload = (
        await admin(
            CREATE_WORK,
            {"input": {"title": "  Cafe\u0301 ", "kind": "FILM", "synopsis": "One\r\nTwo\rThree"}},
        )
    )["data"]["createWork"]
    assert payload["userErrors"] == [] and payload["work"]["title"] == "Caf\u00e9"
    work = await session.scalar(select(m.Work).where(m.Work.slug == payload["work"]["slug"]))
    assert work is not None and work.synopsis == "One\nTwo\nThree"


# -- bounded generated values, read back and exported, on a database of their own ------------


@pytest.fixture
async def own(
    migrated_database: str, tmp_path: Path
) -> Any:  # the app over its own seeded database, an admin, and the database's URL
    from db.engine import create_engine
    from settings import Settings

    ok("seed", database_url=migrated_database, cwd=tmp_path)
    made = nkcinema(
        "token", "create", "--name", "bounds", "--scope", "admin",
        database_url=migrated_database, cwd=tmp_path,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    engine = create_engine(migrated_database)
    try:
        async with app_client(Settings(database_url=migrated_database), engine=engine) as client:
            yield Curator(client, made.stdout.strip()), migrated_database
    finally:
        await engine.dispose()


LONG_WORDS = " ".join(["Chollima"] * 40)  # 359 letters and spaces
READ = """query($slug: String!) { work(slug: $slug) { slug title } }"""


async def test_long_titles_and_folding_titles_make_bounded_values_that_round_trip(
    own: tuple[Curator, str], empty_database: str, tmp_path: Path
) -> None:
    curator, database_url = own
    titles = [
        "a" * 250,  # one word over the column: cut
        "a" * 250,  # again: suffixed, still within the column
        LONG_WORDS,
        LONG_WORDS,
        "\u00df" * 500,  # ß folds to ss: a key twice the title's length
        "\ufb03" * 500,  # ﬃ folds to ffi
    ]
    slugs = []
    for title in titles:
        payload = await curator(CREATE_WORK, {"input": {"title": title, "kind": "FILM"}})
        created = payload["data"]["createWork"]
        assert created["userErrors"] == [], payload
        slugs.append(created["work"]["slug"])
    for slug in slugs:
        assert len(slug) <= m.SLUG_LENGTH and rules.SLUG(slug) == slug
        read = await curator(READ, {"slug": slug})
        assert read["data"]["work"]["slug"] == slug
    assert slugs[0] == "a" * (m.SLUG_LENGTH - rules.SLUG_SUFFIX_ROOM)
    assert slugs[1] == slugs[0] + "-2"
    assert slugs[2].endswith("chollima") and not slugs[2].endswith("-")  # cut between words
    assert slugs[3] == slugs[2] + "-2"
    person = (await curator(CREATE_PERSON, {"input": {"name": "Ri " * 150}}))["data"]
    assert len(person["createPerson"]["person"]["slug"]) <= m.SLUG_LENGTH
    ordered = await curator("{ works(first: 100) { nodes { title } } }")
    assert "\u00df" * 500 in [n["title"] for n in ordered["data"]["works"]["nodes"]]

    exported = export(database_url, tmp_path)
    copy_file = tmp_path / "copy.json"
    copy_file.write_bytes(exported)
    ok("db", "upgrade", database_url=empty_database, cwd=tmp_path)
    ok("seed", str(copy_file), database_url=empty_database, cwd=tmp_path)
    assert export(empty_database, tmp_path) == exported


async def test_sort_keys_fit_their_columns(session: AsyncSession) -> None:
    for column in (m.Work.title_key, m.Person.name_key, m.Theme.name_key, m.Credit.work_title_key):
        assert column.type.length == SORT_KEY_LENGTH  # type: ignore[attr-defined]


# -- query arguments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("query($s: String!) { work(slug: $s) { title } }", {"s": "x\x00"}),
        ("query($s: String!) { person(slug: $s) { name } }", {"s": "x\x7f"}),
        ("query($s: String!) { theme(slug: $s) { name } }", {"s": "x\x1b"}),
        ("query($s: String!) { search(query: $s) { __typename } }", {"s": "\u0085a"}),
        ("query($s: String!) { searchHits(query: $s) { score } }", {"s": "a\x00"}),
        (
            "query($f: WorkFilter) { works(filter: $f) { totalCount } }",
            {"f": {"directors": ["x\x00"]}},
        ),
        ("query($f: WorkFilter) { works(filter: $f) { totalCount } }", {"f": {"theme": "\x00"}}),
        (
            "query($f: PersonFilter) { people(filter: $f) { totalCount } }",
            {"f": {"search": "a\nb"}},
        ),
        (
            "query($v: String!) { workByExternalId(system: IMDB, value: $v) { title } }",
            {"v": "tt\x00"},
        ),
    ],
)
async def test_bad_text_in_query_arguments_is_bad_user_input(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any]
) -> None:
    body = json.dumps({"query": query, "variables": variables})
    response = await client.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (200, 400), response.text
    answer = response.json()
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["BAD_USER_INPUT"], answer
    assert "Traceback" not in json.dumps(answer)


async def test_the_audit_trail_subject_is_checked_too(admin: Curator) -> None:
    body = await admin(
        "query($s: String) { changes(first: 1, subject: $s) { totalCount } }", {"s": "\x00"}
    )
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


async def test_a_lone_surrogate_is_refused_with_the_request(admin: Curator) -> None:
    response = await admin.client.post(
        "/graphql",
        content=json.dumps(
            {
                "query": "query($s: String!) { work(slug: $s) { title } }",
                "variables": {"s": "x\ud800"},
            }
        ),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["BAD_REQUEST"]


@strawberry.input
class Loose:
    name: str
    ids: list[strawberry.ID]
    ratio: float


def test_a_field_without_a_rule_is_refused_when_the_schema_is_built() -> None:
    assert list(undeclared(Loose)) == ["Loose.name", "Loose.ids", "Loose.ids", "Loose.ratio"]

    @strawberry.type
    class Mutating:
        @strawberry.mutation(extensions=[Validated()])
        async def change(self, input: Loose) -> WorkPayload:
            raise AssertionError("never runs")

    @strawberry.type
    class Reading:
        field: int = 0

    with pytest.raises(TypeError, match="input fields without a rule"):
        strawberry.Schema(query=Reading, mutation=Mutating)
