"""Starvation: does a simple lookup keep its speed while clients hammer the worst searches?

    .venv/bin/python -m bench.starvation                  # 10,000 works on PostgreSQL
    .venv/bin/python -m bench.starvation --searchers 16 --seconds 20 --idle-seconds 10

A throwaway PostgreSQL catalog (as ``python -m bench`` builds it) is served by ``nkcinema
serve`` with its default limits (cost, deadline, pool, admission of expensive operations),
the response cache off so that every lookup reads the database. One client times a simple
lookup, ``work(slug:)`` with directors and themes over 200 works in rotation, one request
at a time: first alone (idle), then while ``--searchers`` clients (in a process of their
own) each send, back to back,
the most search work one request may ask for: as many aliased ``search(first: 100)`` as the
cost limit admits (with 200-character queries of the catalog's commonest syllables, the
slowest searches measured, that is one), each query different so that none is answered from
a cache. The issue's original request, 30 such aliases, is sent once and must be refused.

Target (issue #20): the lookup's p50 under load below 4 times its idle p50, and no lookup
failing. The results go to ``--output`` (bench/results-starvation.md) and stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import databases
from bench.catalog import build_catalog
from bench.databases import DEFAULT_POSTGRES_URL
from bench.environment import describe
from bench.servers import Server, free_port, running
from db.engine import create_engine
from gql.limits import SEARCH_PRICE, search_price
from seeds.synthetic import SYLLABLES
from settings import Settings

PROJECT = Path(__file__).resolve().parents[1]
LOOKUP = """query Lookup($slug: String!) {
  work(slug: $slug) { title year directors { name } themes { name } } }"""
ORIGINAL_ALIASES = 30  # the request
QUERY_CHARACTERS = 200
TARGET_RATIO = 4.0


def search_text(rng: random.Random) -> str:
    """200 characters of the syllables the catalog's names are made of, shuffled."""
    syllables = [s for s, _ in SYLLABLES]
    words: list[str] = []
    while len(" ".join(words)) < QUERY_CHARACTERS:
        words.append(rng.choice(syllables))
    return " ".join(words)[:QUERY_CHARACTERS]


def search_document(rng: random.Random, aliases: int | None = None) -> tuple[str, int]:
    """``aliases`` searches (None: as many as the default cost limit admits, at least one),
    each ``search(first: 100)`` with its own 200-character query; and how many."""
    limit = Settings().max_cost
    fields: list[str] = []
    total = 0
    while aliases is None or len(fields) < aliases:
        text = search_text(rng)
        cost = search_price(SEARCH_PRICE, text) + 100
        if aliases is None and fields and total + cost > limit:
            break
        total += cost
        fields.append(f'a{len(fields)}: search(query: "{text}", first: 100) {{ __typename }}')
    return "{ " + " ".join(fields) + " }", len(fields)


@dataclass
class Lookups:
    latencies_ms: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")


def _outcome(response: httpx.Response) -> str:
    """'ok', or what went wrong: the HTTP status and the error codes."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}, not JSON"
    codes = sorted({e.get("extensions", {}).get("code") for e in body.get("errors") or []})
    if response.status_code == 200 and not codes:
        return "ok"
    return f"HTTP {response.status_code} {','.join(str(c) for c in codes)}"


async def time_lookups(client: httpx.AsyncClient, slugs: list[str], until: float) -> Lookups:
    lookups = Lookups()
    index = 0
    while time.monotonic() < until:
        slug = slugs[index % len(slugs)]
        index += 1
        started = time.perf_counter()
        try:
            response = await client.post(
                "/graphql", json={"query": LOOKUP, "variables": {"slug": slug}}
            )
            outcome = _outcome(response)
        except httpx.HTTPError as error:
            outcome = f"no answer: {type(error).__name__}"
        elapsed = (time.perf_counter() - started) * 1000
        if outcome == "ok":
            lookups.latencies_ms.append(elapsed)
        else:
            lookups.failures[outcome] += 1
    return lookups


def _searchers(url: str, count: int, seconds: float, results: Any) -> None:
    """The searchers' process: ``count`` clients for ``seconds``; puts their outcomes."""

    async def search() -> tuple[Counter[str], list[float]]:
        outcomes: Counter[str] = Counter()
        latencies_ms: list[float] = []
        stop = asyncio.Event()
        limits = httpx.Limits(max_connections=count)
        async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
            loops = [
                asyncio.ensure_future(search_loop(client, seed, stop, outcomes, latencies_ms))
                for seed in range(count)
            ]
            results.put("started")
            await asyncio.sleep(seconds)
            stop.set()
            await asyncio.gather(*loops)
        return outcomes, latencies_ms

    results.put(asyncio.run(search()))


