"""bench.load's command line, and which workloads a run measures side by side."""

from __future__ import annotations

import pytest

from bench.load import COMPILED, FLOOR, WORKLOADS, Cell, Results, parse_args, scaling_keys
from bench.loadgen import Run


def test_every_workload_runs_unless_some_are_named() -> None:
    assert parse_args([]).workloads == list(WORKLOADS)
    assert WORKLOADS[0] == "W1" and WORKLOADS[-1] == "W11"
    assert parse_args(["--workloads", "w6, W8"]).workloads == ["W6", "W8"]


def test_an_unknown_workload_is_refused() -> None:
    with pytest.raises(SystemExit):
        parse_args(["--workloads", "W1,W12"])


def _compiled(database: str, works: int, *workloads: str) -> list[Cell]:
    run = Run(1, 1.0, 1.0, 1.0, 0, 0, 1, 0, 1.0, None)
    return [Cell(database, works, 1, COMPILED, w, run, 1.0, "same") for w in workloads]


def test_every_compiled_workload_runs_side_by_side_on_postgresql() -> None:
    """Issue #23 judges each compiled workload's growth side by side on PostgreSQL: there the
    compiled path runs every workload it answered at both sizes; the floor, and SQLite, W1-W3."""
    kept = list(WORKLOADS)
    results = Results(
        cells=[
            *_compiled("postgresql", 10_000, "W1", "W2", "W3", "W4", "W9", "W11"),
            *_compiled("postgresql", 100_000, "W1", "W2", "W3", "W4", "W9", "W10"),
            *_compiled("sqlite", 10_000, *WORKLOADS),
            *_compiled("sqlite", 100_000, *WORKLOADS),
        ]
    )

    def keys(database: str, server: str, kept: list[str] = kept) -> list[str]:
        return scaling_keys(database, server, kept, results, 10_000, 100_000)

    # W10 and W11 were compiled at one size only: not compared
    assert keys("postgresql", COMPILED) == ["W1", "W2", "W3", "W4", "W9"]
    assert keys("postgresql", FLOOR) == ["W1", "W2", "W3"]
    assert keys("sqlite", COMPILED) == keys("sqlite", FLOOR) == ["W1", "W2", "W3"]
    # only what --workloads kept
    assert keys("postgresql", COMPILED, ["W9", "W2"]) == ["W2", "W9"]
    assert keys("postgresql", FLOOR, ["W9"]) == []
