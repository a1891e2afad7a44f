"""Whatever the API stores, an export loads back: a property test.

Hypothesis generates sequences of writes through the real GraphQL schema and app, with an
admin token: every mutation (creating, changing, linking, removing and deleting), with text
that is ordinary, long, folding (``ß``), invisible, decomposed or carrying control
characters, each example on a fresh copy of the seeded catalog. Writes the rules refuse come
back as userErrors; none may be a GraphQL error. After each sequence the catalog is exported,
seeded into a new, empty database and exported again: the two exports must be identical.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from cli import _run, migrate
from db.curation.links import DISPUTE_FIELDS
from db.engine import create_engine, session_factory
from db.interchange.export import export_catalog
from db.tokens import create_token
from seeds import seed
from settings import Settings
from tests.support.client import asgi_client, make_app
from tests.support.databases import Databases, backend_name

EXAMPLES = 20  # each copies two databases: about 2 s on PostgreSQL, less on SQLite
KINDS = ("FILM", "SERIES")
ROLES = ("DIRECTOR", "WRITER", "ACTOR", "COMPOSER", "PRODUCER", "CREATOR", "OTHER")
RELATIONS = ("EXTENDS", "ADAPTS", "REMAKES", "SEQUEL_OF", "PART_OF")
# Pieces of valid text that stress normalisation, folding and slugs; and hostile ones.
TRICKY = (
    "\u00df",  # folds to "ss"
    "\ufb03",  # folds to "ffi"
    "e\u0301",  # decomposed: NFC composes it
    "\u1112\u1161\u11ab",  # Hangul jamo: NFC composes them
    "\ud53c\ubc14\ub2e4",
    "\u200b",  # invisible, but inside visible text
    "\u014f",
    "\u0130",
    "'",
    "-",
    " ",
)
HOSTILE = ("\x00", "\x1b", "\t", "\r\n", "\u2028", "\u3164", "\ufeff", "\x85", "\u200d")
LONG = ("a" * 250, "Chollima " * 40, "\u00df" * 500, "  padded  ", "Line\nbreak", "x" * 501)


def _mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``good`` four times in five (so that most writes get through), else ``bad``."""

    @st.composite
    def pick(draw: Any) -> Any:
        return draw(bad) if draw(st.integers(0, 4)) == 4 else draw(good)

    return pick()


def _texts(max_size: int) -> st.SearchStrategy[str]:
    """Mostly valid text, sometimes long or hostile."""
    visible = st.characters(categories=("L", "N", "P", "S", "Zs", "M"))
    valid = st.lists(st.one_of(visible, st.sampled_from(TRICKY)), min_size=1, max_size=max_size)
    hostile = st.lists(
        st.one_of(st.characters(exclude_categories=("Cs",)), st.sampled_from(HOSTILE)),
        max_size=max_size,
    )  # JSON cannot carry lone surrogates (the app answers BAD_REQUEST)
    return _mostly(valid.map("".join), st.one_of(st.sampled_from(LONG), hostile.map("".join)))


TEXT = _texts(40)
KEYS = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,12}", fullmatch=True)
KEY = _mostly(KEYS, _texts(20))
URL = st.one_of(
    st.none(),
    _mostly(st.builds(lambda tail: "https://example.org/" + tail, KEYS), _texts(20)),
)
SLUG = _mostly(st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,2}", fullmatch=True), TEXT)
YEAR = st.one_of(st.none(), _mostly(st.integers(1888, 2100), st.integers(1850, 2150)))

