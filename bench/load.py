"""``python -m bench.load``: the load benchmark. For each catalog size and database, the app
(``nkcinema serve``), the one-statement floor (``bench.floor``) and, on PostgreSQL,
PostGraphile v4 are served over loopback with 1 and 2 workers and driven with wrk through
workloads W1-W5; results go to ``bench/results-load.md``.

Usage: .venv/bin/python -m bench.load [--quick] [--databases sqlite,postgresql]
           [--works 10000,100000] [--workers 1,2] [--seconds 5] [--output FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from bench import databases, load_report
from bench.catalog import build_catalog
from bench.databases import DEFAULT_POSTGRES_URL, DatabaseUnavailable
from bench.environment import describe
from bench.load_workloads import POSTGRAPHILE_FUNCTIONS, LoadWorkload, build_load_workloads
from bench.loadgen import Load, Run, WrkMissing, drive, wrk_path, wrk_version
from bench.run import DATABASES, LABELS, throwaway_database
from bench.servers import Server, ServerError, free_port, running
from bench.statements import StatementRecorder
from db.engine import create_engine, session_factory
from settings import Settings
from web.app import create_app

PROJECT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
POSTGRAPHILE_DIR = BENCH / "postgraphile"
DEFAULT_OUTPUT = BENCH / "results-load.md"
RAW_OUTPUT = BENCH / "out" / "results-load.json"
MAX_COST = 1_000_000  # W3 asks for 100 x 10 x themes: above the default limit of 25,000
TIMEOUT_SECONDS = 30  # request and statement timeouts (defaults 10 s and 5 s)
CACHED_WORKLOAD = "W1"
PEER_WORKLOADS = ("W1", "W2", "W3")

APP, COMPILED, FLOOR, POSTGRAPHILE, CACHED = (
    "app",
    "app (compiled)",
    "floor",
    "PostGraphile",
    "app (cached)",
)


def say(message: str) -> None:
    print(message, flush=True)


@dataclass
class Cell:
    """One wrk run: a server answering one workload in one configuration."""

    database: str
    works: int
    workers: int
    server: str
    workload: str
    run: Run
    statements: float | None  # SQL statements per request (None: not counted)
    same_data: str  # "reference", "same" or what differed


@dataclass
class Setup:
    """What was loaded, and how long that took, per database and catalog size."""

    database: str
    works: int
    version: str = ""
    load_seconds: float = 0.0
    analyze_seconds: float = 0.0
    measure_seconds: float = 0.0
    load_average: tuple[float, float, float] = (0.0, 0.0, 0.0)  # 1-minute etc., at the start
    notes: list[str] = field(default_factory=list)


@dataclass
class Scaling:
    """One server answering one workload on the smaller and the larger catalog, measured in
    alternation: ``rounds`` pairs of runs, each pair back to back (which size goes first
    alternates), so that the machine's own drift over the run lands on both sizes alike."""

    database: str
    server: str
    workload: str
    small: int
    large: int
    rounds: list[tuple[Run, Run]] = field(default_factory=list)  # (smaller, larger)


@dataclass
class Results:
    cells: list[Cell] = field(default_factory=list)
    scaling: list[Scaling] = field(default_factory=list)
    setups: list[Setup] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    catalogs: dict[int, dict[str, int]] = field(default_factory=dict)
    generate_seconds: dict[int, float] = field(default_factory=dict)


# -- servers ---------------------------------------------------------------------------------


def _nkcinema() -> list[str]:
    script = Path(sys.executable).parent / "nkcinema"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys, cli; sys.exit(cli.main())"]


def app_server(url: str, workers: int, logs: Path, cache: bool, compiled: bool) -> Server:
    port = free_port()
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        NKCINEMA_RESPONSE_CACHE_ENTRIES="1000" if cache else "0",
        NKCINEMA_COMPILED="1" if compiled else "0",
        NKCINEMA_LOG_FORMAT="json",
        NKCINEMA_MAX_COST=str(MAX_COST),
        # Under load a slow workload's requests queue for seconds: time them, don't fail them.
        NKCINEMA_REQUEST_TIMEOUT=str(TIMEOUT_SECONDS),
        NKCINEMA_STATEMENT_TIMEOUT=str(TIMEOUT_SECONDS),
    )
    name = "app" + (" compiled" if compiled else "") + (" cached" if cache else "")
    argv = [*_nkcinema(), "serve", "--port", str(port), "--workers", str(workers)]
    return Server(name, argv, env, port, logs / f"{name.replace(' ', '-')}.log", cwd=PROJECT)


