"""Issue #23's targets computed from a load run's results (``bench.load_targets``), on a small
hand-made run whose every ratio is known: each target's value and verdict, what is left out
and what is "not measured", and the section ``bench.load_report`` writes from them."""

from __future__ import annotations

import pytest

from bench import load_report
from bench.catalog import build_catalog
from bench.load import APP, COMPILED, FLOOR, Cell, Results, Scaling
from bench.load_targets import APP as TARGETS_APP
from bench.load_targets import COMPILED as TARGETS_COMPILED
from bench.load_targets import (
    EXPRESSIBLE_BY_POSTGRAPHILE,
    HOLDS,
    MISSES,
    NOT_MEASURED,
    Target,
    root_fields,
    targets,
)
from bench.load_targets import FLOOR as TARGETS_FLOOR
from bench.load_workloads import POSTGRAPHILE_V5, QUERIES, build_load_workloads
from bench.loadgen import Run

PG, LITE = "postgresql", "sqlite"
MAIN = "PostgreSQL, 100,000 works, 1 worker"


def run(rps: float, p50: float) -> Run:
    """A run of 10 s at ``rps`` requests per second with median latency ``p50`` ms."""
    return Run(
        requests=round(rps * 10),
        seconds=10.0,
        p50_ms=p50,
        p99_ms=p50 * 2,
        errors=0,
        graphql_errors=0,
        compiled=0,
        cache_hits=0,
        cpu_seconds=1.0,
        db_cpu_seconds=None,
    )


def cell(
    server: str,
    workload: str,
    rps: float,
    p50: float,
    *,
    database: str = PG,
    works: int = 100_000,
    workers: int = 1,
    statements: float | None = 1.0,
) -> Cell:
    return Cell(database, works, workers, server, workload, run(rps, p50), statements, "same")


def by_target(rows: list[Target]) -> dict[tuple[str, str], Target]:
    found = {(r.target, r.configuration): r for r in rows}
    assert len(found) == len(rows), "a target computed twice"
    return found


