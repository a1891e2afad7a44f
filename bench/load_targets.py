"""Issue #23's targets, computed from one ``bench.load`` run's results (``load_report`` writes
them as the section "Issue #23's targets").

The targets, on PostgreSQL with 100,000 works and 1 worker, uncached:

- W1-W4 and W8 (a work's page): the app's req/s at least ``PEER_FACTOR`` times PostGraphile v5's,
  where v5 can express the workload (``EXPRESSIBLE_BY_POSTGRAPHILE``: not W4, a search);
- every workload with a floor: the app's p50 within ``FLOOR_FACTOR`` times the floor's;
- the app's p50 of search (W6) within ``RELATIVE_TO_W2["W6"]`` times W2's compiled p50, and
  of the whole catalog's facets (W11) within ``RELATIVE_TO_W2["W11"]`` times (SQLite beside);
- every compiled workload: as many SQL statements per request as its operation has root
  fields, the same number at 10,000 and 100,000 works, and its p50 less than
  ``GROWTH_LIMIT`` higher at 100,000 than at 10,000, measured side by side (both catalogs
  served at once, alternating rounds: ``bench.load.measure_scaling``), never from runs made
  minutes apart.

"The app" is its compiled path where that answered every variant of the workload, else its
resolver path (the row says which). A target whose subject was not measured in the run has no
row; a row whose other inputs are missing says "not measured". Without a 100,000-work catalog
in the run the rows are computed at the largest one measured, and say so.
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import graphql

from bench.load_workloads import EXPRESSIBLE_BY_POSTGRAPHILE, POSTGRAPHILE_V5, QUERIES
from bench.run import LABELS

if TYPE_CHECKING:
    from bench.load import Cell, Results

# bench.load's server names (it imports this module's caller: no import back)
APP, COMPILED, FLOOR = "app", "app (compiled)", "floor"

TARGET_DATABASE = "postgresql"
TARGET_WORKS = 100_000
TARGET_WORKERS = 1
SMALL_WORKS = 10_000  # the scaling targets: from this catalog to TARGET_WORKS

PEER_FACTOR = 2.0
PEER_WORKLOADS = ("W1", "W2", "W3", "W4", "W8")
FLOOR_FACTOR = 1.5
RELATIVE_TO_W2 = {"W6": 1.5, "W11": 3.0}  # search, whole-catalog facets: p50 ÷ W2 compiled p50
RELATIVE_NAMES = {"W6": "search (W6)", "W11": "whole-catalog facets (W11)"}
GROWTH_LIMIT = 0.20

HOLDS, MISSES, NOT_MEASURED = "holds", "misses", "not measured"
VERDICTS = (HOLDS, MISSES, NOT_MEASURED)


@dataclass(frozen=True)
class Target:
    """One target in one configuration: what was measured against what limit."""

    target: str  # e.g. "W2 compiled ÷ PostGraphile v5 req/s"
    configuration: str  # e.g. "PostgreSQL, 100,000 works, 1 worker"
    value: float | None  # the measured ratio, change or count (None: not measured)
    measured: str  # the value as shown, with its inputs, or what was not measured
    limit: str  # e.g. "≥ 2"
    verdict: str  # HOLDS, MISSES or NOT_MEASURED

    def line(self) -> str:
        """``W2 compiled ÷ PostGraphile v5 req/s: 1.71 (762 ÷ 445 req/s) (≥ 2): misses``, for
        stdout."""
        if self.verdict == NOT_MEASURED:
            return f"{self.target} ({self.limit}): {self.measured}"
        return f"{self.target}: {self.measured} ({self.limit}): {self.verdict}"


@functools.cache
def root_fields(query: str) -> int:
    """How many root fields a GraphQL document's operations select."""
    document = graphql.parse(query)
    operations = [d for d in document.definitions if isinstance(d, graphql.OperationDefinitionNode)]
    return sum(len(o.selection_set.selections) for o in operations)


def _limit(value: float) -> str:
    return f"{value:g}"


def _configuration(database: str, works: int, workers: int) -> str:
    return f"{LABELS[database]}, {works:,} works, {workers} worker{'s' if workers > 1 else ''}"


class _Cells:
    def __init__(self, cells: Iterable[Cell]) -> None:
        self.by_key = {(c.database, c.works, c.workers, c.server, c.workload): c for c in cells}

    def get(self, config: tuple[str, int, int], server: str, workload: str) -> Cell | None:
        return self.by_key.get((*config, server, workload))

    def app(self, config: tuple[str, int, int], workload: str) -> tuple[Cell | None, str]:
        """The app as served: its compiled path if measured, else its resolver path."""
        compiled = self.get(config, COMPILED, workload)
        if compiled is not None:
            return compiled, "compiled"
        return self.get(config, APP, workload), "resolver path"


