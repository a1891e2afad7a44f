"""The load benchmark's workloads (``bench.load_workloads``) against its floor (``bench.floor``):
on a loaded synthetic catalog and on the bundled one, every workload's operation is valid and
the app answers it — on the resolver path and on the compiled path — with the same data as
the floor's one hand-written statement, so a wrong floor or a wrong operation fails here and
not in the middle of a benchmark run; and what a workload rotates through finds something."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from bench import databases as bench_databases
from bench.catalog import build_catalog
from bench.floor import Database, database
from bench.load import MAX_COST, count_statements, resolve_workloads
from bench.load_workloads import (
    PAGE,
    PAGED_PEOPLE,
    LoadWorkload,
    _pg_w8,
    _pg_w9,
    build_load_workloads,
    from_global_id,
)
from cli import migrate
from db.engine import create_engine, session_factory
from settings import Settings
from tests.support.client import app_client
from tests.support.databases import Databases

WORKS = 1_000  # enough for the most credited people to have a third page of 20 works
NEW = ("W6", "W7", "W8", "W9", "W10", "W11")


@dataclass(frozen=True)
class Loaded:
    url: str
    workloads: dict[str, LoadWorkload]


async def _load(url: str) -> list[LoadWorkload]:
    catalog = build_catalog(WORKS)
    engine = create_engine(url)
    try:
        await bench_databases.load(engine, catalog)
        await bench_databases.analyze(engine)
    finally:
        await engine.dispose()
    return await resolve_workloads(url, build_load_workloads(catalog))


@pytest.fixture(scope="module")
def loaded(databases: Databases) -> Loaded:
    url = databases.create()
    migrate(url)
    workloads = asyncio.run(_load(url))
    return Loaded(url, {w.key: w for w in workloads})


@pytest.fixture
async def floor(loaded: Loaded) -> AsyncIterator[Database]:
    db = database(loaded.url)
    await db.start()
    yield db
    await db.stop()


async def _answers(url: str, workload: LoadWorkload, *, compiled: bool) -> list[Any]:
    """The app's data for each variant (the request fails the test on any error)."""
    engine = create_engine(url)
    settings = Settings(database_url=url, compiled=compiled, max_cost=MAX_COST)
    answers = []
    try:
        async with app_client(settings, sessions=session_factory(engine)) as client:
            for body in workload.graphql_bodies():
                response = await client.post("/graphql", json=body)
                payload = response.json()
                assert response.status_code == 200 and not payload.get("errors"), payload
                answers.append(payload["data"])
    finally:
        await engine.dispose()
    return answers


async def _floor_answers(floor: Database, workload: LoadWorkload) -> list[Any]:
    path = workload.key.lower()
    return [json.loads(await floor.answer(path, body))["data"] for body in workload.floor_bodies()]


@pytest.mark.parametrize("key", ["W1", "W2", "W3", "W4", "W5", *NEW])
@pytest.mark.parametrize("compiled", [False, True], ids=["resolvers", "compiled"])
async def test_the_app_answers_each_workload_as_the_floor_does(
    loaded: Loaded, floor: Database, key: str, compiled: bool
) -> None:
    workload = loaded.workloads[key]
    expected = await _floor_answers(floor, workload)
    assert await _answers(loaded.url, workload, compiled=compiled) == expected


async def test_what_the_new_workloads_rotate_through_finds_something(
    loaded: Loaded, floor: Database
) -> None:
    answers = {key: await _floor_answers(floor, loaded.workloads[key]) for key in NEW}
    hits = [len(a["search"]) for a in answers["W6"]]
    assert max(hits) == 20 and sum(1 for n in hits if n) >= len(hits) - 2, hits
    assert all(a["works"]["totalCount"] > 20 for a in answers["W7"])
    assert all(a["works"]["facets"]["themes"] for a in answers["W7"])
    assert all(a["work"]["credits"] and a["work"]["sources"] for a in answers["W8"])
    # the most credited people at 1,000 works have more than 40 works: page 3 is not empty,
    # and it starts after the second page
    assert len(answers["W9"]) == PAGED_PEOPLE
    assert all(a["person"]["works"]["nodes"] for a in answers["W9"])
    assert any(len(a["person"]["works"]["nodes"]) == PAGE for a in answers["W9"])
    types = {from_global_id(v["id"])[0] for v in loaded.workloads["W10"].variants}
    assert types == {"Work", "Person", "Theme"}
    assert all(a["node"] is not None for a in answers["W10"])
    (whole,) = answers["W11"]  # the whole catalog: every work counted, 10 themes of 300
    assert whole["works"]["totalCount"] == WORKS
    assert sum(k["count"] for k in whole["works"]["facets"]["kinds"]) == WORKS
    assert sum(d["count"] for d in whole["works"]["facets"]["decades"]) == WORKS
    assert len(whole["works"]["facets"]["themes"]) == 10