def results() -> Results:
    """PostgreSQL at 10,000 and 100,000 works (1 worker; 2 workers at 100,000 too), and
    SQLite at 100,000: the numbers of MEASURED.md's table, rounded, and some made up."""
    cells = [
        # W1: compiled 2,768 req/s against v5's 1,181 (2.34: holds); p50 2.68 against the
        # floor's 1.80 (1.49: holds)
        cell(COMPILED, "W1", 2768, 2.68),
        cell(APP, "W1", 184, 38.6, statements=3.0),
        cell(POSTGRAPHILE_V5, "W1", 1181, 6.30, statements=None),
        cell(FLOOR, "W1", 4075, 1.80),
        # W2: 762 against 445 (1.71: misses); 10.07 against 7.14 (1.41: holds)
        cell(COMPILED, "W2", 762, 10.07),
        cell(POSTGRAPHILE_V5, "W2", 445, 17.55, statements=None),
        cell(FLOOR, "W2", 1104, 7.14),
        # W3: v5 not measured; p50 exactly 1.5 the floor's (holds); 2 statements (misses)
        cell(COMPILED, "W3", 207, 39.0, statements=2.0),
        cell(FLOOR, "W3", 300, 26.0),
        # W4: search, which v5 cannot express: no v5 row even though measured
        cell(COMPILED, "W4", 298, 20.1),
        cell(FLOOR, "W4", 400, 10.0),
        # W6: not compiled, the resolver path's p50 62.1 is 6.17 W2's 10.07 (misses) and
        # 2.07 the floor's 30.0 (misses)
        cell(APP, "W6", 122, 62.1, statements=5.0),
        cell(FLOOR, "W6", 200, 30.0),
        # W8: 2,293 against v5's 1,000 (2.29: holds); no floor row
        cell(COMPILED, "W8", 2293, 3.27),
        cell(POSTGRAPHILE_V5, "W8", 1000, 7.0, statements=None),
        # W11: 25.0 is 2.48 W2's (holds)
        cell(COMPILED, "W11", 40, 25.0),
        cell(FLOOR, "W11", 20, 50.0),
        # 2 workers: not the targets' configuration, never read
        cell(COMPILED, "W2", 1, 1000.0, workers=2),
        cell(POSTGRAPHILE_V5, "W2", 10_000, 1.0, workers=2, statements=None),
        # 10,000 works: W3 1 statement there (not the same), and no side-by-side rounds of
        # its compiled path (not measured); W1's runs say +50%, W11's +8.7%, but runs minutes
        # apart are not what the p50 change is judged by (its rounds below)
        cell(COMPILED, "W1", 3000, 1.79, works=10_000),
        cell(COMPILED, "W2", 900, 8.0, works=10_000),
        cell(COMPILED, "W3", 300, 30.0, works=10_000, statements=1.0),
        cell(COMPILED, "W11", 50, 23.0, works=10_000),
        # SQLite at 100,000 works: W6 compiled 12.0 is 1.2 W2's 10.0 (holds); W11 35.0 is
        # 3.5 (misses)
        cell(COMPILED, "W2", 900, 10.0, database=LITE),
        cell(COMPILED, "W6", 80, 12.0, database=LITE),
        cell(COMPILED, "W11", 30, 35.0, database=LITE),
    ]
    # the side-by-side rounds (10,000 → 100,000 works), all the p50 change targets read
    scaling = [
        # W1: rounds' changes +5%, +8%, +30%: median +8% (holds), whatever its runs say
        side_by_side("W1", [(2.0, 2.1), (2.0, 2.16), (2.0, 2.6)]),
        # W2: +25%, +30%, +10%: median +25% (misses)
        side_by_side("W2", [(8.0, 10.0), (8.0, 10.4), (8.0, 8.8)]),
        # W11: +21%, -50%, +21%, +30%: median +21%, just over +20% (misses), whatever one
        # round's -50%
        side_by_side("W11", [(20.0, 24.2), (20.0, 10.0), (20.0, 24.2), (20.0, 26.0)]),
        # the floor's rounds, and SQLite's, are not the compiled path on PostgreSQL
        side_by_side("W3", [(30.0, 30.0)], server=FLOOR),
        side_by_side("W3", [(30.0, 30.0)], database=LITE),
    ]
    return Results(cells=cells, scaling=scaling)


def side_by_side(
    workload: str,
    p50s: list[tuple[float, float]],
    *,
    server: str = COMPILED,
    database: str = PG,
) -> Scaling:
    """Side-by-side rounds of ``workload``: each round's p50 at 10,000 and 100,000 works."""
    row = Scaling(database, server, workload, 10_000, 100_000)
    row.rounds = [(run(100, a), run(100, b)) for a, b in p50s]
    return row


def test_the_server_names_are_bench_loads() -> None:
    assert (TARGETS_APP, TARGETS_COMPILED, TARGETS_FLOOR) == (APP, COMPILED, FLOOR)


def test_postgraphile_expresses_the_workloads_given_peers() -> None:
    workloads = build_load_workloads(build_catalog(10))
    assert {w.key for w in workloads if w.peers} == EXPRESSIBLE_BY_POSTGRAPHILE


def test_root_fields_are_counted() -> None:
    assert all(root_fields(query) == 1 for query in QUERIES.values())
    assert root_fields("query { a { b } c: a { b } }") == 2


