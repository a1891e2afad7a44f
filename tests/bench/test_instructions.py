"""bench.instructions: callgrind's dumps cut per workload, the ratios, and the runner that
serves each checkout's app in-process (run here on this checkout, without valgrind)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.instructions import RUNNER, Count, measured_parts

SEA_OF_BLOOD = """query W1($slug: String!) {
  work(slug: $slug) { slug title year directors { name } themes { name } }
}"""


def _dump(directory: Path, stem: str, part: int, total: int) -> None:
    (directory / f"{stem}.{part}").write_text(
        f"version: 1\ncreator: callgrind\npart: {part}\nevents: Ir\nsummary: {total}\n"
        f"totals: {total}\n",
        encoding="utf-8",
    )


def test_each_workload_is_the_part_between_its_two_markers(tmp_path: Path) -> None:
    # part 1: start-up to the first marker; 2: workload 1; 3: workload 2's warm-up; 4: it
    for part, total in ((1, 9_000), (2, 400), (3, 7_000), (4, 1_200)):
        _dump(tmp_path, "run.cg", part, total)
    (tmp_path / "run.cg").write_text("totals: 55\n", encoding="utf-8")  # exit: not a part
    assert measured_parts(tmp_path, "run.cg", 2) == [400, 1_200]


def test_a_stray_marker_is_an_error_not_a_shifted_count(tmp_path: Path) -> None:
    for part in (1, 2, 3):
        _dump(tmp_path, "run.cg", part, 100)
    with pytest.raises(RuntimeError, match="3 dumps for 1 workloads"):
        measured_parts(tmp_path, "run.cg", 1)


def test_ratios_are_new_over_old_of_counts_and_of_median_cpu() -> None:
    count = Count("sqlite", 10_000, "resolver", "W2")
    count.instructions = {"old": 100e6, "new": 97e6}
    count.app_cpu_ms = {"old": [20.0, 30.0, 21.0], "new": [19.0, 18.0, 40.0]}
    assert count.ratio("instructions") == pytest.approx(0.97)
    assert count.ratio("app_cpu_ms") == pytest.approx(19.0 / 21.0)
    assert math.isnan(count.ratio("database_cpu_ms"))  # SQLite: none measured


@pytest.mark.parametrize("compiled", [False, True], ids=["resolver", "compiled"])
def test_the_runner_serves_this_checkouts_app_and_reports_each_workload(
    catalog_url: str, tmp_path: Path, compiled: bool
) -> None:
    spec = {
        "warmup": 2,
        "requests": 5,
        "workloads": [
            {"key": "W1", "query": SEA_OF_BLOOD, "variants": [{"slug": "sea-of-blood"}]},
        ],
    }
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    env = dict(
        os.environ,
        DATABASE_URL=catalog_url,
        NKCINEMA_COMPILED="1" if compiled else "0",
        NKCINEMA_RESPONSE_CACHE_ENTRIES="0",
    )
    project = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, str(RUNNER), str(spec_path)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (result,) = json.loads(done.stdout.strip().splitlines()[-1])["workloads"]
    assert result["key"] == "W1" and result["cpu_seconds"] > 0
    assert result["database_cpu_seconds"] >= 0
    assert (result["executions"] == ["compiled"]) is compiled


def test_the_runner_refuses_a_workload_that_answers_with_errors(
    catalog_url: str, tmp_path: Path
) -> None:
    spec = {
        "warmup": 0,
        "requests": 1,
        "workloads": [{"key": "X", "query": "{ nope }", "variants": [{}]}],
    }
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(RUNNER), str(spec_path)],
        cwd=Path(__file__).resolve().parents[2],
        env=dict(os.environ, DATABASE_URL=catalog_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0 and "X:" in done.stderr