PAYLOAD = "userErrors { field code message }"
WORK_PAYLOAD = f"work {{ slug version }} {PAYLOAD}"
MUTATIONS = {
    "createWork": ("CreateWorkInput", WORK_PAYLOAD),
    "updateWork": ("UpdateWorkInput", WORK_PAYLOAD),
    "createPerson": ("CreatePersonInput", f"person {{ slug }} {PAYLOAD}"),
    "updatePerson": ("UpdatePersonInput", f"person {{ slug }} {PAYLOAD}"),
    "createTheme": ("CreateThemeInput", f"theme {{ slug }} {PAYLOAD}"),
    "updateTheme": ("UpdateThemeInput", f"theme {{ slug }} {PAYLOAD}"),
    "createSource": ("CreateSourceInput", f"key {PAYLOAD}"),
    "tagWork": ("TagInput", WORK_PAYLOAD),
    "addCredit": ("CreditInput", WORK_PAYLOAD),
    "reorderCredits": ("ReorderCreditsInput", WORK_PAYLOAD),
    "relateWorks": ("RelationInput", WORK_PAYLOAD),
    "addDispute": ("AddDisputeInput", WORK_PAYLOAD),
    "untagWork": ("TagInput", WORK_PAYLOAD),
    "removeCredit": ("CreditInput", WORK_PAYLOAD),
    "unrelateWorks": ("RelationInput", WORK_PAYLOAD),
    "removeDispute": ("RemoveDisputeInput", WORK_PAYLOAD),
    "deleteWork": ("DeleteWorkInput", f"deletedSlug {PAYLOAD}"),
    "deletePerson": ("DeleteInputBySlug", f"deletedSlug {PAYLOAD}"),
    "deleteTheme": ("DeleteInputBySlug", f"deletedSlug {PAYLOAD}"),
}
LINKS = """query($s: String!) { work(slug: $s) { credits { person { slug } role }
  themes { slug } related { type work { slug } } disputes { field } } }"""


@dataclass
class Catalog:
    """The app over a database of its own, on a private event loop, and what it holds."""

    portal: BlockingPortal
    client: httpx.AsyncClient
    token: str
    pools: dict[str, list[str]] = field(default_factory=dict)

    def post(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables})  # ASCII: any text goes
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"}
        response = self.portal.call(
            lambda: self.client.post("/graphql", content=body, headers=headers)
        )
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        assert "errors" not in answer, answer
        return answer["data"]

    def mutate(self, name: str, data: dict[str, Any]) -> dict[str, Any] | None:
        """Run a mutation; its payload if it applied, None if refused with userErrors."""
        input_type, selection = MUTATIONS[name]
        query = f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {selection} }} }}"
        payload = self.post(query, {"input": data})[name]
        if payload["userErrors"]:
            assert all(e["code"] for e in payload["userErrors"]), payload
            return None
        return payload  # type: ignore[no-any-return]

    def version(self, kind: str, slug: str) -> int:
        """The record's version (1 if it is gone: the write is then NOT_FOUND)."""
        found = self.post(f"query($s: String!) {{ {kind}(slug: $s) {{ version }} }}", {"s": slug})
        return int(found[kind]["version"]) if found[kind] else 1