async def test_page_three_follows_page_two(loaded: Loaded) -> None:
    """W9's cursor is the one after the second page: the page starts at the 41st work."""
    workload = loaded.workloads["W9"]
    first_three = LoadWorkload(
        "W9",
        "",
        workload.query.replace("first: 20, after: $after", "first: 60").replace(
            ", $after: String!", ""
        ),
        tuple({"slug": v["slug"]} for v in workload.variants),
    )
    everything = await _answers(loaded.url, first_three, compiled=False)
    pages = await _answers(loaded.url, workload, compiled=False)
    for whole, page in zip(everything, pages, strict=True):
        nodes = page["person"]["works"]["nodes"]
        assert nodes == whole["person"]["works"]["nodes"][2 * PAGE : 2 * PAGE + len(nodes)]


async def test_statements_are_counted_for_every_workload(loaded: Loaded) -> None:
    workloads = [loaded.workloads[key] for key in NEW]
    for compiled in (False, True):
        counts = await count_statements(loaded.url, workloads, compiled=compiled)
        assert set(counts) == set(NEW)
        assert all(n >= 1 for n in counts.values()), counts


# -- the bundled catalog: disputes, external ids, several sources --------------------------------


async def test_a_works_page_on_the_bundled_catalog_is_the_floors(catalog_url: str) -> None:
    engine = create_engine(catalog_url)
    try:
        settings = Settings(database_url=catalog_url)
        async with app_client(settings, sessions=session_factory(engine)) as client:
            response = await client.post(
                "/graphql", json={"query": "{ works(first: 100) { nodes { slug } } }"}
            )
            slugs = [w["slug"] for w in response.json()["data"]["works"]["nodes"]]
    finally:
        await engine.dispose()
    template = build_load_workloads(build_catalog(10))
    w8 = next(w for w in template if w.key == "W8")
    workload = LoadWorkload("W8", "", w8.query, tuple({"slug": s} for s in slugs))
    floor = database(catalog_url)
    await floor.start()
    try:
        expected = await _floor_answers(floor, workload)
    finally:
        await floor.stop()
    assert any(a["work"]["disputes"] for a in expected)
    assert any(a["work"]["externalIds"] for a in expected)
    for compiled in (False, True):
        assert await _answers(catalog_url, workload, compiled=compiled) == expected


async def test_searching_the_bundled_catalog_is_the_floors(catalog_url: str) -> None:
    template = build_load_workloads(build_catalog(10))
    w6 = next(w for w in template if w.key == "W6")
    terms = ("choi ik kyu", "sea of blood", "꽃파는", "pulgasari", "flower", "bulgasari", "kim")
    workload = LoadWorkload("W6", "", w6.query, tuple({"query": t} for t in terms))
    floor = database(catalog_url)
    await floor.start()
    try:
        expected = await _floor_answers(floor, workload)
    finally:
        await floor.stop()
    assert all(a["search"] for a in expected)
    assert await _answers(catalog_url, workload, compiled=False) == expected


# -- PostGraphile's answers reshaped to ours ---------------------------------------------------


def test_postgraphiles_work_page_is_reshaped_to_ours() -> None:
    theirs = {
        "workBySlug": {
            "slug": "a",
            "title": "A",
            "creditsByWorkId": {
                "nodes": [{"role": "DIRECTOR", "personByPersonId": {"slug": "p", "name": "P"}}]
            },
            "workThemesByWorkId": {"nodes": [{"themeByThemeId": {"slug": "t", "name": "T"}}]},
            "workSourcesByWorkId": {
                "nodes": [{"sourceBySourceId": {"key": "k", "title": "K", "url": None}}]
            },
            "disputesByWorkId": {
                "nodes": [
                    {
                        "field": "year",
                        "stated": "1",
                        "reported": "2",
                        "note": None,
                        "sourceBySourceId": {"title": "K"},
                    }
                ]
            },
            "workExternalIdsByWorkId": {"nodes": [{"system": "IMDB", "value": "tt0000001"}]},
        }
    }
    assert _pg_w8(theirs) == {
        "work": {
            "slug": "a",
            "title": "A",
            "credits": [{"role": "DIRECTOR", "person": {"slug": "p", "name": "P"}}],
            "themes": [{"slug": "t", "name": "T"}],
            "sources": [{"key": "k", "title": "K", "url": None}],
            "disputes": [
                {
                    "field": "year",
                    "stated": "1",
                    "reported": "2",
                    "note": None,
                    "source": {"title": "K"},
                }
            ],
            "externalIds": [{"system": "IMDB", "value": "tt0000001"}],
        }
    }
    assert _pg_w9({"personBySlug": None}) == {"person": None}