async def search_loop(
    client: httpx.AsyncClient,
    seed: int,
    stop: asyncio.Event,
    outcomes: Counter[str],
    latencies_ms: list[float],
) -> None:
    rng = random.Random(seed)
    while not stop.is_set():
        document, aliases = search_document(rng)
        outcomes[f"aliases: {aliases}"] += 1
        started = time.perf_counter()
        try:
            response = await client.post("/graphql", json={"query": document})
            outcomes[_outcome(response)] += 1
        except httpx.HTTPError as error:
            outcomes[f"no answer: {type(error).__name__}"] += 1
        latencies_ms.append((time.perf_counter() - started) * 1000)


@dataclass
class Result:
    idle: Lookups
    loaded: Lookups
    searches: Counter[str]
    search_ms: list[float]  # every search request's time to its answer, whatever it was
    original: str
    original_cost: Any
    searchers: int
    seconds: float
    load_average: tuple[float, float, float]

    @property
    def ratio(self) -> float:
        return self.loaded.p50 / self.idle.p50

    @property
    def met(self) -> bool:
        return self.ratio < TARGET_RATIO and not self.loaded.failures and not self.idle.failures


async def measure(url: str, slugs: list[str], args: argparse.Namespace, logs: Path) -> Result:
    port = free_port()
    env = dict(os.environ)
    env.update(DATABASE_URL=url, NKCINEMA_RESPONSE_CACHE_ENTRIES="0", NKCINEMA_LOG_FORMAT="json")
    argv = [sys.executable, "-c", "import sys, cli; sys.exit(cli.main())", "serve"]
    argv += ["--port", str(port), "--workers", str(args.workers)]
    server = Server("app", argv, env, port, logs / "app.log", cwd=PROJECT)
    with running(server):
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            await time_lookups(client, slugs, time.monotonic() + 2)  # warm-up: plans, caches
            idle = await time_lookups(client, slugs, time.monotonic() + args.idle_seconds)
            document, _ = search_document(random.Random(0), ORIGINAL_ALIASES)
            original = await client.post("/graphql", json={"query": document})
            original_cost = original.json().get("extensions", {}).get("cost")
            load_average = os.getloadavg()
            # The searchers are another client, in a process of their own: sharing this
            # event loop, their work would delay the lookups' timing on the client side.
            context = multiprocessing.get_context("spawn")
            results: multiprocessing.Queue[Any] = context.Queue()
            searching = context.Process(
                target=_searchers,
                args=(server.url, args.searchers, args.seconds + 2.0, results),
            )
            searching.start()
            try:
                started = results.get(timeout=60)  # the searchers' process is running
                assert started == "started"
                await asyncio.sleep(1.0)  # let the searches fill the server
                loaded = await time_lookups(client, slugs, time.monotonic() + args.seconds)
                searches, search_ms = results.get(timeout=120)
            finally:
                searching.join(timeout=30)
                if searching.is_alive():
                    searching.terminate()
    return Result(
        idle,
        loaded,
        searches,
        search_ms,
        _outcome(original),
        original_cost,
        args.searchers,
        args.seconds,
        load_average,
    )


async def run(args: argparse.Namespace) -> Result:
    catalog = build_catalog(args.works)
    slugs = catalog.work_slugs[:200]
    async with databases.postgresql_database(args.postgres_url) as url:
        await databases.migrate_database(url)
        engine = create_engine(url)
        try:
            await databases.load(engine, catalog)
            await databases.analyze(engine)
        finally:
            await engine.dispose()
        with tempfile.TemporaryDirectory(prefix="nkcinema-starvation-") as logs:
            return await measure(url, slugs, args, Path(logs))