def floor_server(url: str, workers: int, logs: Path) -> Server:
    port = free_port()
    env = dict(os.environ, BENCH_FLOOR_DATABASE_URL=url)
    argv = [sys.executable, "-m", "bench.floor", str(port), str(workers)]
    return Server("floor", argv, env, port, logs / "floor.log", cwd=PROJECT)


def postgraphile_bin() -> Path:
    return POSTGRAPHILE_DIR / "node_modules" / ".bin" / "postgraphile"


def postgraphile_problem() -> str | None:
    """Why PostGraphile cannot run here (None: it can), installing it if npm is there."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node/npm not found (install Node.js 18+ to compare with PostGraphile)"
    if not postgraphile_bin().exists():
        say("installing PostGraphile (npm ci in bench/postgraphile)")
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=POSTGRAPHILE_DIR,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0 or not postgraphile_bin().exists():
            return f"npm ci failed: {done.stderr.strip()[-500:]}"
    return None


def postgraphile_version() -> str:
    try:
        manifest = POSTGRAPHILE_DIR / "node_modules" / "postgraphile" / "package.json"
        return str(json.loads(manifest.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return "not installed"


def node_version() -> str:
    node = shutil.which("node")
    if node is None:
        return "not installed"
    done = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip()


def postgraphile_server(url: str, workers: int, logs: Path) -> Server:
    port = free_port()
    argv = [
        str(postgraphile_bin()),
        "--connection",
        "postgres://" + url.partition("://")[2],
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--disable-default-mutations",
        "--disable-query-log",
    ]
    if workers > 1:
        argv += ["--cluster-workers", str(workers)]
    env = dict(os.environ, NODE_ENV="production")
    return Server(
        "PostGraphile",
        argv,
        env,
        port,
        logs / "postgraphile.log",
        ready_path="/graphql",
        ready_body={"query": "{ __typename }"},
        cwd=POSTGRAPHILE_DIR,
    )


# -- checking that every server returns the same data ----------------------------------------


def _post(client: httpx.Client, url: str, body: dict[str, Any]) -> tuple[Any, httpx.Response]:
    response = client.post(url, json=body)
    payload = response.json()
    if response.status_code != 200 or payload.get("errors"):
        raise ValueError(f"{response.status_code}: {response.text[:500]}")
    return payload["data"], response


def _difference(expected: Any, got: Any, where: str = "data") -> str | None:
    """Where two JSON values first differ (None: they are equal)."""
    if isinstance(expected, dict) and isinstance(got, dict):
        for key in sorted(set(expected) | set(got)):
            if key not in got or key not in expected:
                return f"{where}.{key} missing on one side"
            found = _difference(expected[key], got[key], f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(expected, list) and isinstance(got, list):
        if len(expected) != len(got):
            return f"{where}: {len(expected)} items, got {len(got)}"
        for i, (a, b) in enumerate(zip(expected, got, strict=True)):
            found = _difference(a, b, f"{where}[{i}]")
            if found:
                return found
        return None
    if expected != got:
        return f"{where}: {expected!r:.80} != {got!r:.80}"
    return None


def _fetcher(
    client: httpx.Client,
    url: str,
    query: str,
    reshape: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Callable[[dict[str, Any]], Any]:
    """A function from variables to the data a GraphQL server answers (reshaped to ours)."""

    def fetch(variables: dict[str, Any]) -> Any:
        data = _post(client, url, {"query": query, "variables": variables})[0]
        return data if reshape is None else reshape(data)

    return fetch


def check_same(
    reference: list[Any],
    fetch: Callable[[dict[str, Any]], Any],
    variants: tuple[dict[str, Any], ...],
) -> str:
    for i, (expected, variables) in enumerate(zip(reference, variants, strict=True)):
        try:
            got = fetch(variables)
        except (ValueError, httpx.HTTPError) as error:
            return f"variant {i}: {error}"
        found = _difference(expected, got)
        if found:
            return f"variant {i} differs at {found}"
    return "same"


# -- SQL statements per request, counted in-process ----------------------------------------------


async def count_statements(
    url: str, workloads: list[LoadWorkload], compiled: bool = False, cache: bool = False
) -> dict[str, float]:
    """Mean statements per request of every workload, through the real app in-process (a
    ``before_cursor_execute`` listener; transaction control not counted). With the cache or
    the compiled path on, every variant is sent once untimed first, so that the counted
    requests are what the timed ones are: repeats (cache hits, prepared plans)."""
    engine = create_engine(url)
    settings = Settings(
        database_url=url,
        response_cache_entries=1000 if cache else 0,
        compiled=compiled,
        max_cost=MAX_COST,
    )
    app = create_app(settings, sessions=session_factory(engine))
    counts: dict[str, float] = {}
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            with StatementRecorder(engine) as recorder:
                for workload in workloads:
                    bodies = workload.graphql_bodies()
                    if cache or compiled:
                        for body in bodies:
                            await client.post("/graphql", json=body)
                    recorder.take()
                    per_request = []
                    for body in bodies:
                        response = await client.post("/graphql", json=body)
                        response.raise_for_status()
                        per_request.append(len(recorder.take()))
                    counts[workload.key] = sum(per_request) / len(per_request)
    finally:
        await engine.dispose()
    return counts


# -- one database x catalog size -----------------------------------------------------------------


@dataclass
class Options:
    load: Load
    workers: list[int]
    postgraphile: str | None  # why PostGraphile is skipped (None: it runs)


def _line(cell: Cell, floor: Cell | None) -> str:
    run = cell.run
    ratio = ""
    if floor is not None and floor is not cell and floor.run.requests_per_second:
        ratio = f"  {run.requests_per_second / floor.run.requests_per_second:5.2f}x floor req/s"
    sql = "   -" if cell.statements is None else f"{cell.statements:4.1f}"
    check = "" if cell.same_data in ("same", "reference") else f"  DATA: {cell.same_data}"
    return (
        f"    {cell.workload} {cell.server:<15} {run.requests_per_second:8.0f} req/s  "
        f"p50 {run.p50_ms:7.2f} ms  p99 {run.p99_ms:7.2f} ms  SQL {sql}  "
        f"CPU {run.cpu_ms_per_request:6.2f} ms/req{ratio}{check}"
    )


def measure_workers(
    database: str,
    works: int,
    workers: int,
    url: str,
    workloads: list[LoadWorkload],
    statements: dict[str, dict[str, float]],
    options: Options,
    logs: Path,
    results: Results,
) -> None:
    on_postgresql = database == "postgresql"
    load = options.load

    def cell(server: str, workload: str, run: Run, sql: float | None, same: str) -> Cell:
        made = Cell(database, works, workers, server, workload, run, sql, same)
        results.cells.append(made)
        return made

    floors: dict[str, Cell] = {}
    reference: dict[str, list[Any]] = {}
    say(f"  {workers} worker{'s' if workers > 1 else ''}")
    with httpx.Client(timeout=60.0) as client:
        # The floor first: its answers are the same whatever ran before.
        with running(floor_server(url, workers, logs)) as server:
            pending: list[tuple[LoadWorkload, Run]] = []
            for workload in workloads:
                path = f"/{workload.key.lower()}"
                reference[workload.key] = [
                    _post(client, server.url + path, v)[0] for v in workload.variants
                ]
                run = drive(server, path, workload.floor_bodies(), load, on_postgresql, say)
                pending.append((workload, run))
            for workload, run in pending:
                floors[workload.key] = cell(FLOOR, workload.key, run, 1.0, "reference")
        with running(app_server(url, workers, logs, cache=False, compiled=False)) as server:
            for workload in workloads:
                same = check_same(
                    reference[workload.key],
                    _fetcher(client, server.url + "/graphql", workload.query),
                    workload.variants,
                )
                run = drive(server, "/graphql", workload.graphql_bodies(), load, on_postgresql, say)
                made = cell(APP, workload.key, run, statements[APP].get(workload.key), same)
                say(_line(made, floors[workload.key]))
        for workload in workloads:
            say(_line(floors[workload.key], None))
        with running(app_server(url, workers, logs, cache=False, compiled=True)) as server:
            compiled = []
            for workload in workloads:
                answers = [
                    client.post(
                        server.url + "/graphql", json={"query": workload.query, "variables": v}
                    )
                    for v in workload.variants
                ]
                if all(a.headers.get("x-execution") == "compiled" for a in answers):
                    compiled.append(workload)
            if not compiled:
                say("    (compiled path: answers none of W1-W5 yet; not measured)")
            for workload in compiled:
                same = check_same(
                    reference[workload.key],
                    _fetcher(client, server.url + "/graphql", workload.query),
                    workload.variants,
                )
                run = drive(server, "/graphql", workload.graphql_bodies(), load, on_postgresql, say)
                sql = statements.get(COMPILED, {}).get(workload.key)
                say(_line(cell(COMPILED, workload.key, run, sql, same), floors[workload.key]))
        if on_postgresql and options.postgraphile is None:
            with running(postgraphile_server(url, workers, logs)) as server:
                for workload in workloads:
                    if workload.key not in PEER_WORKLOADS or workload.peer is None:
                        continue
                    peer = workload.peer
                    same = check_same(
                        reference[workload.key],
                        _fetcher(client, server.url + "/graphql", peer.query, peer.to_ours),
                        workload.variants,
                    )
                    run = drive(server, "/graphql", workload.peer_bodies(), load, True, say)
                    made = cell(POSTGRAPHILE, workload.key, run, None, same)
                    say(_line(made, floors[workload.key]))
        if workers == max(options.workers):
            cached = next(w for w in workloads if w.key == CACHED_WORKLOAD)
            with running(app_server(url, workers, logs, cache=True, compiled=False)) as server:
                same = check_same(
                    reference[cached.key],
                    _fetcher(client, server.url + "/graphql", cached.query),
                    cached.variants,
                )
                run = drive(server, "/graphql", cached.graphql_bodies(), load, on_postgresql, say)
                sql = statements.get(CACHED, {}).get(cached.key)
                say(_line(cell(CACHED, cached.key, run, sql, same), floors[cached.key]))


SCALING_WORKLOADS = ("W1", "W2", "W3")
SCALING_SERVERS = (COMPILED, FLOOR)
SCALING_ROUNDS = 5  # a median of 5: single rounds of one run differed by up to 60 points


def measure_scaling(
    database: str,
    smaller: tuple[str, list[LoadWorkload]],
    larger: tuple[str, list[LoadWorkload]],
    small: int,
    large: int,
    options: Options,
    results: Results,
) -> None:
    """The change from the smaller catalog to the larger, measured side by side: for each
    server (the app's compiled path, the floor), one server per catalog, both started (1
    worker each; only the one driven works), then ``SCALING_ROUNDS`` rounds (after one more,
    untimed, that warms them up) of W1-W3 on each catalog in turn, the order alternating each
    round."""
    say(f"{LABELS[database]}: {small:,} and {large:,} works side by side, 1 worker")
    on_postgresql = database == "postgresql"
    by_key = [
        {w.key: w for w in workloads if w.key in SCALING_WORKLOADS}
        for _, workloads in (smaller, larger)
    ]
    with tempfile.TemporaryDirectory(prefix="nkcinema-scaling-") as directory:
        logs = Path(directory)
        for server_name in SCALING_SERVERS:
            rows = {
                key: Scaling(database, server_name, key, small, large) for key in SCALING_WORKLOADS
            }
            with contextlib.ExitStack() as servers:
                started = [
                    servers.enter_context(running(_scaling_server(server_name, url, logs)))
                    for url, _ in (smaller, larger)
                ]
                # Round 0 warms both servers up (their first requests on each connection,
                # the databases' caches) and is not kept: in a first run without it, round 1
                # alone showed W3 50-100% slower on the larger catalog.
                for round_number in range(SCALING_ROUNDS + 1):
                    order = (0, 1) if round_number % 2 == 0 else (1, 0)
                    for key in SCALING_WORKLOADS:
                        runs: dict[int, Run] = {}
                        for side in order:
                            workload = by_key[side][key]
                            path, bodies = (
                                (f"/{key.lower()}", workload.floor_bodies())
                                if server_name == FLOOR
                                else ("/graphql", workload.graphql_bodies())
                            )
                            runs[side] = drive(
                                started[side], path, bodies, options.load, on_postgresql, say
                            )
                        if round_number == 0:
                            continue
                        rows[key].rounds.append((runs[0], runs[1]))
                        say(_scaling_line(rows[key]))
            results.scaling.extend(rows.values())


def _scaling_server(name: str, url: str, logs: Path) -> Server:
    if name == FLOOR:
        return floor_server(url, 1, logs)
    return app_server(url, 1, logs, cache=False, compiled=True)


def _scaling_line(row: Scaling) -> str:
    small, large = row.rounds[-1]
    return (
        f"    {row.workload} {row.server:<15} round {len(row.rounds)}: p50 {small.p50_ms:7.2f} ms "
        f"at {row.small:,}, {large.p50_ms:7.2f} ms at {row.large:,} "
        f"({(large.p50_ms / small.p50_ms - 1) * 100:+.0f}%)"
    )


async def bench_database(
    database: str,
    url: str,
    works: int,
    catalog: Any,
    workloads: list[LoadWorkload],
    options: Options,
    results: Results,
) -> None:
    setup = Setup(database, works)
    results.setups.append(setup)
    await databases.migrate_database(url)
    engine = create_engine(url)
    try:
        setup.version = await databases.server_version(engine)
        setup.load_seconds = await databases.load(engine, catalog)
        setup.analyze_seconds = await databases.analyze(engine)
        if database == "postgresql":
            async with engine.begin() as connection:
                for statement in POSTGRAPHILE_FUNCTIONS:
                    await connection.execute(text(statement))
    finally:
        await engine.dispose()
    say(
        f"{LABELS[database]} {setup.version}, {works:,} works: loaded in "
        f"{setup.load_seconds:.1f} s, analyzed in {setup.analyze_seconds:.1f} s"
    )
    statements = {APP: await count_statements(url, workloads)}
    statements[CACHED] = await count_statements(
        url, [w for w in workloads if w.key == CACHED_WORKLOAD], cache=True
    )
    statements[COMPILED] = await count_statements(url, workloads, compiled=True)
    started = time.perf_counter()
    setup.load_average = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="nkcinema-load-") as directory:
        for workers in options.workers:
            try:
                measure_workers(
                    database,
                    works,
                    workers,
                    url,
                    workloads,
                    statements,
                    options,
                    Path(directory),
                    results,
                )
            except (ServerError, RuntimeError, httpx.HTTPError, OSError) as error:
                traceback.print_exc()
                note = f"{LABELS[database]}, {works:,} works, {workers} workers: failed, {error}"
                setup.notes.append(note.splitlines()[0])
                say(note)
    setup.measure_seconds = time.perf_counter() - started


async def bench(args: argparse.Namespace, options: Options, results: Results) -> None:
    postgres_url = os.environ.get("BENCH_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    loaded: dict[str, dict[int, tuple[str, list[LoadWorkload]]]] = {}
    # Every database is kept until the end, for the side-by-side runs (measure_scaling).
    async with contextlib.AsyncExitStack() as kept:
        for works in args.works:
            started = time.perf_counter()
            say(f"generating a catalog of {works:,} works (seed {args.seed})")
            catalog = build_catalog(works, args.seed)
            results.generate_seconds[works] = time.perf_counter() - started
            results.catalogs[works] = catalog.counts()
            workloads = build_load_workloads(catalog)
            for database in args.databases:
                try:
                    url = await kept.enter_async_context(throwaway_database(database, postgres_url))
                    await bench_database(database, url, works, catalog, workloads, options, results)
                except DatabaseUnavailable as error:
                    say(f"{database}: skipped, {error}")
                    results.notes.append(f"{LABELS[database]} skipped: {error}")
                    continue
                loaded.setdefault(database, {})[works] = (url, workloads)
        for database, sizes in loaded.items():
            if len(sizes) < 2:
                continue
            small, large = min(sizes), max(sizes)
            try:
                measure_scaling(
                    database, sizes[small], sizes[large], small, large, options, results
                )
            except (ServerError, RuntimeError, httpx.HTTPError, OSError) as error:
                traceback.print_exc()
                note = f"{LABELS[database]}, side by side: failed, {error}"
                results.notes.append(note.splitlines()[0])
                say(note)


# -- command line ------------------------------------------------------------------------------


def _names(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in DATABASES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(DATABASES)}")
    return names


def _numbers(value: str) -> list[int]:
    try:
        numbers = [int(part.replace("_", "")) for part in value.split(",") if part.strip()]
    except ValueError as error:
        raise argparse.ArgumentTypeError("comma-separated whole numbers") from error
    if not numbers or min(numbers) < 1:
        raise argparse.ArgumentTypeError("comma-separated numbers, each at least 1")
    return numbers


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--quick", action="store_true", help="10,000 works, 1 worker, 3 s per run (about 3 min)"
    )
    parser.add_argument("--databases", type=_names, help="default sqlite,postgresql")
    parser.add_argument("--works", type=_numbers, help="catalog sizes, default 10000,100000")
    parser.add_argument("--workers", type=_numbers, help="server worker counts, default 1,2")
    parser.add_argument("--seconds", type=float, help="timed seconds per run (default 5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="untimed seconds before")
    parser.add_argument("--connections", type=int, default=8, help="wrk -c (default 8)")
    parser.add_argument("--threads", type=int, default=1, help="wrk -t (default 1)")
    parser.add_argument("--no-postgraphile", action="store_true", help="skip PostGraphile")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="results file")
    parser.add_argument("--seed", type=int, default=3, help="catalog generator seed")
    args = parser.parse_args(argv)
    args.databases = args.databases or list(DATABASES)
    args.works = args.works or ([10_000] if args.quick else [10_000, 100_000])
    args.workers = args.workers or ([1] if args.quick else [1, 2])
    args.seconds = args.seconds or (3.0 if args.quick else 5.0)
    return args


def _interrupt(number: int, _frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(number).name)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        wrk_path()
    except WrkMissing as error:
        print(f"python -m bench.load: {error}", file=sys.stderr)
        return 2
    started_at, started = load_report.now(), time.perf_counter()
    results = Results()
    problem = "--no-postgraphile" if args.no_postgraphile else None
    if problem is None and "postgresql" in args.databases:
        problem = postgraphile_problem()
    if problem is not None and "postgresql" in args.databases:
        say(f"PostGraphile skipped: {problem}")
        results.notes.append(f"PostGraphile skipped: {problem}")
    # Ctrl-C or SIGTERM: raised where the run is, even in the blocking measurement code that
    # asyncio's own SIGINT handling would only cancel at the next await; servers are stopped
    # and databases dropped on the way out.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    load = Load(args.threads, args.connections, args.seconds, args.warmup)
    options = Options(load, sorted(set(args.workers)), problem)
    try:
        asyncio.run(bench(args, options, results))
    finally:
        seconds = time.perf_counter() - started
        versions = {
            "wrk": wrk_version(),
            "Node.js": node_version(),
            "PostGraphile": postgraphile_version(),
        }
        RAW_OUTPUT.parent.mkdir(exist_ok=True)
        RAW_OUTPUT.write_text(
            json.dumps([asdict(c) for c in results.cells], indent=1), encoding="utf-8"
        )
        command = shlex.join([".venv/bin/python", "-m", "bench.load", *argv])
        document = load_report.markdown(
            results,
            describe(PROJECT),
            versions,
            load,
            command=command,
            started=started_at,
            seconds=seconds,
        )
        args.output.write_text(document, encoding="utf-8")
        say("")
        say(load_report.summary(results))
        say(f"\nwhole run {seconds:.0f} s; results in {args.output}")
    failed = any(setup.notes for setup in results.setups)
    return 1 if failed or not results.cells else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
