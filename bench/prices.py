"""Calibrates the cost model's prices (gql/limits.py): the database time of searches, facets
and similar rankings, against the database time per cost unit of ordinary pages.

    .venv/bin/python -m bench.prices                       # 10,000 works on PostgreSQL
    .venv/bin/python -m bench.prices --databases sqlite,postgresql --works 10000

For each database a throwaway catalog is built as ``python -m bench`` builds it; each
operation is sent through the real app in-process (resolvers, no response cache, no cost
limit) ``--repeat`` times after a warm-up, and its database time is the sum of its SQL
statements' times (``bench.statements``), median over the repeats. A **unit** is the
database time per cost unit of the ordinary pages (the reference operations: their median);
an operation's **worth** is its database time in units (of the reference whose unit took
longest, so that the cost limit bounds database time), and the price a field should have is
its worth less the objects it already counts. The numbers go to stdout as a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench import databases
from bench.catalog import build_catalog
from bench.environment import describe
from bench.run import throwaway_database
from bench.statements import StatementRecorder
from db.engine import create_engine, session_factory
from db.text import search_key, trigrams
from seeds.synthetic import SYLLABLES
from settings import Settings
from web.app import create_app

PROJECT = Path(__file__).resolve().parents[1]

LONG = " ".join(s for s, _ in SYLLABLES)  # every syllable the catalog's names are made of
WORST_QUERIES = {  # 200 characters each, the longest a client would plausibly send
    "syllables": (LONG + " ") * 4,
    "one letter": "a" * 200,
    "a name repeated": "kim il sung " * 20,
}
REFERENCES = {
    "works(first: 100) titles, directors, themes": (
        "{ works(first: 100) { nodes { title year directors { name } themes { name } } } }"
    ),
    "directors(first: 100) works(first: 10) themes (W3)": (
        "{ directors(first: 100) { nodes { name works(role: DIRECTOR, first: 10) { nodes {"
        " title year themes { name } } } } } }"
    ),
    "directors(first: 100) works(first: 20) themes": (
        "{ directors(first: 100) { nodes { name works(first: 20) { nodes {"
        " title themes { name } } } } } }"
    ),
    "people(first: 100) credits": (
        "{ people(first: 100) { nodes { name credits { role work { title } } } } }"
    ),
}


def _priced() -> dict[str, str]:
    operations = {}
    for label, text in WORST_QUERIES.items():
        query = text[:200]
        grams = len(trigrams(search_key(query)))
        operations[f"search(first: 100), 200 chars, {label} ({grams} trigrams)"] = (
            f'{{ search(query: "{query}", first: 100) {{ __typename }} }}'
        )
    operations["search(first: 10), 'pulgasari' (7 trigrams)"] = (
        '{ search(query: "pulgasari", first: 10) { __typename } }'
    )
    syllables = WORST_QUERIES["syllables"][:200]
    grams = len(trigrams(search_key(syllables)))
    operations[f"works(filter: {{search}}, first: 20), 200 chars ({grams} trigrams)"] = (
        f'{{ works(first: 20, filter: {{search: "{syllables}"}}) {{ nodes {{ slug }} }} }}'
    )
    operations[f"works(filter: {{search}}) totalCount, 200 chars ({grams} trigrams)"] = (
        f'{{ works(first: 0, filter: {{search: "{syllables}"}}) {{ totalCount }} }}'
    )
    operations[f"people(filter: {{search}}, first: 20), 200 chars ({grams} trigrams)"] = (
        f'{{ people(first: 20, filter: {{search: "{syllables}"}}) {{ nodes {{ slug }} }} }}'
    )
    operations["works facets kinds, decades (root)"] = (
        "{ works(first: 0) { facets { kinds { count } decades { count } } } }"
    )
    operations["works facets themes(first: 100) (root)"] = (
        "{ works(first: 0) { facets { themes(first: 100) { count } } } }"
    )
    operations["directors(first: 100) works facets kinds, decades"] = (
        "{ directors(first: 100) { nodes { works(first: 0) {"
        " facets { kinds { count } decades { count } } } } } }"
    )
    operations["works(first: 100) similar(first: 20)"] = (
        "{ works(first: 100) { nodes { similar(first: 20) { nodes { slug } } } } }"
    )
    operations["works(first: 100) similar totalCount"] = (
        "{ works(first: 100) { nodes { similar(first: 0) { totalCount } } } }"
    )
    return operations


@dataclass
class Measured:
    label: str
    cost: int
    database_ms: float
    statements: int


async def _measure(
    client: httpx.AsyncClient, recorder: StatementRecorder, label: str, query: str, repeat: int
) -> Measured:
    times, cost, count = [], 0, 0
    for attempt in range(repeat + 1):
        recorder.take()
        response = await client.post("/graphql", json={"query": query})
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(f"{label}: {body['errors']}")
        taken = recorder.take()
        if attempt == 0:
            continue  # warm-up
        times.append(sum(s.seconds for s in taken) * 1000)
        cost, count = int(body["extensions"]["cost"]), len(taken)
    return Measured(label, cost, statistics.median(times), count)


async def calibrate(name: str, works: int, repeat: int, postgres_url: str) -> list[str]:
    catalog = build_catalog(works)
    async with throwaway_database(name, postgres_url) as url:
        await databases.migrate_database(url)
        engine = create_engine(url)
        try:
            await databases.load(engine, catalog)
            await databases.analyze(engine)
            settings = Settings(
                database_url=url,
                response_cache_entries=0,
                compiled=False,
                max_cost=10**9,
                max_aliases=1000,
                request_timeout=60,
                statement_timeout=60,
            )
            app = create_app(settings, sessions=session_factory(engine))
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                with StatementRecorder(engine) as recorder:
                    references = [
                        await _measure(client, recorder, label, query, repeat)
                        for label, query in REFERENCES.items()
                    ]
                    priced = [
                        await _measure(client, recorder, label, query, repeat)
                        for label, query in _priced().items()
                    ]
        finally:
            await engine.dispose()
    unit = statistics.median(m.database_ms / m.cost for m in references)
    most = max(m.database_ms / m.cost for m in references)
    lines = [
        f"### {name}, {works:,} works",
        "",
        f"A unit of the reference pages: median {unit * 1000:.2f} µs, most {most * 1000:.2f} µs "
        "of database time. Worth: the database time over the most.",
        "",
        "| operation | statements | database ms | cost | worth (units) |",
        "|---|--:|--:|--:|--:|",
    ]
    for m in [*references, *priced]:
        worth = m.database_ms / most
        lines.append(
            f"| {m.label} | {m.statements} | {m.database_ms:.2f} | {m.cost:,} | {worth:,.0f} |"
        )
    print("\n".join(["", *lines]))
    sys.stdout.flush()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.prices", description=__doc__)
    parser.add_argument("--databases", default="postgresql")
    parser.add_argument("--works", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres-url", default=databases.DEFAULT_POSTGRES_URL)
    parser.add_argument("--output", type=Path, help="also write the tables to this file")
    args = parser.parse_args()
    lines = [
        "# Prices: database time of priced fields against ordinary pages",
        "",
        f"`.venv/bin/python -m bench.prices {' '.join(sys.argv[1:])}` at commit "
        f"{describe(PROJECT).revision}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average "
        f"{os.getloadavg()[0]:.2f} (other work on the machine shows in the numbers).",
        "",
    ]
    for name in args.databases.split(","):
        lines += asyncio.run(calibrate(name.strip(), args.works, args.repeat, args.postgres_url))
        lines.append("")
    if args.output is not None:
        args.output.write_text("\n".join(lines))


if __name__ == "__main__":
    main()