def test_the_app_against_postgraphile_v5() -> None:
    rows = by_target(targets(results()))
    w1 = rows[("W1 compiled ÷ PostGraphile v5 req/s", MAIN)]
    assert (w1.value, w1.verdict) == (pytest.approx(2768 / 1181), HOLDS)
    w2 = rows[("W2 compiled ÷ PostGraphile v5 req/s", MAIN)]
    assert (w2.value, w2.verdict) == (pytest.approx(762 / 445), MISSES)
    assert w2.line() == "W2 compiled ÷ PostGraphile v5 req/s: 1.71 (762 ÷ 445 req/s) (≥ 2): misses"
    w3 = rows[("W3 compiled ÷ PostGraphile v5 req/s", MAIN)]
    assert (w3.value, w3.verdict, w3.measured) == (
        None,
        NOT_MEASURED,
        "not measured: PostGraphile v5",
    )
    assert w3.line() == "W3 compiled ÷ PostGraphile v5 req/s (≥ 2): not measured: PostGraphile v5"
    assert rows[("W8 compiled ÷ PostGraphile v5 req/s", MAIN)].verdict == HOLDS
    # W4 is a search: no target against v5; W6, W11 are not among the workloads compared
    assert not [r for r in rows if "PostGraphile" in r[0] and r[0][:3] in ("W4 ", "W6 ", "W11")]


def test_the_app_against_the_floor() -> None:
    rows = by_target(targets(results()))
    w1 = rows[("W1 compiled p50 ÷ floor p50", MAIN)]
    assert (w1.value, w1.verdict) == (pytest.approx(2.68 / 1.80), HOLDS)
    assert w1.measured == "1.49 (2.68 ÷ 1.80 ms)" and w1.limit == "≤ 1.5"
    assert rows[("W3 compiled p50 ÷ floor p50", MAIN)].verdict == HOLDS  # exactly 1.5
    w6 = rows[("W6 resolver path p50 ÷ floor p50", MAIN)]  # not compiled: the resolvers
    assert (w6.value, w6.verdict) == (pytest.approx(62.1 / 30.0), MISSES)
    assert rows[("W11 compiled p50 ÷ floor p50", MAIN)].verdict == HOLDS
    w8 = rows[("W8 compiled p50 ÷ floor p50", MAIN)]
    assert (w8.verdict, w8.measured) == (NOT_MEASURED, "not measured: the floor")


def test_search_and_facets_against_w2_on_both_databases() -> None:
    rows = by_target(targets(results()))
    lite = "SQLite, 100,000 works, 1 worker"
    search = rows[("search (W6) resolver path p50 ÷ W2 compiled p50", MAIN)]
    assert (search.value, search.verdict, search.limit) == (
        pytest.approx(62.1 / 10.07),
        MISSES,
        "≤ 1.5",
    )
    facets = rows[("whole-catalog facets (W11) compiled p50 ÷ W2 compiled p50", MAIN)]
    assert (facets.value, facets.verdict, facets.limit) == (
        pytest.approx(25.0 / 10.07),
        HOLDS,
        "≤ 3",
    )
    assert rows[("search (W6) compiled p50 ÷ W2 compiled p50", lite)].verdict == HOLDS
    lite_facets = rows[("whole-catalog facets (W11) compiled p50 ÷ W2 compiled p50", lite)]
    assert (lite_facets.value, lite_facets.verdict) == (pytest.approx(3.5), MISSES)


