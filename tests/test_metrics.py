"""The metrics (metrics.py) as /metrics shows them, counted by the real app over HTTP: every
GraphQL request once, by operation, outcome and code, whichever layer answered it (a
refusal, Strawberry, the fast lane); how it was executed; what it cost; which database
answered; the pools. Parsed with prometheus-client's own parser."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

import metrics
from db.engine import create_engine
from settings import Settings
from tests.support.client import app_client

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

FAMILIES = {
    "nkcinema_requests": "counter",
    "nkcinema_request_duration_seconds": "histogram",
    "nkcinema_executions": "counter",
    "nkcinema_request_cost": "histogram",
    "nkcinema_db_pool_connections": "gauge",
    "nkcinema_db_requests": "counter",
    "nkcinema_replica_lag_seconds": "gauge",
}

COMPILED = "query Compiled { works(first: 2) { nodes { title } } }"
# not compiled: a similar list's facets (null) are the resolvers' alone
RESOLVED = (
    'query Finding { work(slug: "sea-of-blood") { similar(first: 2) { facets { __typename } } } }'
)


def parse(exposition: str) -> tuple[dict[str, str], Samples]:
    """(family name -> type, every sample by name and labels)."""
    families: dict[str, str] = {}
    samples: Samples = {}
    for family in text_string_to_metric_families(exposition):
        families[family.name] = family.type
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return families, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)[1]


def requests(samples: Samples, operation: str, outcome: str = "ok", code: str = "none") -> float:
    return value(
        samples, "nkcinema_requests_total", operation=operation, outcome=outcome, code=code
    )


@pytest.fixture
def settings(catalog_url: str) -> Settings:
    return Settings(database_url=catalog_url, graphiql=False, compiled=True)


async def test_each_family_is_shown_in_the_text_format(settings: Settings) -> None:
    metrics.replica_lag("replica-9", 0.25)  # what the replica code reports, as it reports it
    async with app_client(settings, lifespan=True) as client:
        await client.post("/graphql", json={"query": COMPILED})
        response = await client.get("/metrics")
    families, samples = parse(response.text)
    for name, kind in FAMILIES.items():
        assert families.get(name) == kind, (name, families.get(name))
    assert value(samples, "nkcinema_replica_lag_seconds", database="replica-9") == 0.25
    for state in ("in_use", "waiting"):
        assert (
            "nkcinema_db_pool_connections",
            frozenset({("database", "primary"), ("state", state)}),
        ) in samples


async def test_each_request_is_counted_once_by_how_it_was_answered(settings: Settings) -> None:
    async with app_client(settings, lifespan=True) as client:
        before = await scrape(client)
        # the full path, by the compiled plan; then the fast lane's cached answer (GET)
        first = await client.get("/graphql", params={"query": COMPILED})
        again = await client.get("/graphql", params={"query": COMPILED})
        # the resolvers, twice: the second from the response cache
        resolved = [await client.post("/graphql", json={"query": RESOLVED}) for _ in range(2)]
        # refused: validation (named), a body that is not JSON (no operation at all)
        invalid = await client.post("/graphql", json={"query": "query Bad { nope }"})
        refused = await client.post(
            "/graphql", content=b"{", headers={"content-type": "text/plain"}
        )
        # not GraphQL requests
        await client.get("/healthz")
        await client.get("/readyz")
        after = await scrape(client)
    assert first.headers["x-execution"] == "compiled" and "x-cache" not in first.headers
    assert again.headers["x-cache"] == "hit"
    assert "x-execution" not in resolved[0].headers and resolved[1].headers["x-cache"] == "hit"
    assert invalid.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert refused.status_code == 415

    def counted(operation: str, outcome: str = "ok", code: str = "none") -> float:
        return requests(after, operation, outcome, code) - requests(
            before, operation, outcome, code
        )

    assert counted("Compiled") == 2
    assert counted("Finding") == 2
    assert counted("Bad", "error", "GRAPHQL_VALIDATION_FAILED") == 1
    assert counted("(none)", "error", "UNSUPPORTED_MEDIA_TYPE") == 1
    total = sum(v for (name, _), v in after.items() if name == "nkcinema_requests_total") - sum(
        v for (name, _), v in before.items() if name == "nkcinema_requests_total"
    )
    assert total == 6  # neither /healthz, /readyz nor /metrics
    assert delta(before, after, "nkcinema_executions_total", path="compiled") == 1
    assert delta(before, after, "nkcinema_executions_total", path="resolver") == 1
    assert delta(before, after, "nkcinema_executions_total", path="cached") == 2
    durations = delta(
        before, after, "nkcinema_request_duration_seconds_count", operation="Compiled"
    )
    assert durations == 2
    # what executed is costed (the cached answers cost nothing): two operations
    assert delta(before, after, "nkcinema_request_cost_count") == 2
    assert delta(before, after, "nkcinema_request_cost_sum") > 0
    # the database answered the two that executed (a cache hit reads only the version)
    assert delta(before, after, "nkcinema_db_requests_total", database="primary") == 2


async def test_graphiqls_page_is_not_a_graphql_request(catalog_url: str) -> None:
    settings = Settings(database_url=catalog_url, graphiql=True, compiled=True)
    async with app_client(settings, lifespan=True) as client:
        before = await scrape(client)
        page = await client.get("/graphql", headers={"accept": "text/html"})
        answered = await client.get("/graphql", params={"query": COMPILED})
        after = await scrape(client)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert answered.status_code == 200 and "errors" not in answered.json()
    total = sum(v for (name, _), v in after.items() if name == "nkcinema_requests_total") - sum(
        v for (name, _), v in before.items() if name == "nkcinema_requests_total"
    )
    assert total == 1 and requests(after, "Compiled") - requests(before, "Compiled") == 1


async def test_the_fast_lane_plans_are_counted_as_compiled(catalog_url: str) -> None:
    """POSTs with the response cache off: the second runs its prepared plan in the lane."""
    settings = Settings(database_url=catalog_url, compiled=True, response_cache_entries=0)
    async with app_client(settings, lifespan=True) as client:
        before = await scrape(client)
        answers = [await client.post("/graphql", json={"query": COMPILED}) for _ in range(3)]
        after = await scrape(client)
    assert all(a.headers["x-execution"] == "compiled" for a in answers)
    assert requests(after, "Compiled") - requests(before, "Compiled") == 3
    assert delta(before, after, "nkcinema_executions_total", path="compiled") == 3
    assert delta(before, after, "nkcinema_request_cost_count") == 3
    assert delta(before, after, "nkcinema_db_requests_total", database="primary") == 3


async def test_anonymous_operations_and_errors_without_data(settings: Settings) -> None:
    query = '{ work(slug: "sea-of-blood") { title } }'
    async with app_client(settings, lifespan=True) as client:
        before = await scrape(client)
        body = (await client.post("/graphql", json={"query": query})).json()
        missing = await client.post(
            "/graphql", json={"query": "query Need($s: String!) { work(slug: $s) { title } }"}
        )
        after = await scrape(client)
    assert body["data"]["work"]["title"] == "Sea of Blood"
    assert requests(after, "(anonymous)") - requests(before, "(anonymous)") == 1
    code = missing.json()["errors"][0]["extensions"]["code"]
    assert code == "BAD_USER_INPUT"
    assert requests(after, "Need", "error", code) - requests(before, "Need", "error", code) == 1


async def test_operation_names_are_bounded(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Names come from clients: past the process's limit, and names GraphQL does not allow,
    count as (other), so that no client can grow the metrics without bound."""
    monkeypatch.setattr(metrics, "_names", set())
    monkeypatch.setattr(metrics, "MAX_OPERATION_NAMES", 2)
    assert metrics.operation_label("A") == "A"
    assert metrics.operation_label("B") == "B"
    assert metrics.operation_label("C") == "(other)"
    assert metrics.operation_label("A") == "A"
    assert metrics.operation_label("not a name") == "(other)"
    assert metrics.operation_label("x" * 65) == "(other)"
    assert metrics.operation_label(None) == "(anonymous)"
    assert metrics.operation_label("A", known=False) == "(none)"
    async with app_client(settings, lifespan=True) as client:
        before = await scrape(client)
        for name in ("One", "Two", "Three", "Four"):
            query = f"query {name} {{ works(first: 1) {{ totalCount }} }}"
            await client.post("/graphql", json={"query": query, "operationName": name})
        after = await scrape(client)
    assert requests(after, "(other)") - requests(before, "(other)") == 4  # A and B took both


