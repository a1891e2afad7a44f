"""``python -m bench.instructions``: an earlier commit against this one, counted rather than
timed — machine instructions per request of each served app, and CPU per request of the app
and of PostgreSQL.

    git worktree add /tmp/old <commit> && (cd /tmp/old && python3 dev.py setup)
    .venv/bin/python -m bench.instructions --old-checkout /tmp/old [--databases sqlite,postgresql]
        [--works 100000] [--workloads W1,W2,W3,W4] [--requests 20] [--cpu-requests 300]
        [--rounds 3] [--output FILE]

``bench.before_after`` times both versions over HTTP in alternation; on this shared machine a
one-worker ratio within ±7% of 1 changes sides between its runs. Here each version's served
app (``create_served_app``, as a uvicorn worker builds it) runs in-process over ASGI
(``bench/instructions_runner.py``, with that checkout's own interpreter and packages, over
its own copy of the same catalog, loaded as ``bench.before_after`` loads it) under
``valgrind --tool=callgrind``: the instructions of ``--requests`` requests per workload, every
thread's (SQLite's work is in-process, in aiosqlite's thread), counted the same on every run.
Then, without valgrind, ``--rounds`` runs per side in alternation give the CPU per request of
the app and, on PostgreSQL, of the server's processes (what instructions cannot count there);
the report gives their medians (timed, so noisy: one program's app CPU per request moved by
up to a fifth between runs on this machine). What neither covers: uvicorn's HTTP parsing
(the same packages serve both sides) and waiting.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from bench.before_after import (
    _commit,
    _list,
    _prepare,
    app_environment,
    describe_lines,
    write_results,
)
from bench.catalog import build_catalog
from bench.databases import DEFAULT_POSTGRES_URL
from bench.load import TIMEOUT_SECONDS, say
from bench.load_workloads import build_load_workloads
from bench.run import LABELS, throwaway_database

PROJECT = Path(__file__).resolve().parent.parent
RUNNER = Path(__file__).resolve().parent / "instructions_runner.py"
DEFAULT_OUTPUT = PROJECT / "bench" / "results-instructions.md"
TOTALS = re.compile(r"^totals:\s+(\d+)", re.MULTILINE)


@dataclass
class Count:
    """One workload on one path and database: old and new."""

    database: str
    works: int
    mode: str  # resolver or compiled
    workload: str
    instructions: dict[str, float] = field(default_factory=dict)  # per request, by side
    app_cpu_ms: dict[str, list[float]] = field(default_factory=dict)  # per request, per round
    database_cpu_ms: dict[str, list[float]] = field(default_factory=dict)
    executions: dict[str, str] = field(default_factory=dict)

    def ratio(self, what: str) -> float:
        """new ÷ old: of instructions, or of the medians of app or database CPU."""
        if what == "instructions":
            old, new = self.instructions.get("old"), self.instructions.get("new")
        else:
            values = getattr(self, what)
            old, new = (
                statistics.median(values[s]) if values.get(s) else None for s in ("old", "new")
            )
        return new / old if old and new else float("nan")

    def median(self, what: str, side: str) -> float:
        values = getattr(self, what).get(side)
        return statistics.median(values) if values else float("nan")


def measured_parts(directory: Path, stem: str, workloads: int) -> list[int]:
    """Each workload's instructions: callgrind's dumps ``stem.1``, ``stem.2``, … are cut at
    the runner's markers, two per workload, so part 2k holds workload k's timed requests."""
    parts = sorted(
        (int(p.name.rsplit(".", 1)[1]), p)
        for p in directory.glob(stem + ".*")
        if p.name.rsplit(".", 1)[1].isdigit()
    )
    if len(parts) != 2 * workloads:
        raise RuntimeError(
            f"callgrind wrote {len(parts)} dumps for {workloads} workloads (2 markers each): "
            "something else called getppid()"
        )
    totals = []
    for number, path in parts:
        if number % 2 == 0:
            found = TOTALS.search(path.read_text(encoding="utf-8", errors="replace"))
            if found is None:
                raise RuntimeError(f"{path} has no totals line")
            totals.append(int(found.group(1)))
    return totals


def run_runner(
    checkout: Path,
    url: str,
    compiled: bool,
    spec: dict,
    directory: Path,
    name: str,
    callgrind: bool,
) -> dict:
    spec_path = directory / f"{name}.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    env = app_environment(url, compiled, TIMEOUT_SECONDS * 50)  # valgrind: ~50 times slower
    # One string hash for both sides: randomized, it changes dict and set layouts, and with
    # them the count, from one process to the next.
    env["PYTHONHASHSEED"] = "0"
    argv = [str(checkout / ".venv" / "bin" / "python"), str(RUNNER), str(spec_path)]
    if callgrind:
        argv = [
            "valgrind",
            "--tool=callgrind",
            "--dump-before=getppid",
            f"--callgrind-out-file={directory / name}.cg",
            *argv,
        ]
    done = subprocess.run(argv, cwd=checkout, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def count(
    database: str,
    works: int,
    urls: dict[str, str],
    checkouts: dict[str, Path],
    workloads: list,
    args: argparse.Namespace,
    directory: Path,
) -> list[Count]:
    specs = [{"key": w.key, "query": w.query, "variants": list(w.variants)} for w in workloads]
    counts = []
    for mode in ("resolver", "compiled"):
        compiled = mode == "compiled"
        rows = {w.key: Count(database, works, mode, w.key) for w in workloads}
        counted = {"warmup": args.warmup, "requests": args.requests, "workloads": specs}
        # Both sides under valgrind at once: one process each, single-threaded under it.
        with ThreadPoolExecutor(2) as pool:
            futures = {
                side: pool.submit(
                    run_runner,
                    checkouts[side],
                    urls[side],
                    compiled,
                    counted,
                    directory,
                    f"{database}-{mode}-{side}",
                    True,
                )
                for side in ("old", "new")
            }
            with_valgrind = {side: future.result() for side, future in futures.items()}
        for side, answer in with_valgrind.items():
            totals = measured_parts(directory, f"{database}-{mode}-{side}.cg", len(specs))
            for spec, total, result in zip(specs, totals, answer["workloads"], strict=True):
                row = rows[spec["key"]]
                row.instructions[side] = total / args.requests
                row.executions[side] = "/".join(result["executions"])
        timed = {"warmup": args.warmup, "requests": args.cpu_requests, "workloads": specs}
        for round_number in range(args.rounds):
            sides = ["old", "new"] if round_number % 2 == 0 else ["new", "old"]
            for side in sides:
                answer = run_runner(
                    checkouts[side], urls[side], compiled, timed, directory, "timed", False
                )
                for result in answer["workloads"]:
                    row = rows[result["key"]]
                    per = 1000 / args.cpu_requests
                    row.app_cpu_ms.setdefault(side, []).append(result["cpu_seconds"] * per)
                    row.database_cpu_ms.setdefault(side, []).append(
                        result["database_cpu_seconds"] * per
                    )
        for row in rows.values():
            say(_line(row))
        counts += rows.values()
    return counts


def _line(row: Count) -> str:
    return (
        f"    {row.database} {row.mode:<8} {row.workload}: instructions/req "
        f"old {row.instructions.get('old', 0) / 1e6:.1f} M new "
        f"{row.instructions.get('new', 0) / 1e6:.1f} M ({row.ratio('instructions'):.3f}); "
        f"app CPU ms old {row.median('app_cpu_ms', 'old'):.2f} new "
        f"{row.median('app_cpu_ms', 'new'):.2f} ({row.ratio('app_cpu_ms'):.3f}); "
        f"database CPU ms old {row.median('database_cpu_ms', 'old'):.2f} new "
        f"{row.median('database_cpu_ms', 'new'):.2f}"
    )


def run(args: argparse.Namespace) -> list[Count]:
    counts: list[Count] = []
    catalog = build_catalog(args.works)
    workloads = [
        w for w in build_load_workloads(catalog) if w.key in args.workloads and not w.resolve
    ]
    checkouts = {"old": args.old_checkout, "new": PROJECT}
    with tempfile.TemporaryDirectory(prefix="nkcinema-instructions-") as name:
        directory = Path(name)
        document_path = directory / "catalog.json"
        document_path.write_text(json.dumps(catalog.document, ensure_ascii=False))
        for database in args.databases:
            say(f"{LABELS[database]}, {args.works:,} works")
            counts += asyncio.run(
                _database(database, args, catalog, document_path, checkouts, workloads, directory)
            )
    return counts


async def _database(database, args, catalog, document_path, checkouts, workloads, directory):
    async with (
        throwaway_database(database, args.postgres_url) as old_url,
        throwaway_database(database, args.postgres_url) as new_url,
    ):
        started = time.perf_counter()
        await _prepare((old_url, new_url), catalog.document, document_path, args.old_checkout)
        say(f"  both loaded in {time.perf_counter() - started:.0f} s")
        return await asyncio.to_thread(
            count,
            database,
            args.works,
            {"old": old_url, "new": new_url},
            checkouts,
            workloads,
            args,
            directory,
        )


def report(counts: list[Count], args: argparse.Namespace, seconds: float) -> str:
    lines = [
        "# Before and after, counted",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `.venv/bin/python -m "
        f"bench.instructions --old-checkout … --works {args.works} --requests {args.requests} "
        f"--cpu-requests {args.cpu_requests} --rounds {args.rounds}` (the whole run: "
        f"{seconds / 60:.0f} min): **old** {_commit(args.old_checkout)} against **new** "
        f"{_commit(PROJECT)}, each one's served app in-process, one request at a time. "
        "Instructions: per request under callgrind, every thread of the app's process (SQLite "
        "included), the same on every run. CPU: median over the rounds, per request, of the "
        "app's process and of PostgreSQL's server processes: timed, so as noisy as the machine "
        "(the app's CPU per request of one program moved by up to a fifth between runs here); "
        "PostgreSQL's is what instructions cannot count. Ratios are new ÷ old: below 1 is less "
        "work.",
        "",
        "## Machine and versions",
        "",
        *describe_lines(),
        "",
        "| database | works | path | workload | old M instr/req | new M instr/req "
        "| new ÷ old instr | old app CPU ms | new app CPU ms | new ÷ old app CPU "
        "| old DB CPU ms | new DB CPU ms | new ÷ old DB CPU | execution old → new |",
        "|---|--:|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for c in counts:
        database = c.database == "postgresql"
        lines.append(
            f"| {LABELS[c.database]} | {c.works:,} | {c.mode} | {c.workload} "
            f"| {c.instructions.get('old', 0) / 1e6:.2f} "
            f"| {c.instructions.get('new', 0) / 1e6:.2f} "
            f"| {c.ratio('instructions'):.3f} "
            f"| {c.median('app_cpu_ms', 'old'):.2f} | {c.median('app_cpu_ms', 'new'):.2f} "
            f"| {c.ratio('app_cpu_ms'):.2f} "
            + (
                f"| {c.median('database_cpu_ms', 'old'):.2f} "
                f"| {c.median('database_cpu_ms', 'new'):.2f} "
                f"| {c.ratio('database_cpu_ms'):.2f} "
                if database
                else "| – | – | – "
            )
            + f"| {c.executions.get('old', '?')} → {c.executions.get('new', '?')} |"
        )
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__)
    parser.add_argument("--old-checkout", type=Path, required=True)
    parser.add_argument("--databases", type=_list, default=["sqlite", "postgresql"])
    parser.add_argument("--works", type=int, default=100_000)
    parser.add_argument("--workloads", type=_list, default=["W1", "W2", "W3", "W4"])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--cpu-requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    if not (args.old_checkout / ".venv" / "bin" / "python").exists():
        parser.error(f"{args.old_checkout} has no .venv: run python3 dev.py setup there")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    counts = run(args)
    write_results(args.output, report(counts, args, time.perf_counter() - started), counts)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
