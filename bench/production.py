"""``python -m bench.production``: what the production features of issue #24 cost or buy, each
measured side by side in one run, in alternation.

    .venv/bin/python -m bench.production [--works 10000] [--seconds 2] [--warmup 0.5]
        [--rounds 3] [--output bench/results-production.md]

1. **Replica**: W1 and W2 (compiled) and W4 (search, the resolver path), served by an app
   with ``NKCINEMA_REPLICA_URLS`` (anonymous reads go to the replica) and by one without (the
   primary answers), over the same catalog on a primary and its streaming replica started
   from PostgreSQL's binaries (``bench.replication``, as the tests start theirs).
2. **Metrics and tracing** on W2: the default (metrics on, tracing off), the same
   configuration again (the noise between two identical servers: what "costs nothing
   measurable" is measured against), ``NKCINEMA_METRICS=false``, and tracing on with
   ``OTEL_EXPORTER_OTLP_ENDPOINT`` pointing at a local sink (``OtlpSink``) that accepts the
   OTLP/HTTP POSTs and discards them, so spans really are exported.
3. **Persisted queries**: W1 and W2 sent as a POST, as a GET with the whole document, as a
   GET with the hash alone (registered beforehand), and as that GET with ``If-None-Match``
   (answered ``304``).

This machine has two cores shared with whatever else runs, so one run of each side says
little: all the servers of a part serve at once, every workload is driven on each in turn for
``--rounds`` rounds, the order reversed every other round, and the report gives each side's
median and its ratio to the part's baseline, with the spread between rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from bench import databases
from bench.before_after import describe_lines
from bench.catalog import Catalog, build_catalog
from bench.load import app_server, say
from bench.load_workloads import LoadWorkload, build_load_workloads
from bench.loadgen import Load, Run, drive_lines, request_line
from bench.replication import Replication, unavailable_reason
from bench.servers import HOST, Server, running
from db.engine import create_engine

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = PROJECT / "bench" / "results-production.md"
REPLICA_WORKLOADS = ("W1", "W2", "W4")
APQ_WORKLOADS = ("W1", "W2")
OBSERVED_WORKLOAD = "W2"
# The temporary clusters' memory: the machine's own cluster's default, not the tests' 32 MB.
CLUSTER_SETTINGS = {"shared_buffers": "128MB", "random_page_cost": "1.1"}

# -- the pure parts: sides, medians, ratios --------------------------------------------------


def alternated(sides: Sequence[str], round_number: int) -> list[str]:
    """The order the sides are driven in a round: as given in even rounds, reversed in odd."""
    return list(sides) if round_number % 2 == 0 else list(sides)[::-1]


def ratio(value: float, base: float) -> float:
    """value ÷ base; NaN when either is zero (a side completed no request)."""
    return value / base if value and base else float("nan")


@dataclass
class Comparison:
    """One workload on several sides (servers or kinds of request), ``rounds`` runs each,
    taken in alternation; the first side is the baseline the ratios are taken against."""

    part: str
    workload: str
    sides: list[str]
    runs: dict[str, list[Run]] = field(default_factory=dict)
    executions: dict[str, str] = field(default_factory=dict)  # X-Execution of each side

    def add(self, side: str, run: Run) -> None:
        self.runs.setdefault(side, []).append(run)

    def median(self, side: str, attribute: str) -> float:
        runs = self.runs.get(side, [])
        if not runs:
            return float("nan")
        if attribute == "rps":
            return statistics.median(r.requests_per_second for r in runs)
        if attribute == "cpu":
            return statistics.median(r.cpu_ms_per_request for r in runs)
        return statistics.median(r.p50_ms for r in runs)

    def ratio(self, side: str, attribute: str) -> float:
        return ratio(self.median(side, attribute), self.median(self.sides[0], attribute))

    def spread(self, side: str) -> float:
        """The largest run's req/s over the smallest, minus one: the noise between rounds."""
        values = [r.requests_per_second for r in self.runs.get(side, [])]
        if not values or not min(values):
            return float("nan")
        return max(values) / min(values) - 1

    def errors(self, side: str) -> int:
        return sum(r.errors + r.graphql_errors for r in self.runs.get(side, []))

    def not_modified(self, side: str) -> int:
        return sum(r.not_modified for r in self.runs.get(side, []))