async def test_off_no_metrics_page_and_nothing_counted(catalog_url: str) -> None:
    settings = Settings(database_url=catalog_url, metrics=False)
    on = Settings(database_url=catalog_url)
    async with app_client(on, lifespan=True) as client:
        before = await scrape(client)
    async with app_client(settings, lifespan=True) as client:
        assert (await client.get("/metrics")).status_code == 404
        await client.post("/graphql", json={"query": COMPILED})
    async with app_client(on, lifespan=True) as client:
        after = await scrape(client)
    assert requests(after, "Compiled") == requests(before, "Compiled")
    assert delta(before, after, "nkcinema_db_requests_total", database="primary") == 0


def _pool(database: str, state: str) -> float:
    exposition = metrics.exposition().decode()
    samples = parse(exposition)[1]
    return value(samples, "nkcinema_db_pool_connections", database=database, state=state)


@pytest.fixture
def pool_name(request: pytest.FixtureRequest) -> Iterator[str]:
    yield f"test-{request.node.name}"[:60]


async def test_the_pool_reports_connections_in_use_and_waiting(
    catalog_url: str, pool_name: str
) -> None:
    engine = create_engine(
        catalog_url, name=pool_name, pool_size=1, max_overflow=0, pool_timeout=5.0
    )
    try:
        assert _pool(pool_name, "in_use") == 0 and _pool(pool_name, "waiting") == 0
        first = await engine.connect()
        await first.execute(text("SELECT 1"))
        assert _pool(pool_name, "in_use") == 1

        async def second() -> Any:
            async with engine.connect() as connection:
                return (await connection.execute(text("SELECT 2"))).scalar_one()

        waiting = asyncio.ensure_future(second())
        for _ in range(100):
            await asyncio.sleep(0.01)
            if _pool(pool_name, "waiting") == 1:
                break
        assert _pool(pool_name, "waiting") == 1
        await first.close()
        assert await waiting == 2
        assert _pool(pool_name, "waiting") == 0
        assert _pool(pool_name, "in_use") == 0
    finally:
        await engine.dispose()


def test_several_workers_get_a_directory_of_their_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(metrics.MULTIPROC_DIR, raising=False)
    with metrics.worker_directory(1) as directory:
        assert directory is None and not metrics.is_multiprocess()
    with metrics.worker_directory(2) as directory:
        assert directory is not None
        assert os.environ[metrics.MULTIPROC_DIR] == directory and os.path.isdir(directory)
    assert not os.path.exists(directory)
    assert metrics.MULTIPROC_DIR not in os.environ
    monkeypatch.setenv(metrics.MULTIPROC_DIR, "/given")
    with metrics.worker_directory(4) as directory:
        assert directory == "/given"  # the operator's own, left alone
