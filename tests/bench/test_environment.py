"""The benchmark reports name the code they measured: the commit, and whether the work tree
differed from it outside bench/ (where the results themselves are written)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bench.environment import _revision


def git(directory: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "results.md").write_text("old\n")
    (tmp_path / "app.py").write_text("x = 1\n")
    git(tmp_path, "init", "--quiet")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "--quiet", "-m", "first")
    return tmp_path


def test_a_clean_checkout_is_its_commit(checkout: Path) -> None:
    assert _revision(checkout) == git(checkout, "rev-parse", "--short", "HEAD")


def test_rewritten_results_in_bench_do_not_count_as_changed_code(checkout: Path) -> None:
    # The first status line starts with a space (" M bench/results.md"): it must not lose
    # it and be read as a file outside bench/.
    (checkout / "bench" / "results.md").write_text("new\n")
    assert _revision(checkout) == git(checkout, "rev-parse", "--short", "HEAD")


def test_changed_code_outside_bench_is_named(checkout: Path) -> None:
    (checkout / "bench" / "results.md").write_text("new\n")
    (checkout / "app.py").write_text("x = 2\n")
    (checkout / "new.py").write_text("")
    commit = git(checkout, "rev-parse", "--short", "HEAD")
    assert _revision(checkout) == f"{commit} + uncommitted changes to 2 files outside bench/"