# -- the OTLP sink ---------------------------------------------------------------------------


class OtlpSink:
    """An OTLP/HTTP receiver that accepts every POST (``200``, an empty protobuf answer: an
    ``ExportTraceServiceResponse`` with nothing rejected) and keeps only counts: so that a
    traced app really serializes and sends its spans, and the run can tell that it did."""

    def __init__(self) -> None:
        self.posts = 0
        self.bytes = 0
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with sink._lock:
                    sink.posts += 1
                    sink.bytes += len(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # thousands of exports: not on the run's output

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        """The value for ``OTEL_EXPORTER_OTLP_ENDPOINT`` (the exporter adds ``/v1/traces``)."""
        return f"http://{HOST}:{self._server.server_address[1]}"

    @contextlib.contextmanager
    def serving(self) -> Iterator[OtlpSink]:
        self._thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()


# -- requests --------------------------------------------------------------------------------


def persisted_extension(query: str) -> dict[str, Any]:
    digest = hashlib.sha256(query.encode("utf-8")).hexdigest()
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def post_line(query: str, variables: dict[str, Any]) -> str:
    return request_line("POST", "/graphql", _compact({"query": query, "variables": variables}))


def get_target(query: str, variables: dict[str, Any]) -> str:
    """A GraphQL GET with the whole document."""
    parameters = {"query": query, "variables": _compact(variables)}
    return "/graphql?" + urlencode(parameters)


def hash_target(query: str, variables: dict[str, Any]) -> str:
    """An Automatic Persisted Queries GET: the hash and the variables, no document."""
    parameters = {
        "variables": _compact(variables),
        "extensions": _compact(persisted_extension(query)),
    }
    return "/graphql?" + urlencode(parameters)


def _check(response: httpx.Response, what: str) -> None:
    if response.status_code not in (200, 304) or (
        response.status_code == 200 and "errors" in response.json()
    ):
        raise RuntimeError(f"{what}: HTTP {response.status_code} {response.text[:500]}")


def _executions(server: Server, requests: list[tuple[str, str, str, str]]) -> str:
    """Send each request once, check it answered without errors; its X-Execution values."""
    seen = set()
    with httpx.Client(base_url=server.url, timeout=60.0) as client:
        for method, target, body, etag in requests:
            headers = {"If-None-Match": etag} if etag else {}
            if body:
                headers["Content-Type"] = "application/json"
            response = client.request(method, target, content=body or None, headers=headers)
            _check(response, f"{server.name} {method} {target[:80]}")
            seen.add(answered_by(response.status_code, response.headers))
    return "/".join(sorted(seen))


def answered_by(status: int, headers: Any) -> str:
    """How a request was answered: ``304``, ``cache hit``, ``compiled`` or ``resolver``."""
    if status == 304:
        return "304"
    if headers.get("x-cache") == "hit":
        return "cache hit"
    return str(headers.get("x-execution") or "resolver")


def _split(line: str) -> tuple[str, str, str, str]:
    method, target, etag, body = line.split("\t", 3)
    return method, target, body, "" if etag == "-" else etag


def measure(
    comparison: Comparison,
    targets: dict[str, tuple[Server, list[str]]],
    rounds: int,
    load: Load,
) -> Comparison:
    """Drive each side's requests (``requests.lua`` lines) on its server, in alternation."""
    for side, (server, lines) in targets.items():
        comparison.executions[side] = _executions(server, [_split(line) for line in lines])
    for round_number in range(rounds):
        for side in alternated(comparison.sides, round_number):
            server, lines = targets[side]
            comparison.add(side, drive_lines(server, "/", lines, load, say=say))
    say(_line(comparison))
    return comparison


def _line(c: Comparison) -> str:
    parts = [
        f"{side} {c.median(side, 'rps'):,.0f} req/s p50 {c.median(side, 'p50'):.2f} ms "
        f"(÷ base {c.ratio(side, 'rps'):.2f}, spread {c.spread(side):.0%})"
        for side in c.sides
    ]
    return f"  {c.part} {c.workload}: " + " | ".join(parts)


# -- the servers -----------------------------------------------------------------------------


def app(url: str, logs: Path, name: str, cache: bool = False, **environment: str) -> Server:
    """``nkcinema serve`` as ``bench.load`` serves it (one worker, compiled path on, response
    cache off unless ``cache``), with ``environment`` on top."""
    server = app_server(url, 1, logs, cache=cache, compiled=True)
    server.name = name
    server.log = logs / (re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") + ".log")
    server.env.update(environment)
    return server


def _workloads(catalog: Catalog) -> dict[str, LoadWorkload]:
    return {w.key: w for w in build_load_workloads(catalog) if not w.resolve}


def _posts(workload: LoadWorkload) -> list[str]:
    return [post_line(workload.query, v) for v in workload.variants]


def _database_requests(server: Server) -> dict[str, float]:
    """``nkcinema_db_requests_total`` by database, from the app's ``/metrics``."""
    text = httpx.get(server.url + "/metrics", timeout=10).text
    counts = {}
    for match in re.finditer(
        r'^nkcinema_db_requests_total\{database="([^"]+)"\} (\S+)$', text, re.M
    ):
        counts[match.group(1)] = float(match.group(2))
    return counts


@dataclass
class Results:
    comparisons: list[Comparison] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    load_average: tuple[tuple[float, float, float], tuple[float, float, float]] = (
        (0.0, 0.0, 0.0),
        (0.0, 0.0, 0.0),
    )
    postgres: str = ""
    seconds: float = 0.0


def run(args: argparse.Namespace, results: Results) -> None:
    load = Load(seconds=args.seconds, warmup=args.warmup)
    catalog = build_catalog(args.works)
    workloads = _workloads(catalog)
    with (
        tempfile.TemporaryDirectory(prefix="nkcinema-production-") as directory,
        Replication.started(CLUSTER_SETTINGS) as pair,
    ):
        logs = Path(directory)
        started = time.perf_counter()
        asyncio.run(_prepare(pair, catalog))
        say(f"primary loaded and replica caught up in {time.perf_counter() - started:.0f} s")
        results.postgres = asyncio.run(_version(pair.primary.url))
        primary = pair.primary.url

        # 1. the replica against the primary
        with (
            running(app(primary, logs, "primary")) as on_primary,
            running(
                app(primary, logs, "replica", NKCINEMA_REPLICA_URLS=pair.replica.url)
            ) as on_replica,
        ):
            for key in REPLICA_WORKLOADS:
                lines = _posts(workloads[key])
                comparison = Comparison("replica", key, ["primary", "replica"])
                targets = {"primary": (on_primary, lines), "replica": (on_replica, lines)}
                results.comparisons.append(measure(comparison, targets, args.rounds, load))
            answered = {
                "app without replicas": _database_requests(on_primary),
                "app with the replica": _database_requests(on_replica),
            }
            results.notes.append(
                "Requests each database answered (`nkcinema_db_requests_total`, warm-ups and "
                "checks included): "
                + "; ".join(
                    f"{name}: " + ", ".join(f"{db} {n:,.0f}" for db, n in sorted(c.items()))
                    for name, c in answered.items()
                )
            )

        # 2. metrics and tracing
        sink = OtlpSink()
        with (
            sink.serving(),
            running(app(primary, logs, "default")) as default,
            running(app(primary, logs, "default again")) as again,
            running(app(primary, logs, "metrics off", NKCINEMA_METRICS="false")) as unmetered,
            running(
                app(primary, logs, "tracing on", OTEL_EXPORTER_OTLP_ENDPOINT=sink.endpoint)
            ) as traced,
        ):
            lines = _posts(workloads[OBSERVED_WORKLOAD])
            sides = {
                "default (metrics on, tracing off)": default,
                "default again": again,
                "metrics off": unmetered,
                "tracing on (OTLP export)": traced,
            }
            comparison = Comparison("observability", OBSERVED_WORKLOAD, list(sides))
            targets = {side: (server, lines) for side, server in sides.items()}
            results.comparisons.append(measure(comparison, targets, args.rounds, load))
            time.sleep(6)  # the batch span processor exports every 5 s
            results.notes.append(
                f"The OTLP sink received {sink.posts:,} export POSTs ({sink.bytes / 1e6:,.1f} MB) "
                f"from the traced app during the run."
            )
            if not sink.posts:
                raise RuntimeError("the traced app exported nothing: tracing was not on")

        # 3. persisted queries: with the response cache off (what executing costs) and on
        # (the default: GETs and revalidations answered from it)
        with (
            running(app(primary, logs, "persisted queries")) as uncached,
            running(app(primary, logs, "persisted queries, cache on", cache=True)) as cached,
        ):
            for key in APQ_WORKLOADS:
                for server, label in ((uncached, "cache off"), (cached, "cache on")):
                    comparison = Comparison("persisted queries", f"{key}, {label}", [*APQ_SIDES])
                    targets = comparison_targets(server, workloads[key])
                    results.comparisons.append(measure(comparison, targets, args.rounds, load))


APQ_SIDES = ("POST", "GET, document", "GET, hash only", "GET, hash only, If-None-Match (304)")


def comparison_targets(
    server: Server, workload: LoadWorkload
) -> dict[str, tuple[Server, list[str]]]:
    """The four ways of asking for the workload, after registering its document."""
    _register(server, workload)
    hashes = [hash_target(workload.query, v) for v in workload.variants]
    etags = [_etag(server, target) for target in hashes]
    documents = [get_target(workload.query, v) for v in workload.variants]
    lines = (
        _posts(workload),
        [request_line("GET", target) for target in documents],
        [request_line("GET", target) for target in hashes],
        [request_line("GET", t, if_none_match=e) for t, e in zip(hashes, etags, strict=True)],
    )
    return {side: (server, requests) for side, requests in zip(APQ_SIDES, lines, strict=True)}


def _register(server: Server, workload: LoadWorkload) -> None:
    """The Automatic Persisted Queries registration: the hash with its document, once."""
    body = {
        "query": workload.query,
        "variables": workload.variants[0],
        "extensions": persisted_extension(workload.query),
    }
    _check(httpx.post(server.url + "/graphql", json=body, timeout=60), "registering")


def _etag(server: Server, target: str) -> str:
    response = httpx.get(server.url + target, timeout=60)
    _check(response, "a hash-only GET")
    etag = response.headers.get("etag")
    if not etag:
        raise RuntimeError(f"a hash-only GET carried no ETag: {dict(response.headers)}")
    return etag


async def _prepare(pair: Replication, catalog: Catalog) -> None:
    """Migrate and load the primary, analyze it, and wait for the replica to replay it all."""
    await databases.migrate_database(pair.primary.url)
    engine = create_engine(pair.primary.url)
    try:
        await databases.load(engine, catalog)
        await databases.analyze(engine)
    finally:
        await engine.dispose()
    await pair.caught_up()


async def _version(url: str) -> str:
    engine = create_engine(url)
    try:
        return await databases.server_version(engine)
    finally:
        await engine.dispose()


# -- the report ------------------------------------------------------------------------------

PARTS = {
    "replica": (
        "## 1. Reads through the replica against the primary",
        "One app with `NKCINEMA_REPLICA_URLS` set to the replica (anonymous reads go there), "
        "one without (the primary answers); the same catalog, the same machine. Ratios: the "
        "replica ÷ the primary.",
    ),
    "observability": (
        "## 2. Metrics and tracing on W2",
        "Four apps at once on the primary. *default again* is the default a second time: its "
        'ratio is the noise between two identical servers, the yardstick for "costs nothing '
        'measurable" (tracing off installs nothing, so the default *is* tracing off). '
        "Ratios: ÷ the default.",
    ),
    "persisted queries": (
        "## 3. Persisted queries: GET by hash, GET with the document, POST",
        "Two apps: the response cache off (what executing costs, as in parts 1 and 2) and on "
        "(`NKCINEMA_RESPONSE_CACHE_ENTRIES` 1000: a deployment's default, where GETs and "
        "revalidations are answered from it). The documents registered beforehand (a POST "
        "with the hash and the document), each variant's `ETag` read from a hash-only GET "
        "before the runs. Ratios: ÷ POST.",
    ),
}


def report(results: Results, args: argparse.Namespace) -> str:
    start, end = results.load_average
    lines = [
        "# Production: replicas, metrics, tracing, persisted queries",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `.venv/bin/python -m "
        f"bench.production --works {args.works} --seconds {args.seconds:g} --warmup "
        f"{args.warmup:g} --rounds {args.rounds}` (the whole run: {results.seconds / 60:.1f} "
        f"min). Each side: the median of {args.rounds} wrk runs of {args.seconds:g} s "
        f"(8 connections, 1 thread, after {args.warmup:g} s of warm-up), the sides of a "
        "comparison driven in turn, the order reversed every other round. Every app: "
        "`nkcinema serve --workers 1`, the compiled path on, the response cache off (but for "
        "part 3's second app). Spread: the largest run's req/s over the smallest (the noise "
        "between rounds). Answered: how each of a side's requests was answered when sent once "
        "before its runs (`X-Execution`, `X-Cache`, the status).",
        "",
        "## Machine and versions",
        "",
        *describe_lines(),
        f"- {_versions()}",
        f"- PostgreSQL {results.postgres}: a primary and its streaming replica started for the "
        "run from the installed binaries (`bench.replication`), `shared_buffers` 128 MB, "
        f"{args.works:,} works of the synthetic catalog (seed 3)",
        f"- load average (1, 5, 15 min) at the start {_average(start)}, at the end "
        f"{_average(end)} (`os.getloadavg()`; the machine's other work ran alongside)",
        f"- commit {describe_revision()}",
        "",
    ]
    for part, (title, text) in PARTS.items():
        chosen = [c for c in results.comparisons if c.part == part]
        if not chosen:
            continue
        lines += [title, "", text, "", *table(chosen), ""]
    if results.notes:
        lines += ["## Notes", "", *(f"- {note}" for note in results.notes), ""]
    return "\n".join(lines)


def table(comparisons: list[Comparison]) -> list[str]:
    lines = [
        "| workload | side | req/s | ÷ base | p50 ms | ÷ base | CPU ms/req | spread | answered "
        "| errors |",
        "|---|---|--:|--:|--:|--:|--:|--:|---|--:|",
    ]
    for c in comparisons:
        for side in c.sides:
            answered = c.executions.get(side, "")
            lines.append(
                f"| {c.workload} | {side} | {c.median(side, 'rps'):,.0f} "
                f"| {c.ratio(side, 'rps'):.2f} | {c.median(side, 'p50'):.2f} "
                f"| {c.ratio(side, 'p50'):.2f} | {c.median(side, 'cpu'):.2f} "
                f"| {c.spread(side):.0%} | {answered} | {c.errors(side)} |"
            )
    return lines


def _average(values: tuple[float, float, float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def _versions() -> str:
    from importlib import metadata

    names = ("prometheus-client", "opentelemetry-sdk", "opentelemetry-exporter-otlp-proto-http")
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} not installed")
    return ", ".join(found)


def describe_revision() -> str:
    from bench.environment import describe

    return describe(PROJECT).revision


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.production", description=__doc__)
    parser.add_argument("--works", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--warmup", type=float, default=0.5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    reason = unavailable_reason()
    if reason is not None:
        say(f"cannot start a primary and a replica: {reason}")
        return 2
    results = Results()
    begun = time.perf_counter()
    start = os.getloadavg()
    say(f"load average at the start: {_average(start)}")
    run(args, results)
    results.load_average = (start, os.getloadavg())
    results.seconds = time.perf_counter() - begun
    args.output.write_text(report(results, args), encoding="utf-8")
    say(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