def test_statements_and_growth_of_each_compiled_workload() -> None:
    rows = by_target(targets(results()))
    span = "10,000 → 100,000 works"
    assert rows[("W2 compiled SQL/req", MAIN)].verdict == HOLDS
    w3 = rows[("W3 compiled SQL/req", MAIN)]
    assert (w3.value, w3.verdict, w3.limit) == (2.0, MISSES, "= 1 (1 root field)")
    w3_sizes = rows[(f"W3 compiled SQL/req, {span}", MAIN)]
    assert (w3_sizes.measured, w3_sizes.verdict) == ("1 → 2", MISSES)
    assert rows[(f"W2 compiled SQL/req, {span}", MAIN)].verdict == HOLDS
    w2 = rows[(f"W2 compiled p50 change, {span}", MAIN)]
    assert (w2.value, w2.verdict) == (pytest.approx(0.25), MISSES)
    assert w2.measured == "+25% (side by side, median of 3 rounds)"
    w1 = rows[(f"W1 compiled p50 change, {span}", MAIN)]  # the side-by-side rounds, not +50%
    assert (w1.value, w1.verdict) == (pytest.approx(0.08), HOLDS)
    assert w1.measured == "+8% (side by side, median of 3 rounds)"
    w11 = rows[(f"W11 compiled p50 change, {span}", MAIN)]
    assert (w11.value, w11.verdict, w11.limit) == (pytest.approx(0.21), MISSES, "< +20%")
    assert w11.measured == "+21% (side by side, median of 4 rounds)"
    # W3 was measured at both sizes, minutes apart, but not side by side: not measured (its
    # floor's rounds and SQLite's are not its compiled path's on PostgreSQL)
    w3_change = rows[(f"W3 compiled p50 change, {span}", MAIN)]
    assert (w3_change.value, w3_change.verdict, w3_change.measured) == (
        None,
        NOT_MEASURED,
        "not measured: no side-by-side rounds",
    )
    w8 = rows[(f"W8 compiled p50 change, {span}", MAIN)]  # not measured at 10,000
    assert (w8.verdict, w8.measured) == (NOT_MEASURED, "not measured: 10,000 works")
    # W6 is not compiled on PostgreSQL: no statement target there
    assert not [r for r in rows if r[0].startswith("W6 compiled SQL")]
    # SQLite has no statement or growth rows
    assert all(r.configuration == MAIN for r in rows.values() if "SQL/req" in r.target)


def test_only_what_the_run_measured_appears() -> None:
    only_w2 = Results(
        cells=[cell(COMPILED, "W2", 762, 10.07), cell(FLOOR, "W2", 1104, 7.14)],
    )
    rows = targets(only_w2)
    assert {r.target for r in rows} == {
        "W2 compiled ÷ PostGraphile v5 req/s",
        "W2 compiled p50 ÷ floor p50",
        "W2 compiled SQL/req",
        "W2 compiled SQL/req, 10,000 → 100,000 works",
        "W2 compiled p50 change, 10,000 → 100,000 works",
    }
    assert [r.verdict for r in rows] == [NOT_MEASURED, HOLDS, HOLDS, NOT_MEASURED, NOT_MEASURED]
    assert rows[-1].measured == "not measured: one catalog size in the run"
    assert targets(Results()) == []


def test_a_run_without_100000_works_is_judged_at_its_largest_catalog() -> None:
    quick = Results(
        cells=[
            cell(COMPILED, "W2", 762, 2.0, works=10_000),
            cell(COMPILED, "W11", 100, 5.0, works=10_000),
        ]
    )
    (facets,) = [r for r in targets(quick) if r.target.startswith("whole-catalog")]
    assert facets.configuration == "PostgreSQL, 10,000 works, 1 worker"
    assert (facets.value, facets.verdict) == (2.5, HOLDS)
    section = "\n".join(load_report._targets(quick))
    assert "no 100,000-work catalog for some databases" in section
    assert "(PostgreSQL 10,000 works)" in section


def test_the_report_has_a_row_per_target() -> None:
    section = load_report._targets(results())
    assert (
        "| W2 compiled ÷ PostGraphile v5 req/s | PostgreSQL, 100,000 works, 1 worker | "
        "1.71 (762 ÷ 445 req/s) | ≥ 2 | **misses** |"
    ) in section
    rows = targets(results())
    table = [line for line in section if line.startswith("|")]
    assert len(table) == 2 + len(rows)  # the header, its rule and a row per target
    assert "no 100,000-work catalog" not in "\n".join(section)
    counts = section[-1]
    assert counts == (
        f"holds: {sum(r.verdict == HOLDS for r in rows)}, "
        f"misses: {sum(r.verdict == MISSES for r in rows)}, "
        f"not measured: {sum(r.verdict == NOT_MEASURED for r in rows)}."
    )