@dataclass
class Templates:
    """A seeded catalog (with an admin token) and an empty migrated database, each copied
    afresh for every example: examples must not depend on what earlier ones wrote."""

    databases: Databases
    seeded: str
    empty: str
    token: str
    pools: dict[str, list[str]]
    portal: BlockingPortal
    file_copy: bool = False

    def copy(self, template: str) -> str:
        if backend_name() == "sqlite":
            path = self.databases.tmp_dir / f"{uuid.uuid4().hex}.db"
            shutil.copyfile(template.removeprefix("sqlite:///"), path)
            return f"sqlite:///{path}"
        name = f"nkcinema_test_{uuid.uuid4().hex[:12]}"
        source = urlsplit(template).path.lstrip("/")
        # FILE_COPY (PostgreSQL 15+): for a small database, much quicker than logging it
        strategy = " STRATEGY FILE_COPY" if self.file_copy else ""
        sql = f'CREATE DATABASE "{name}" TEMPLATE "{source}"{strategy}'
        asyncio.run(self.databases._admin(sql))
        self.databases.created.append(name)
        return urlunsplit(urlsplit(template)._replace(path=f"/{name}"))

    def drop(self, url: str) -> None:
        if backend_name() == "sqlite":
            Path(url.removeprefix("sqlite:///")).unlink()
            return
        name = urlsplit(url).path.lstrip("/")
        asyncio.run(self.databases._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.databases.created.remove(name)

    @contextlib.contextmanager
    def catalog(self, url: str) -> Iterator[Catalog]:
        engine = self.portal.call(lambda: _engine(url))
        client = asgi_client(make_app(Settings(database_url=url), engine=engine))
        pools = {kind: list(slugs) for kind, slugs in self.pools.items()}
        try:
            yield Catalog(self.portal, client, self.token, pools)
        finally:
            self.portal.call(client.aclose)
            self.portal.call(engine.dispose)


@pytest.fixture
def templates(databases: Databases) -> Iterator[Templates]:
    seeded, empty = databases.create_seeded(), databases.create()
    migrate(empty)

    async def admin_token(engine: Any) -> str:
        async with session_factory(engine)() as session, session.begin():
            return await create_token(session, "property", "admin")

    token = _run(admin_token, seeded)
    exported = json.loads(_run(_export, seeded))
    pools = {
        "work": [w["slug"] for w in exported["works"]],
        "person": [p["slug"] for p in exported["people"]],
        "theme": [t["slug"] for t in exported["themes"]],
        "source": [s["key"] for s in exported["sources"]],
    }
    file_copy = False
    if backend_name() == "postgresql":

        async def version(engine: Any) -> int:
            async with engine.connect() as connection:
                return int(await connection.scalar(text("SHOW server_version_num")))

        file_copy = _run(version, seeded) >= 150000
    with start_blocking_portal() as portal:
        yield Templates(databases, seeded, empty, token, pools, portal, file_copy)


async def _engine(url: str) -> Any:
    return create_engine(url)


async def _export(engine: Any) -> str:
    async with session_factory(engine)() as session:
        return await export_catalog(session)


def _some(draw: Any, pool: list[str], most: int) -> list[str]:
    """Some of ``pool``: usually distinct, sometimes with a repeat (a DUPLICATE)."""
    unique = draw(st.booleans()) or draw(st.booleans())
    return draw(st.lists(st.sampled_from(pool), max_size=most, unique=unique))


def _optional(draw: Any, strategy: st.SearchStrategy[Any]) -> Any:
    """A value, or the field left out (UNSET): ``...``."""
    return draw(st.one_of(st.just(...), strategy))


def _input(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not ...}


def _write(catalog: Catalog, draw: Any) -> None:
    """One generated write."""
    pools = catalog.pools
    name = draw(st.sampled_from(sorted(MUTATIONS)))
    work = draw(st.sampled_from(pools["work"]))
    person = draw(st.sampled_from(pools["person"]))
    theme = draw(st.sampled_from(pools["theme"]))
    source = draw(st.sampled_from(pools["source"]))
    cite = _optional(draw, st.just(source))
    if name == "createWork":
        data = _input(
            title=draw(TEXT),
            kind=draw(st.sampled_from(KINDS)),
            slug=_optional(draw, SLUG),
            year=_optional(draw, YEAR),
            synopsis=_optional(draw, _texts(200)),
            originalTitle=_optional(draw, TEXT),
            directors=_some(draw, pools["person"], 2),
            themes=_some(draw, pools["theme"], 3),
            source=cite,
        )
        made = catalog.mutate(name, data)
        if made:
            pools["work"].append(made["work"]["slug"])
    elif name == "updateWork":
        data = _input(
            slug=work,
            version=catalog.version("work", work),
            title=_optional(draw, TEXT),
            year=_optional(draw, YEAR),
            synopsis=_optional(draw, _texts(200)),
            themes=_optional(draw, st.just(_some(draw, pools["theme"], 3))),
            directors=_optional(draw, st.just(_some(draw, pools["person"], 2))),
            source=cite,
        )
        catalog.mutate(name, data)
    elif name in ("createPerson", "updatePerson"):
        fields = _input(
            name=draw(TEXT) if name == "createPerson" else _optional(draw, TEXT),
            originalName=_optional(draw, TEXT),
            biography=_optional(draw, _texts(200)),
            source=cite,
        )
        if name == "updatePerson":
            fields.update(slug=person, version=catalog.version("person", person))
        else:
            fields.update(_input(slug=_optional(draw, SLUG)))
        made = catalog.mutate(name, fields)
        if made and name == "createPerson":
            pools["person"].append(made["person"]["slug"])
    elif name in ("createTheme", "updateTheme"):
        fields = _input(
            name=draw(TEXT) if name == "createTheme" else _optional(draw, TEXT),
            description=_optional(draw, _texts(200)),
        )
        if name == "updateTheme":
            fields.update(slug=theme, version=catalog.version("theme", theme))
        made = catalog.mutate(name, fields)
        if made and name == "createTheme":
            pools["theme"].append(made["theme"]["slug"])
    elif name == "createSource":
        made = catalog.mutate(name, _input(key=draw(KEY), title=draw(TEXT), url=draw(URL)))
        if made:
            pools["source"].append(made["key"])
    else:
        on = {"slug": work, "version": catalog.version("work", work)}
        if name == "tagWork":
            catalog.mutate(name, {**on, "theme": theme})
        elif name == "addCredit":
            role = draw(st.sampled_from(ROLES))
            catalog.mutate(name, _input(**on, person=person, role=role, source=cite))
        elif name == "relateWorks":
            other = draw(st.sampled_from(pools["work"]))
            kind = draw(st.sampled_from(RELATIONS))
            catalog.mutate(name, {**on, "type": kind, "work": other})
        elif name == "addDispute":
            data = _input(
                **on,
                field=draw(st.sampled_from(DISPUTE_FIELDS)),
                stated=draw(TEXT),
                reported=draw(TEXT),
                source=source,
                note=_optional(draw, _texts(100)),
            )
            catalog.mutate(name, data)
        elif name.startswith("delete"):
            kind = {"deleteWork": "work", "deletePerson": "person", "deleteTheme": "theme"}[name]
            slug = {"work": work, "person": person, "theme": theme}[kind]
            if catalog.mutate(name, {"slug": slug, "version": catalog.version(kind, slug)}):
                pools[kind].remove(slug)
        else:  # what takes a link the work has: one drawn from those it has, if any
            links = catalog.post(LINKS, {"s": work})["work"] or {}
            credits = [
                {"person": c["person"]["slug"], "role": c["role"]} for c in links.get("credits", [])
            ]
            if name == "reorderCredits":
                catalog.mutate(name, {**on, "order": draw(st.permutations(credits))})
            elif name == "removeCredit" and credits:
                catalog.mutate(name, {**on, **draw(st.sampled_from(credits))})
            elif name == "untagWork" and links.get("themes"):
                tag = draw(st.sampled_from([t["slug"] for t in links["themes"]]))
                catalog.mutate(name, {**on, "theme": tag})
            elif name == "unrelateWorks" and links.get("related"):
                relation = draw(st.sampled_from(links["related"]))
                catalog.mutate(
                    name, {**on, "type": relation["type"], "work": relation["work"]["slug"]}
                )
            elif name == "removeDispute" and links.get("disputes"):
                position = draw(st.integers(0, len(links["disputes"]) - 1))
                catalog.mutate(name, {**on, "position": position})


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # the templates serve every example, unchanged
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(data=st.data())
def test_export_seeds_back_identically_after_any_successful_writes(
    templates: Templates, data: st.DataObject
) -> None:
    written = templates.copy(templates.seeded)
    with templates.catalog(written) as catalog:
        for _ in range(data.draw(st.integers(1, 8), label="writes")):
            _write(catalog, data.draw)
    exported = _run(_export, written)
    loaded = templates.copy(templates.empty)
    document = json.loads(exported)
    _run(lambda engine: seed(session_factory(engine), documents=[("export", document)]), loaded)
    assert _run(_export, loaded) == exported
    templates.drop(written)
    templates.drop(loaded)


def test_tricky_but_valid_writes_apply(templates: Templates) -> None:
    """The property means something only if writes get through: these all must."""
    with templates.catalog(templates.copy(templates.seeded)) as catalog:
        for title in ("a" * 250, "\u00df" * 500, "Cafe\u0301", "  Sea of Blood  ", "\u200bX"):
            assert catalog.mutate("createWork", {"title": title, "kind": "FILM"}) is not None
        source = {"key": "k.1_a", "title": "T", "url": None}
        assert catalog.mutate("createSource", source) is not None