def _pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def report(result: Result, args: argparse.Namespace) -> str:
    environment = describe(PROJECT)
    defaults = Settings()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT, capture_output=True, text=True
    ).stdout.strip()
    lines = [
        "# Starvation: a simple lookup while the worst searches run",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit or 'unknown'}; "
        f"{environment.cpu}, {environment.cores} cores; load average "
        f"{result.load_average[0]:.2f} when the searches started "
        "(other work on the machine shows in the numbers).",
        "",
        f"`{' '.join(['.venv/bin/python -m bench.starvation', *sys.argv[1:]])}`: PostgreSQL, "
        f"{args.works:,} works, `nkcinema serve --workers {args.workers}` with its defaults "
        f"(cost limit {defaults.max_cost:,}, deadline {defaults.request_timeout:g} s, pool "
        f"{defaults.pool_size} + 5, {defaults.expensive_limit} expensive operation(s) at once "
        f"while cheap requests are about and {defaults.expensive_burst_limit} when none has been "
        f"answered for {defaults.expensive_quiet:g} s, {defaults.expensive_queue} waiting, each "
        f"place resting {defaults.expensive_rest:g} times as long as its operation took while "
        "cheap requests are about), the response cache off.",
        "",
        "| lookup `work(slug:)` | requests | p50 ms | p99 ms | failures |",
        "|---|--:|--:|--:|--:|",
    ]
    for label, lookups in (("idle", result.idle), (f"{result.searchers} searchers", result.loaded)):
        lines.append(
            f"| {label} | {len(lookups.latencies_ms)} | {lookups.p50:.1f} | "
            f"{lookups.percentile(0.99):.1f} | {sum(lookups.failures.values())} |"
        )
    verdict = "met" if result.met else "NOT met"
    lines += [
        "",
        f"p50 under load / idle p50: **{result.ratio:.2f}** (target < {TARGET_RATIO:g}, no "
        f"failures): **{verdict}**.",
    ]
    failures = result.idle.failures + result.loaded.failures
    if failures:
        lines += ["", "Lookup failures: " + ", ".join(f"{k}: {v}" for k, v in failures.items())]
    outcomes = {k: v for k, v in result.searches.items() if not k.startswith("aliases")}
    aliases = {k: v for k, v in result.searches.items() if k.startswith("aliases")}
    lines += [
        "",
        f"Search requests sent during the {result.seconds:g} s under load (as many aliased "
        f"`search(first: 100)`, each with its own {QUERY_CHARACTERS}-character query, as the "
        f"cost limit admits): {sum(outcomes.values())}; "
        + ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items()))
        + "; requests with "
        + ", ".join(
            f"{k.removeprefix('aliases: ')} aliases: {v}" for k, v in sorted(aliases.items())
        )
        + ".",
        "",
        f"Their time to an answer (waiting at the gate included; the deadline is "
        f"{defaults.request_timeout:g} s from arrival): p50 {_pct(result.search_ms, 0.5):,.0f} ms, "
        f"p99 {_pct(result.search_ms, 0.99):,.0f} ms, max {max(result.search_ms, default=0):,.0f} "
        "ms.",
        "",
        f"The issue's request ({ORIGINAL_ALIASES} aliases): {result.original}, cost "
        f"{result.original_cost}.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.starvation", description=__doc__)
    parser.add_argument("--works", type=int, default=10000)
    parser.add_argument("--searchers", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0, help="timed under load")
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    )
    parser.add_argument("--output", type=Path, default=PROJECT / "bench/results-starvation.md")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    text = report(result, args)
    print(text)
    args.output.write_text(text)
    raw = {
        "idle_ms": result.idle.latencies_ms,
        "loaded_ms": result.loaded.latencies_ms,
        "failures": dict(result.idle.failures + result.loaded.failures),
        "searches": dict(result.searches),
        "search_ms": result.search_ms,
    }
    out = PROJECT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "results-starvation.json").write_text(json.dumps(raw))
    sys.exit(0 if result.met else 1)


if __name__ == "__main__":
    main()
