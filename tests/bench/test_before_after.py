"""bench.before_after: the medians, ratios and summary of runs taken in alternation."""

from __future__ import annotations

import math

from bench.before_after import Pair, summary
from bench.loadgen import Run


def _run(requests: int, p50: float) -> Run:
    return Run(requests, 2.0, p50, p50 * 3, 0, 0, 0, 0, 1.0, None)


def test_each_side_is_the_median_of_its_rounds_and_the_ratio_is_new_over_old() -> None:
    pair = Pair("postgresql", 10_000, 1, "compiled", "W2")
    pair.old = [_run(2000, 5.0), _run(1000, 9.0), _run(2200, 4.0)]  # one noisy round
    pair.new = [_run(2400, 4.0), _run(2600, 3.5), _run(2300, 4.5)]
    assert pair.median("old", "rps") == 1000.0 and pair.median("new", "rps") == 1200.0
    assert pair.rps_ratio == 1.2
    assert pair.p50_ratio == 4.0 / 5.0
    assert round(pair.spread("old"), 2) == 1.2  # 2200 / 1000 - 1


def test_a_side_that_completed_nothing_gives_no_ratio_rather_than_a_fault() -> None:
    pair = Pair("sqlite", 10_000, 1, "resolver", "W3", old=[_run(0, 0.0)], new=[_run(4, 900.0)])
    assert math.isnan(pair.rps_ratio) and math.isnan(pair.p50_ratio)


def test_the_summary_gives_each_path_and_workload_its_median_and_worst_ratio() -> None:
    pairs = []
    for workers, new_requests in ((1, 1100), (2, 900), (1, 1000)):
        pair = Pair("sqlite", 10_000, workers, "compiled", "W1")
        pair.old, pair.new = [_run(1000, 2.0)], [_run(new_requests, 2.0)]
        pairs.append(pair)
    lines = summary(pairs)
    row = next(line for line in lines if line.startswith("| compiled | W1 |"))
    assert row == "| compiled | W1 | 3 | 1.00 | 0.90 | 1.00 | 1.00 | 1.00 | 1.11 |"


def _on(requests: int, workers_cpu: tuple[float, ...]) -> Run:
    return Run(requests, 2.0, 5.0, 15.0, 0, 0, 0, 0, sum(workers_cpu), None, 0, workers_cpu)


def test_a_run_whose_connections_all_went_to_one_worker_is_left_out_of_the_medians() -> None:
    pair = Pair("postgresql", 10_000, 2, "resolver", "W3")
    # the supervisor (no CPU) is among the processes; one run of each side was on one worker
    pair.old = [_on(40, (1.9, 1.8, 0.0)), _on(22, (1.9, 0.2, 0.0)), _on(38, (1.8, 1.7, 0.0))]
    pair.new = [_on(22, (1.9, 0.1, 0.0)), _on(42, (1.9, 1.9, 0.0)), _on(40, (1.9, 1.8, 0.0))]
    assert (pair.unbalanced("old"), pair.unbalanced("new")) == (1, 1)
    assert pair.median("old", "rps") == 19.5 and pair.median("new", "rps") == 20.5
    assert [r.balance(2) for r in pair.runs("new")] == [1.0, 1.8 / 1.9]
    # one worker: every run counts, whatever the processes did
    single = Pair("postgresql", 10_000, 1, "resolver", "W3", old=pair.old, new=pair.new)
    assert single.median("old", "rps") == 19.0 and single.unbalanced("new") == 0


def test_when_a_side_has_no_balanced_run_every_run_counts() -> None:
    pair = Pair("sqlite", 10_000, 2, "compiled", "W4")
    pair.old = [_on(22, (1.9, 0.2)), _on(24, (1.9, 0.1))]
    pair.new = [_on(40, (1.9, 1.8)), _on(26, (1.9, 0.2))]
    assert pair.runs("new") == pair.new and pair.median("new", "rps") == 16.5
