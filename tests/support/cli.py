"""The ``nkcinema`` console script, run as a subprocess with only the settings a test gives
it (a database URL, a working directory, extra environment)."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

from tests.support.live import NKCINEMA, server_env

COMMAND_TIMEOUT = 120
KINDS = ("sources", "themes", "people", "works")


def nkcinema(
    *args: str, database_url: str | None, cwd: Path, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NKCINEMA, *args],
        cwd=cwd,
        env=server_env(database_url, **extra_env),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=COMMAND_TIMEOUT,
        check=False,
    )


def ok(*args: str, database_url: str | None, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a command that must succeed."""
    result = nkcinema(*args, database_url=database_url, cwd=cwd)
    assert result.returncode == 0, (
        f"nkcinema {' '.join(args)} exited {result.returncode}\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def export(database_url: str, cwd: Path) -> bytes:
    """The whole catalog, as `nkcinema export --output FILE` writes it."""
    out = cwd / f"export-{time.monotonic_ns()}.json"
    ok("export", "--output", str(out), database_url=database_url, cwd=cwd)
    return out.read_bytes()


def seed_report(stdout: str) -> dict[str, dict[str, int]]:
    """Parse `nkcinema seed`'s report: {kind: {created, updated, unchanged}}."""
    report = {}
    for kind in KINDS:
        match = re.search(rf"{kind}: (\d+) created, (\d+) updated, (\d+) unchanged", stdout)
        assert match, f"no {kind} counts in the seed report: {stdout!r}"
        created, updated, unchanged = (int(g) for g in match.groups())
        report[kind] = {"created": created, "updated": updated, "unchanged": unchanged}
    return report
