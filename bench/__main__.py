"""``python -m bench``: build the synthetic catalog, measure every database, write the results.

Usage: .venv/bin/python -m bench [--works N] [--databases sqlite,postgresql] [--requests K]
                                 [--seconds S] [--output bench/results.md] [--seed N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import sys
import time
import traceback
from pathlib import Path

from bench import report
from bench.catalog import Catalog, build_catalog
from bench.databases import DEFAULT_POSTGRES_URL, DatabaseUnavailable
from bench.environment import describe
from bench.measure import MIN_REQUESTS
from bench.run import DATABASES, DatabaseResult, bench_database, throwaway_database

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_BUDGET = 10.0
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results.md"


def _databases(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in DATABASES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(DATABASES)}")
    return names


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--works", type=_positive, default=100_000, help="catalog size")
    parser.add_argument(
        "--databases",
        type=_databases,
        default=list(DATABASES),
        help="comma-separated: sqlite,postgresql (PostgreSQL at $BENCH_POSTGRES_URL, "
        f"default {DEFAULT_POSTGRES_URL})",
    )
    parser.add_argument(
        "--requests", type=_positive, default=200, help="timed requests per workload"
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=DEFAULT_BUDGET,
        help="time budget per workload: stop timing after this many seconds "
        f"(never before {MIN_REQUESTS} requests); default {DEFAULT_BUDGET:g}",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="results file")
    parser.add_argument("--seed", type=int, default=3, help="catalog generator seed")
    return parser.parse_args(argv)


def say(message: str) -> None:
    print(message, flush=True)


async def bench(args: argparse.Namespace, catalog: Catalog) -> list[DatabaseResult]:
    """Every database in turn; one that is unreachable or fails is reported, and the others
    still run."""
    postgres_url = os.environ.get("BENCH_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    results = []
    for name in args.databases:
        try:
            async with throwaway_database(name, postgres_url) as url:
                results.append(
                    await bench_database(name, url, catalog, args.requests, args.seconds, say)
                )
        except DatabaseUnavailable as error:
            say(f"{name}: skipped, {error}")
            results.append(DatabaseResult(name, skipped=f"unavailable: {error}"))
        except Exception as error:  # a failing app or migration: keep the other results
            traceback.print_exc()
            say(f"{name}: failed, {error!r}")
            results.append(DatabaseResult(name, skipped=f"failed: {error!r}", failed=True))
    return results


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    started_at, started = report.now(), time.perf_counter()
    say(f"generating a catalog of {args.works:,} works (seed {args.seed})")
    catalog = build_catalog(args.works, args.seed)
    generate_seconds = time.perf_counter() - started
    say(f"  generated in {generate_seconds:.1f} s: {catalog.counts()}")
    results = asyncio.run(bench(args, catalog))
    run = report.Run(
        started=started_at,
        seconds=time.perf_counter() - started,
        command=shlex.join([".venv/bin/python", "-m", "bench", *argv]),
        catalog=catalog,
        generate_seconds=generate_seconds,
        requests=args.requests,
        budget=args.seconds,
    )
    args.output.write_text(report.markdown(run, describe(PROJECT), results), encoding="utf-8")
    say("")
    say(report.summary(results))
    say(f"\nwhole run {run.seconds:.0f} s; results in {args.output}")
    return 1 if any(result.failed for result in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