def _ratio_target(
    target: str,
    configuration: str,
    ours: float | None,
    theirs: float | None,
    names: tuple[str, str],
    unit: str,
    limit: float,
    at_least: bool,
) -> Target:
    """``ours ÷ theirs`` against ``limit`` (at least it, or at most it); None: not measured,
    ``names`` say what each side is."""
    bound = f"{'≥' if at_least else '≤'} {_limit(limit)}"
    if ours is None or theirs is None or not theirs:
        missing = [
            name if value is None else f"{name} (0 {unit})"
            for value, name in zip((ours, theirs), names, strict=True)
            if not value
        ]
        shown = f"not measured: {', '.join(missing)}"
        return Target(target, configuration, None, shown, bound, NOT_MEASURED)
    value = ours / theirs
    holds = value >= limit if at_least else value <= limit
    digits = 0 if unit == "req/s" else 2
    shown = f"{value:.2f} ({ours:,.{digits}f} ÷ {theirs:,.{digits}f} {unit})"
    return Target(target, configuration, value, shown, bound, HOLDS if holds else MISSES)


def _sizes(results: Results, database: str) -> list[int]:
    return sorted({c.works for c in results.cells if c.database == database})


def _evaluated_size(results: Results, database: str) -> int | None:
    """TARGET_WORKS if the run measured it on ``database``, else its largest catalog."""
    sizes = _sizes(results, database)
    if not sizes:
        return None
    return TARGET_WORKS if TARGET_WORKS in sizes else sizes[-1]


def smaller_than_targets(results: Results) -> dict[str, int]:
    """The databases whose rows are computed at a catalog other than TARGET_WORKS (the run
    measured none), with the catalog they are computed at."""
    sizes = {database: _evaluated_size(results, database) for database in LABELS}
    return {d: n for d, n in sizes.items() if n is not None and n != TARGET_WORKS}


def _workloads(cells: _Cells, config: tuple[str, int, int]) -> list[str]:
    keys = {key[4] for key in cells.by_key if key[:3] == config}
    return [k for k in QUERIES if k in keys]


def peer_targets(cells: _Cells, config: tuple[str, int, int]) -> list[Target]:
    where = _configuration(*config)
    out = []
    measured = _workloads(cells, config)
    for workload in PEER_WORKLOADS:
        if workload not in EXPRESSIBLE_BY_POSTGRAPHILE or workload not in measured:
            continue
        app, path = cells.app(config, workload)
        peer = cells.get(config, POSTGRAPHILE_V5, workload)
        target = _ratio_target(
            f"{workload} {path} ÷ PostGraphile v5 req/s",
            where,
            None if app is None else app.run.requests_per_second,
            None if peer is None else peer.run.requests_per_second,
            ("the app", "PostGraphile v5"),
            "req/s",
            PEER_FACTOR,
            at_least=True,
        )
        out.append(target)
    return out


def floor_targets(cells: _Cells, config: tuple[str, int, int]) -> list[Target]:
    where = _configuration(*config)
    out = []
    for workload in _workloads(cells, config):
        app, path = cells.app(config, workload)
        floor = cells.get(config, FLOOR, workload)
        target = _ratio_target(
            f"{workload} {path} p50 ÷ floor p50",
            where,
            None if app is None else app.run.p50_ms,
            None if floor is None else floor.run.p50_ms,
            ("the app", "the floor"),
            "ms",
            FLOOR_FACTOR,
            at_least=False,
        )
        out.append(target)
    return out


def relative_targets(cells: _Cells, config: tuple[str, int, int]) -> list[Target]:
    where = _configuration(*config)
    out = []
    measured = _workloads(cells, config)
    w2 = cells.get(config, COMPILED, "W2")
    for workload, limit in RELATIVE_TO_W2.items():
        if workload not in measured:
            continue
        app, path = cells.app(config, workload)
        target = _ratio_target(
            f"{RELATIVE_NAMES[workload]} {path} p50 ÷ W2 compiled p50",
            where,
            None if app is None else app.run.p50_ms,
            None if w2 is None else w2.run.p50_ms,
            (f"the app's {workload}", "W2 compiled"),
            "ms",
            limit,
            at_least=False,
        )
        out.append(target)
    return out


