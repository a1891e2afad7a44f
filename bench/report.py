"""The results: ``bench/results.md`` (tables and plans) and a compact summary for stdout."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from bench.catalog import Catalog
from bench.environment import Environment
from bench.measure import MIN_REQUESTS, WorkloadResult
from bench.plans import SCANNED_TABLES, Plan, inline
from bench.run import DatabaseResult

_SCANNED = re.compile(rf"\b({'|'.join(SCANNED_TABLES)})\b")

EXPLANATION = """\
Each workload is a GraphQL POST to the real app (`create_app`, Strawberry, DataLoaders,
SQLAlchemy async) in-process over `httpx.ASGITransport`, sent one at a time (sequential),
rotating through the variables listed. After a warm-up (every variant twice), up to
{requests} requests per workload are timed, stopping once {budget:g} s are spent (never before
{minimum}); **n** is how many were.

- **p50 / p99**: request latency as the client sees it (nearest-rank percentiles).
- **req/s**: sequential throughput, 1 / mean latency (one request in flight, one process).
- **SQL/req**: statements the request issued (a `before_cursor_execute` listener; transaction
  control not counted).
- **floor p50**: the request's heaviest statement (longest while warming up), re-executed
  directly through the same engine with the same parameters, all rows fetched, on an open
  connection — what the database alone needs for the request's main query. Timed n times
  too (within the same budget), rotating through the variants' statements.
- **API/floor**: p50 over floor p50, measured in the same run: what the HTTP, GraphQL,
  ORM and session layers add.
