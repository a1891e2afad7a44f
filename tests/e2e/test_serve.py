"""`nkcinema serve --workers N`: several processes share one socket, a keep-alive
connection is answered as fast as with one worker (no Nagle/delayed-ACK stall), and /metrics
adds every worker's numbers up."""

from __future__ import annotations

import concurrent.futures
import functools
import http.client
import json
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

import metrics
from tests.support.cli import ok
from tests.support.live import serve

QUERY = json.dumps({"query": '{ work(slug: "sea-of-blood") { title } }'})


def _keep_alive_latencies(base_url: str, requests: int = 20) -> list[float]:
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    took = []
    try:
        for _ in range(requests):
            started = time.perf_counter()
            connection.request("POST", "/graphql", QUERY, {"Content-Type": "application/json"})
            response = connection.getresponse()
            body = json.loads(response.read())
            took.append(time.perf_counter() - started)
            assert body["data"]["work"]["title"] == "Sea of Blood", body
    finally:
        connection.close()
    return took


def test_two_workers_answer_a_keep_alive_connection_without_stalls(
    migrated_database: str, tmp_path: Path
) -> None:
    ok("seed", database_url=migrated_database, cwd=tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    with serve(migrated_database, work, "workers", args=("--workers", "2")) as server:
        took = sorted(_keep_alive_latencies(server.base_url))
    median = took[len(took) // 2]
    # a Nagle/delayed-ACK stall costs ~40 ms per request; an answer from the cache takes ~1 ms
    assert median < 0.02, [round(t * 1000, 1) for t in took]


COMPILED = json.dumps({"query": "query Compiled { works(first: 2) { nodes { title } } }"})
RESOLVED = json.dumps({"query": 'query Finding { search(query: "sea", first: 2) { __typename } }'})
FAMILIES = (  # as prometheus-client's parser names them (counters without _total)
    "nkcinema_requests",
    "nkcinema_request_duration_seconds",
    "nkcinema_executions",
    "nkcinema_request_cost",
    "nkcinema_db_pool_connections",
    "nkcinema_db_requests",
)


def _scrape(base_url: str) -> dict[str, dict[tuple[str, frozenset[tuple[str, str]]], float]]:
    """/metrics, parsed by prometheus-client: family -> (sample, labels) -> value."""
    response = httpx.get(f"{base_url}/metrics", timeout=10, headers={"Connection": "close"})
    assert response.status_code == 200, response.text
    found: dict[str, dict[tuple[str, frozenset[tuple[str, str]]], float]] = {}
    for family in text_string_to_metric_families(response.text):
        found[family.name] = {
            (s.name, frozenset(s.labels.items())): s.value for s in family.samples
        }
    return found


def _total(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str) -> float:
    return sum(v for (sample, _), v in samples.items() if sample == name)


def _per_worker_requests(directory: Path) -> dict[str, float]:
    """Requests counted by each worker, from its own file in the multiprocess directory."""
    counted = {}
    for path in directory.glob("counter_*.db"):
        registry = CollectorRegistry()
        collector = MultiProcessCollector(registry, path=str(directory))
        families = collector.merge([str(path)], accumulate=False)
        counted[path.stem.removeprefix("counter_")] = sum(
            s.value for f in families for s in f.samples if s.name == "nkcinema_requests_total"
        )
    return counted


def _post(base_url: str, body: str) -> None:
    """One request on a connection of its own (so that either worker may accept it)."""
    answer = httpx.post(
        f"{base_url}/graphql",
        content=body,
        headers={"Content-Type": "application/json", "Connection": "close"},
        timeout=10,
    )
    assert answer.status_code == 200 and "errors" not in answer.json(), answer.text


def test_two_workers_add_their_metrics_up(migrated_database: str, tmp_path: Path) -> None:
    """``--workers 2``: whichever worker answers /metrics, it shows every family, and the
    requests of both workers added up (each worker wrote some: its own file)."""
    ok("seed", database_url=migrated_database, cwd=tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    directory = tmp_path / "metrics"
    directory.mkdir()
    sent = 0
    with serve(
        migrated_database,
        work,
        "metrics",
        args=("--workers", "2"),
        PROMETHEUS_MULTIPROC_DIR=str(directory),
    ) as server:
        # concurrent batches until both workers have answered some (the kernel chooses)
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            while sent < 400:
                bodies = [COMPILED if i % 2 else RESOLVED for i in range(20)]
                list(pool.map(functools.partial(_post, server.base_url), bodies))
                sent += len(bodies)
                if len(_per_worker_requests(directory)) == 2:
                    break
        httpx.get(f"{server.base_url}/healthz")  # not counted
        # each worker writes its updates within metrics.FLUSH_SECONDS (slack for a busy CI)
        deadline = time.monotonic() + metrics.FLUSH_SECONDS + 5
        while sum(_per_worker_requests(directory).values()) < sent:
            assert time.monotonic() < deadline, _per_worker_requests(directory)
            time.sleep(0.05)
        scrapes = [_scrape(server.base_url) for _ in range(6)]
        per_worker = _per_worker_requests(directory)
    assert len(per_worker) == 2 and all(n > 0 for n in per_worker.values()), per_worker
    assert sum(per_worker.values()) == sent
    for families in scrapes:
        for name in FAMILIES:
            assert name in families, (name, sorted(families))
        requests = families["nkcinema_requests"]
        assert _total(requests, "nkcinema_requests_total") == sent
        ok_compiled = (
            "nkcinema_requests_total",
            frozenset({("operation", "Compiled"), ("outcome", "ok"), ("code", "none")}),
        )
        assert requests[ok_compiled] == sent // 2
        durations = families["nkcinema_request_duration_seconds"]
        assert _total(durations, "nkcinema_request_duration_seconds_count") == sent
        executions = families["nkcinema_executions"]
        assert _total(executions, "nkcinema_executions_total") == sent
        costs = families["nkcinema_request_cost"]
        executed = sum(
            v
            for (s, labels), v in executions.items()
            if s == "nkcinema_executions_total" and ("path", "cached") not in labels
        )
        assert _total(costs, "nkcinema_request_cost_count") == executed
        pool = families["nkcinema_db_pool_connections"]
        in_use = (
            "nkcinema_db_pool_connections",
            frozenset({("database", "primary"), ("state", "in_use")}),
        )
        assert pool[in_use] == 0  # every request has given its connection back
        assert _total(families["nkcinema_db_requests"], "nkcinema_db_requests_total") > 0


def test_serve_makes_and_removes_the_workers_metrics_directory(
    migrated_database: str, tmp_path: Path
) -> None:
    ok("seed", database_url=migrated_database, cwd=tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    with serve(
        migrated_database, work, "metrics-dir", args=("--workers", "2"), TMPDIR=str(temporary)
    ) as server:
        [made] = list(temporary.glob("nkcinema-metrics-*"))
        for _ in range(4):
            _post(server.base_url, COMPILED)
        # each worker writes its updates within metrics.FLUSH_SECONDS (slack for a busy CI)
        deadline = time.monotonic() + metrics.FLUSH_SECONDS + 5
        while True:
            families = _scrape(server.base_url)
            counted = _total(families["nkcinema_requests"], "nkcinema_requests_total")
            if counted == 4 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert counted == 4
        assert list(made.glob("counter_*.db"))
    assert not made.exists()