def _statements(cells: _Cells, database: str, works: int, workload: str) -> float | None:
    """The compiled path's statements per request (counted once per database and catalog,
    whatever the workers): from any worker count's row, 1 worker's first."""
    rows = [
        c
        for (d, n, _w, s, k), c in sorted(cells.by_key.items(), key=lambda item: item[0][2])
        if (d, n, s, k) == (database, works, COMPILED, workload)
    ]
    return next((c.statements for c in rows if c.statements is not None), None)


def _p50_change(
    results: Results, database: str, small: int, large: int, workload: str
) -> tuple[float, int] | None:
    """The compiled path's p50 change from ``small`` to ``large`` works, the median of the
    side-by-side rounds' changes (``bench.load.measure_scaling``), and how many rounds; None
    without them. Two runs minutes apart are no measure of it: this machine's speed drifts by
    tens of percent over minutes (bench/README.md)."""
    for row in results.scaling:
        if (row.database, row.server, row.workload, row.small, row.large) == (
            database,
            COMPILED,
            workload,
            small,
            large,
        ) and row.rounds:
            change = statistics.median(b.p50_ms / a.p50_ms - 1 for a, b in row.rounds)
            return change, len(row.rounds)
    return None


def _count(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


def _judged(
    target: str, where: str, value: float | None, shown: str, limit: str, holds: bool
) -> Target:
    if value is None:
        return Target(target, where, None, f"not measured: {shown}", limit, NOT_MEASURED)
    return Target(target, where, value, shown, limit, HOLDS if holds else MISSES)


def scaling_targets(results: Results, cells: _Cells, database: str, large: int) -> list[Target]:
    """Per compiled workload: statements per request against its root fields, and from the
    smaller catalog (SMALL_WORKS if measured) to ``large`` the statements and the p50."""
    sizes = _sizes(results, database)
    small = SMALL_WORKS if SMALL_WORKS in sizes else sizes[0]
    compiled = [
        k
        for k in QUERIES
        if any(key[0] == database and key[3:] == (COMPILED, k) for key in cells.by_key)
    ]
    where = _configuration(database, large, TARGET_WORKERS)
    # with one catalog size, the span the target is about
    span = (
        f"{small:,} → {large:,} works"
        if small != large
        else f"{SMALL_WORKS:,} → {TARGET_WORKS:,} works"
    )
    out = []
    for workload in compiled:
        roots = root_fields(QUERIES[workload])
        at_large = _statements(cells, database, large, workload)
        at_small = _statements(cells, database, small, workload) if small != large else None
        change = _p50_change(results, database, small, large, workload) if small != large else None
        lacking = (
            "one catalog size in the run"
            if small == large
            else f"{large if at_large is None else small:,} works"
        )
        out.append(
            _judged(
                f"{workload} compiled SQL/req",
                where,
                at_large,
                f"{large:,} works" if at_large is None else _count(at_large),
                f"= {roots} ({roots} root field{'s' if roots > 1 else ''})",
                at_large == roots,
            )
        )
        both = None if at_small is None or at_large is None else at_large - at_small
        out.append(
            _judged(
                f"{workload} compiled SQL/req, {span}",
                where,
                both,
                lacking if both is None else f"{_count(at_small or 0)} → {_count(at_large or 0)}",
                "the same at both",
                both == 0,
            )
        )
        if change is not None:
            shown = f"{change[0]:+.0%} (side by side, median of {change[1]} rounds)"
        else:
            # both sizes measured, but not side by side (e.g. a run that stopped early)
            shown = lacking if both is None else "no side-by-side rounds"
        out.append(
            _judged(
                f"{workload} compiled p50 change, {span}",
                where,
                None if change is None else change[0],
                shown,
                f"< {GROWTH_LIMIT:+.0%}",
                change is not None and change[0] < GROWTH_LIMIT,
            )
        )
    return out


def targets(results: Results) -> list[Target]:
    """Every target the run measured anything of, in the section's order."""
    cells = _Cells(results.cells)
    out: list[Target] = []
    large = _evaluated_size(results, TARGET_DATABASE)
    main = None if large is None else (TARGET_DATABASE, large, TARGET_WORKERS)
    if main is not None:
        out += peer_targets(cells, main)
        out += floor_targets(cells, main)
    for database in (TARGET_DATABASE, "sqlite"):
        size = _evaluated_size(results, database)
        if size is not None:
            out += relative_targets(cells, (database, size, TARGET_WORKERS))
    if large is not None:
        out += scaling_targets(results, cells, TARGET_DATABASE, large)
    return out
