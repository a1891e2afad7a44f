"""``python -m bench.before_after``: an earlier commit of the app against this one, measured
in alternation on the same catalog, so that a change's effect on speed is told apart from the
machine's drift.

    git worktree add /tmp/old <commit> && (cd /tmp/old && python3 dev.py setup)
    .venv/bin/python -m bench.before_after --old-checkout /tmp/old [--databases sqlite,postgresql]
        [--works 10000,100000] [--workers 1,2] [--seconds 2] [--rounds 3]
        [--workloads W1,W2,W3,W4,W5] [--output FILE]

``bench.load`` measures each server once, in sequence: two whole runs of it a few hours apart
differ by more than most changes do (PostGraphile's ratio to the floor, which no change of
ours touches, moved by up to 90% between two such runs; bench/README.md). Here both versions
serve at once, each from its own checkout and virtual environment over its own copy of the
same catalog (this checkout's ``seeds.synthetic`` document, loaded by each version's own
migrations and ``seed``), and every workload is driven ``--rounds`` times on each in turn, the
order alternating each round; the report gives the median of each side and their ratio. The
floor and PostGraphile are the same programs on both sides, so every ratio of
``bench/results-load.md`` (the app ÷ the floor, the app ÷ PostGraphile) moves exactly as the
app's own numbers do: new ÷ old here is that change, without the drift.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import databases
from bench.catalog import build_catalog
from bench.databases import DEFAULT_POSTGRES_URL
from bench.environment import describe
from bench.load import MAX_COST, TIMEOUT_SECONDS, app_server, say
from bench.load_workloads import LoadWorkload, build_load_workloads
from bench.loadgen import Load, Run, drive
from bench.run import LABELS, throwaway_database
from bench.servers import Server, free_port, running
from db.engine import create_engine, session_factory
from seeds import seed

PROJECT = Path(__file__).resolve().parent.parent
BALANCED = 0.5  # a run whose least busy worker did half the busiest one's work, or more
DEFAULT_OUTPUT = PROJECT / "bench" / "results-before-after.md"

# Run by the old checkout's interpreter: its own migrations and loader, this catalog.
OLD_LOAD = """
import asyncio, json, sys
from cli import migrate
from db.engine import create_engine, session_factory
from seeds import seed

url, path = sys.argv[1], sys.argv[2]
migrate(url)
document = json.loads(open(path, encoding="utf-8").read())

async def main():
    engine = create_engine(url)
    try:
        await seed(session_factory(engine), documents=[("synthetic", document)])
    finally:
        await engine.dispose()

asyncio.run(main())
"""


@dataclass
class Pair:
    """One workload on both versions: ``rounds`` runs each, taken in alternation."""

    database: str
    works: int
    workers: int
    mode: str  # "resolver" or "compiled"
    workload: str
    old: list[Run] = field(default_factory=list)
    new: list[Run] = field(default_factory=list)
    executions: tuple[str, str] = ("", "")  # X-Execution of each side's answers
    same: str = ""

    def unbalanced(self, side: str) -> int:
        """Runs of a side in which one worker did most of the work (``Run.balance``)."""
        runs = self.old if side == "old" else self.new
        return sum(r.balance(self.workers) < BALANCED for r in runs)

    def runs(self, side: str) -> list[Run]:
        """The runs a side's medians are taken over: with several workers, those in which
        the workers shared the load, when each side has some; a run whose connections all
        went to one worker measures the accept race (the same on both sides), not the app."""
        runs = self.old if side == "old" else self.new
        if self.workers > 1 and all(
            any(r.balance(self.workers) >= BALANCED for r in side_runs)
            for side_runs in (self.old, self.new)
        ):
            return [r for r in runs if r.balance(self.workers) >= BALANCED]
        return runs

    def median(self, side: str, attribute: str) -> float:
        runs = self.runs(side)
        if attribute == "rps":
            return statistics.median(r.requests_per_second for r in runs)
        if attribute == "cpu":
            return statistics.median(r.cpu_ms_per_request for r in runs if r.requests)
        return statistics.median(r.p50_ms for r in runs)

    @property
    def rps_ratio(self) -> float:
        return _ratio(self.median("new", "rps"), self.median("old", "rps"))

    @property
    def p50_ratio(self) -> float:
        return _ratio(self.median("new", "p50"), self.median("old", "p50"))

    @property
    def cpu_ratio(self) -> float:
        """New ÷ old CPU time of the server's processes per request: the app's own work,
        which moves far less with the machine's load than req/s and p50 do."""
        if not any(r.requests for r in self.runs("old")) or not any(
            r.requests for r in self.runs("new")
        ):
            return float("nan")
        return _ratio(self.median("new", "cpu"), self.median("old", "cpu"))

    def spread(self, side: str) -> float:
        """The largest run's req/s over the smallest, minus one: the noise between rounds."""
        values = [r.requests_per_second for r in self.runs(side)]
        return max(values) / min(values) - 1 if min(values) else float("inf")