- **full scans**: plan lines that read a whole `works`/`people`/`themes` table — SQLite
  `SCAN <table>` without `USING INDEX`/`USING COVERING INDEX`, PostgreSQL `Seq Scan on
  <table>`. Reported, never failed on. A sequential scan of the 300-row `themes` table is
  usually the planner's right choice; the ones that grow with the catalog are `works` and
  `people` (the plans show the rows each scan actually read on PostgreSQL). An `EXISTS`
  probe (P1's "is there a previous page") stops at its first row.
- **index walks**: plan lines that read an index of `works`/`people`/`themes` in order from
  one end with no condition on it, filtering row by row until the `LIMIT` is met — on a
  selective filter, the whole index: SQLite `SCAN <table> USING (COVERING) INDEX`,
  PostgreSQL an `Index Scan`/`Index Only Scan` on the table without an `Index Cond`.
  Not failures either, but where a filter or search is not driving the plan.

Plans: SQLite `EXPLAIN QUERY PLAN` of each distinct statement a workload issued, prepared with
its parameters bound as the app runs it; PostgreSQL `EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT)`
with the same parameters. The statements are shown with the parameter values written in.
"""


@dataclass(frozen=True)
class Run:
    started: datetime
    seconds: float
    command: str
    catalog: Catalog
    generate_seconds: float
    requests: int
    budget: float


def _tables(lines: list[str]) -> str:
    """The catalog tables named by plan lines, or "-"."""
    found = {m.group(1) for line in lines for m in [_SCANNED.search(line)] if m}
    return ", ".join(sorted(found)) or "-"


def full_scans(plans: list[Plan]) -> str:
    return _tables([line for plan in plans for line in plan.full_scans])


def index_walks(plans: list[Plan]) -> str:
    return _tables([line for plan in plans for line in plan.index_walks])


def _count(value: float) -> str:
    return f"{value:.0f}" if value == round(value) else f"{value:.2f}"


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{seconds:.1f} s"


def _catalog_line(run: Run) -> str:
    counts = run.catalog.counts()
    return (
        f"Synthetic, seed {run.catalog.seed}: {counts['works']:,} works, "
        f"{counts['people']:,} people, {counts['themes']:,} themes, "
        f"{counts['credits']:,} credits, {counts['work_themes']:,} theme tags, "
        f"{counts['work_alternative_titles']:,} alternative titles, "
        f"{counts['person_alternative_names']:,} alternative names "
        f"(generated in {run.generate_seconds:.1f} s; the most prolific directors have "
        + ", ".join(f"{n:,}" for _, n in run.catalog.directors_by_works[:5])
        + " works)."
    )


def _machine(env: Environment, results: list[DatabaseResult]) -> list[str]:
    lines = [
        "| | |",
        "|---|---|",
        f"| CPU | {env.cpu}, {env.cores} cores |",
        f"| Memory | {env.memory_gib:.1f} GiB |",
        f"| OS | {env.os} |",
        f"| Python | {env.python} |",
        f"| SQLite | {env.sqlite} |",
    ]
    for result in results:
        if result.name == "postgresql" and result.version:
            lines.append(f"| PostgreSQL | {result.version} |")
    packages = ", ".join(f"{name} {version}" for name, version in env.packages.items())
    lines.append(f"| Packages | {packages} |")
    lines.append(f"| Code | {env.revision} |")
    return lines


def _row(result: WorkloadResult, plans: list[Plan]) -> str:
    return (
        f"| {result.workload.key} | {result.workload.description} | {result.requests} "
        f"| {result.api.p50_ms:.2f} | {result.api.p99_ms:.2f} | {result.requests_per_second:.0f} "
        f"| {_count(result.statements_per_request)} | {result.floor.p50_ms:.2f} "
        f"| {result.ratio:.1f}x | {full_scans(plans)} | {index_walks(plans)} |"
    )


def _variants(result: WorkloadResult) -> list[str]:
    """Each variant's variables with its API and floor p50."""
    lines = ["| variables | API p50 ms | floor p50 ms |", "|---|--:|--:|"]
    for variant, (api, floor) in zip(result.workload.variants, result.per_variant, strict=True):
        shown = ", ".join(f"{k}: {_short(v)}" for k, v in variant.items()) or "(none)"
        lines.append(f"| {shown} | {api:.2f} | {floor:.2f} |")
    return lines


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


def _plans(result: WorkloadResult, plans: list[Plan]) -> list[str]:
    heaviest = {s.sql for s in result.heaviest}
    flags = []
    if full_scans(plans) != "-":
        flags.append(f"⚠ full scan of {full_scans(plans)}")
    if index_walks(plans) != "-":
        flags.append(f"index walk on {index_walks(plans)}")
    flag = "".join(f" — {f}" for f in flags)
    lines = [
        "<details>",
        f"<summary>{result.workload.key} · {result.workload.description} · "
        f"{len(plans)} distinct statements{flag}</summary>",
        "",
        f"GraphQL:\n\n```graphql\n{result.workload.query}\n```\n",
        "Variables in rotation:",
        "",
        *_variants(result),
        "",
    ]
    for number, plan in enumerate(plans, start=1):
        marks = [" (the heaviest: the floor re-runs it)"] if plan.statement.sql in heaviest else []
        if plan.full_scans:
            marks.append(" — ⚠ " + "; ".join(f"`{line}`" for line in plan.full_scans))
        if plan.index_walks:
            marks.append(" — index walk: " + "; ".join(f"`{line}`" for line in plan.index_walks))
        lines += [
            f"Statement {number}{''.join(marks)}:",
            "",
            f"```sql\n{inline(plan.statement)}\n```",
            "",
            "```",
            *plan.lines,
            "```",
            "",
        ]
    lines += ["</details>", ""]
    return lines


def _database(result: DatabaseResult) -> list[str]:
    lines = [f"## {result.label}", ""]
    if result.skipped:
        return [*lines, f"Not measured: {result.skipped}", ""]
    lines += [
        f"{result.label} {result.version}, schema at revision {result.revision}: migrated in "
        f"{result.migrate_seconds:.1f} s, catalog loaded in {result.load_seconds:.1f} s, "
        f"{'VACUUM (ANALYZE)' if result.name == 'postgresql' else 'ANALYZE'} in "
        f"{result.analyze_seconds:.1f} s.",
        "",
        "| workload | what | n | p50 ms | p99 ms | req/s | SQL/req | floor p50 ms | API/floor "
        "| full scans | index walks |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|---|---|",
        *(_row(measured, plans) for measured, plans in result.workloads),
        "",
        f"### {result.label} query plans",
        "",
    ]
    for measured, plans in result.workloads:
        lines += _plans(measured, plans)
    return lines


def markdown(run: Run, env: Environment, results: list[DatabaseResult]) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Measured {run.started:%Y-%m-%d %H:%M} UTC by `{run.command}` "
        f"(the whole run: {_duration(run.seconds)}). Regenerate with `.venv/bin/python -m "
        "bench`; see [README.md](README.md) for what is measured.",
        "",
        "## Machine and versions",
        "",
        *_machine(env, results),
        "",
        "## Catalog",
        "",
        _catalog_line(run),
        "",
        "## How to read the tables",
        "",
        EXPLANATION.format(requests=run.requests, budget=run.budget, minimum=MIN_REQUESTS),
    ]
    for result in results:
        lines += _database(result)
    return "\n".join(lines).rstrip() + "\n"


def summary(results: list[DatabaseResult]) -> str:
    header = (
        f"  {'':4}{'n':>4}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>7}{'SQL/req':>8}{'floor ms':>10}"
        f"{'ratio':>7}  full scans / index walks"
    )
    lines = []
    for result in results:
        if result.skipped:
            lines.append(f"{result.label}: not measured ({result.skipped})")
            continue
        lines += [
            f"{result.label} {result.version} (loaded in {result.load_seconds:.1f} s)",
            header,
        ]
        for measured, plans in result.workloads:
            lines.append(
                f"  {measured.workload.key:4}{measured.requests:4}"
                f"{measured.api.p50_ms:9.2f}{measured.api.p99_ms:9.2f}"
                f"{measured.requests_per_second:7.0f}{_count(measured.statements_per_request):>8}"
                f"{measured.floor.p50_ms:10.2f}{measured.ratio:6.1f}x  "
                + f"{full_scans(plans)} / {index_walks(plans)}"
            )
    return "\n".join(lines)


def now() -> datetime:
    return datetime.now(UTC)
