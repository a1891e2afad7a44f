"""bench.load's command line: which workloads a run measures."""

from __future__ import annotations

import pytest

from bench.load import WORKLOADS, parse_args


def test_every_workload_runs_unless_some_are_named() -> None:
    assert parse_args([]).workloads == list(WORKLOADS)
    assert WORKLOADS[0] == "W1" and WORKLOADS[-1] == "W11"
    assert parse_args(["--workloads", "w6, W8"]).workloads == ["W6", "W8"]


def test_an_unknown_workload_is_refused() -> None:
    with pytest.raises(SystemExit):
        parse_args(["--workloads", "W1,W12"])