def _ratio(new: float, old: float) -> float:
    """new ÷ old; NaN when a side completed no request in a run (too short for it)."""
    return new / old if old and new else float("nan")


def app_environment(url: str, compiled: bool, timeout: float = TIMEOUT_SECONDS) -> dict[str, str]:
    """The environment either version's app is measured in: this process's, on ``url``,
    without the response cache, with the bench's cost limit and time limits."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        NKCINEMA_RESPONSE_CACHE_ENTRIES="0",
        NKCINEMA_COMPILED="1" if compiled else "0",
        NKCINEMA_LOG_FORMAT="json",
        NKCINEMA_MAX_COST=str(MAX_COST),
        NKCINEMA_REQUEST_TIMEOUT=str(timeout),
        NKCINEMA_STATEMENT_TIMEOUT=str(timeout),
    )
    return env


def old_server(checkout: Path, url: str, workers: int, logs: Path, compiled: bool) -> Server:
    port = free_port()
    env = app_environment(url, compiled)
    name = "old" + (" compiled" if compiled else "")
    argv = [str(checkout / ".venv" / "bin" / "nkcinema"), "serve", "--port", str(port)]
    argv += ["--workers", str(workers)]
    return Server(name, argv, env, port, logs / f"{name.replace(' ', '-')}.log", cwd=checkout)


def _answers(server: Server, workload: LoadWorkload) -> tuple[list[Any], str]:
    with httpx.Client(timeout=60.0) as client:
        answers, executions = [], set()
        for variables in workload.variants:
            response = client.post(
                server.url + "/graphql", json={"query": workload.query, "variables": variables}
            )
            # ``extensions`` (the operation's cost, priced anew by #20) is not the answer
            body = response.json()
            answers.append({k: body[k] for k in ("data", "errors") if k in body})
            executions.add(response.headers.get("x-execution", "?"))
    return answers, "/".join(sorted(executions))


def measure(
    database: str,
    works: int,
    workers: int,
    urls: tuple[str, str],
    workloads: list[LoadWorkload],
    args: argparse.Namespace,
    logs: Path,
) -> list[Pair]:
    load = Load(seconds=args.seconds, warmup=args.warmup)
    pairs = []
    for mode in ("resolver", "compiled"):
        compiled = mode == "compiled"
        with (
            running(old_server(args.old_checkout, urls[0], workers, logs, compiled)) as old,
            running(app_server(urls[1], workers, logs, cache=False, compiled=compiled)) as new,
        ):
            for workload in workloads:
                pair = Pair(database, works, workers, mode, workload.key)
                old_answers, old_execution = _answers(old, workload)
                new_answers, new_execution = _answers(new, workload)
                pair.executions = (old_execution, new_execution)
                pair.same = "same" if old_answers == new_answers else "differs"
                bodies = workload.graphql_bodies()
                for round_number in range(args.rounds):
                    sides = [("old", old), ("new", new)]
                    for side, server in sides if round_number % 2 == 0 else sides[::-1]:
                        run = drive(server, "/graphql", bodies, load, database == "postgresql", say)
                        (pair.old if side == "old" else pair.new).append(run)
                say(_line(pair))
                pairs.append(pair)
    return pairs


def _line(pair: Pair) -> str:
    return (
        f"    {pair.workers}w {pair.mode:<8} {pair.workload}: "
        f"old {pair.median('old', 'rps'):7.0f} req/s p50 {pair.median('old', 'p50'):7.2f} ms | "
        f"new {pair.median('new', 'rps'):7.0f} req/s p50 {pair.median('new', 'p50'):7.2f} ms | "
        f"new/old req/s {pair.rps_ratio:5.2f} p50 {pair.p50_ratio:5.2f} "
        f"CPU/req {pair.cpu_ratio:5.2f} "
        f"(spread {pair.spread('old'):.0%}/{pair.spread('new'):.0%}; "
        f"unbalanced {pair.unbalanced('old')}/{pair.unbalanced('new')} of {len(pair.old)}; "
        f"{pair.executions[0]} → {pair.executions[1]}; answers {pair.same})"
    )


async def _prepare(
    urls: tuple[str, str], document: dict[str, Any], document_path: Path, checkout: Path
) -> None:
    """The old side migrated and loaded by the old checkout's own code, the new side by this
    one's; both analyzed."""
    python = checkout / ".venv" / "bin" / "python"
    done = await asyncio.to_thread(
        subprocess.run,
        [str(python), "-c", OLD_LOAD, urls[0], str(document_path)],
        cwd=checkout,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the old checkout could not load the catalog:\n{done.stderr[-3000:]}")
    await databases.migrate_database(urls[1])
    for url in urls:
        engine = create_engine(url)
        try:
            if url == urls[1]:  # the new side loads as bench.load does
                await seed(session_factory(engine), documents=[("synthetic", document)])
            await databases.analyze(engine)
        finally:
            await engine.dispose()


async def run(args: argparse.Namespace) -> list[Pair]:
    pairs: list[Pair] = []
    for works in args.works:
        catalog = build_catalog(works)
        # Workloads whose variables come from the loaded database (cursors, global ids) would
        # need each side's own; and an earlier commit may not serve the newer workloads.
        workloads = [
            w for w in build_load_workloads(catalog) if w.key in args.workloads and not w.resolve
        ]
        with tempfile.TemporaryDirectory(prefix="nkcinema-before-after-") as directory:
            document_path = Path(directory) / "catalog.json"
            document_path.write_text(json.dumps(catalog.document, ensure_ascii=False))
            for database in args.databases:
                say(f"{LABELS[database]}, {works:,} works")
                async with (
                    throwaway_database(database, args.postgres_url) as old_url,
                    throwaway_database(database, args.postgres_url) as new_url,
                ):
                    started = time.perf_counter()
                    await _prepare(
                        (old_url, new_url), catalog.document, document_path, args.old_checkout
                    )
                    say(f"  both loaded in {time.perf_counter() - started:.0f} s")
                    for workers in args.workers:
                        pairs += await asyncio.to_thread(
                            measure,
                            database,
                            works,
                            workers,
                            (old_url, new_url),
                            workloads,
                            args,
                            Path(directory),
                        )
    return pairs


def report(pairs: list[Pair], args: argparse.Namespace, seconds: float) -> str:
    old = _commit(args.old_checkout)
    new = _commit(PROJECT)
    lines = [
        "# Before and after, side by side",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `.venv/bin/python -m "
        f"bench.before_after --old-checkout … --seconds {args.seconds:g} --rounds {args.rounds}` "
        f"(the whole run: {seconds / 60:.0f} min): **old** {old} against **new** {new}, both "
        "serving at once, each workload driven on each in turn, the order alternating every "
        f"round; the median of {args.rounds} wrk runs of {args.seconds:g} s each side. "
        "Ratios are new ÷ old: req/s above 1 and p50 below 1 are better. Spread: the largest "
        "run's req/s over the smallest, per side (the noise between rounds). Unbalanced: with "
        "several workers, runs in which the least busy worker did less than half the busiest "
        "one's work (wrk's connections landed on one worker: bench/README.md, \"Several "
        'workers on one socket"); the medians leave them out when each side has a balanced '
        "run.",
        "",
        "## Machine and versions",
        "",
        *describe_lines(),
        "",
        "| database | works | workers | path | workload | old req/s | new req/s | new ÷ old req/s "
        "| old p50 ms | new p50 ms | new ÷ old p50 | new ÷ old CPU/req | spread old / new "
        "| unbalanced old / new | execution old → new | answers |",
        "|---|--:|--:|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|---|",
    ]
    for p in pairs:
        lines.append(
            f"| {LABELS[p.database]} | {p.works:,} | {p.workers} | {p.mode} | {p.workload} "
            f"| {p.median('old', 'rps'):,.0f} | {p.median('new', 'rps'):,.0f} "
            f"| {p.rps_ratio:.2f} | {p.median('old', 'p50'):.2f} | {p.median('new', 'p50'):.2f} "
            f"| {p.p50_ratio:.2f} | {p.cpu_ratio:.2f} "
            f"| {p.spread('old'):.0%} / {p.spread('new'):.0%} "
            f"| {p.unbalanced('old')} / {p.unbalanced('new')} "
            f"| {p.executions[0]} → {p.executions[1]} | {p.same} |"
        )
    lines += ["", *summary(pairs), ""]
    return "\n".join(lines)


def summary(pairs: list[Pair]) -> list[str]:
    """Per workload and path, the median new ÷ old over the configurations."""
    groups: dict[tuple[str, str], list[Pair]] = {}
    for p in pairs:
        groups.setdefault((p.mode, p.workload), []).append(p)
    lines = [
        "## Summary",
        "",
        "| path | workload | configurations | median new ÷ old req/s | lowest "
        "| median new ÷ old p50 | highest | median new ÷ old CPU/req | highest |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for (mode, workload), group in sorted(groups.items()):
        rps = [p.rps_ratio for p in group]
        p50 = [p.p50_ratio for p in group]
        cpu = [p.cpu_ratio for p in group]
        lines.append(
            f"| {mode} | {workload} | {len(group)} | {statistics.median(rps):.2f} "
            f"| {min(rps):.2f} | {statistics.median(p50):.2f} | {max(p50):.2f} "
            f"| {statistics.median(cpu):.2f} | {max(cpu):.2f} |"
        )
    return lines


def describe_lines() -> list[str]:
    machine = describe(PROJECT)
    packages = ", ".join(f"{name} {version}" for name, version in machine.packages.items())
    return [
        f"- {machine.cpu}, {machine.cores} cores, {machine.memory_gib:.1f} GiB; {machine.os}",
        f"- Python {machine.python}, SQLite {machine.sqlite}; {packages} (this checkout's)",
    ]


def _commit(checkout: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(checkout), "log", "-1", "--format=%h (%ad)", "--date=short"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or str(checkout)


def _list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.before_after", description=__doc__)
    parser.add_argument("--old-checkout", type=Path, required=True)
    parser.add_argument("--databases", type=_list, default=["sqlite", "postgresql"])
    parser.add_argument("--works", type=lambda v: [int(x) for x in _list(v)], default=[10_000])
    parser.add_argument("--workers", type=lambda v: [int(x) for x in _list(v)], default=[1, 2])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--warmup", type=float, default=0.5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workloads", type=_list, default=["W1", "W2", "W3", "W4", "W5"])
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    if not (args.old_checkout / ".venv" / "bin" / "nkcinema").exists():
        parser.error(
            f"{args.old_checkout} has no .venv/bin/nkcinema: run python3 dev.py setup there"
        )
    return args


def write_results(output: Path, text: str, rows: list[Any]) -> None:
    """The report at ``output``, and its rows (dataclasses) as JSON beside it."""
    output.write_text(text, encoding="utf-8")
    raw = output.with_suffix(".json")
    raw.write_text(json.dumps([asdict(row) for row in rows], indent=1), encoding="utf-8")
    say(f"wrote {output}")


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    pairs = asyncio.run(run(args))
    write_results(args.output, report(pairs, args, time.perf_counter() - started), pairs)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
