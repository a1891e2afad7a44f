"""The end-to-end scripts in ``tests/e2e/js``, run by node against a live server.

Without node or the npm packages a script needs, a test is skipped locally and fails in CI,
where every end-to-end test must run. A script's report, on failure, carries the server's
output beside its own.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import NoReturn

import pytest

from tests.support.databases import IN_CI
from tests.support.live import Server

ROOT = Path(__file__).resolve().parents[2]
JS_DIR = ROOT / "tests" / "e2e" / "js"
TIMEOUT = 120.0
NPM_CI = "run `npm ci --prefix tests/e2e/js`"


def missing(reason: str, tests: str) -> NoReturn:
    """Skip locally, fail in CI (``tests`` names what CI must run)."""
    if IN_CI:
        pytest.fail(f"{reason} (CI must run {tests})", pytrace=False)
    pytest.skip(reason)


def node_with(package: str, tests: str) -> str:
    """The node executable, when ``tests/e2e/js/node_modules/<package>`` is installed."""
    found = shutil.which("node")
    if found is None or not (JS_DIR / "node_modules" / package).is_dir():
        missing(f"node or tests/e2e/js/node_modules/{package} missing: {NPM_CI}", tests)
    return found


def run_script(
    node: str,
    script: Path,
    *args: str,
    server: Server,
    role: str = "client",
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``script`` with ``args``; a test fails (with the server's output) if it hangs."""
    try:
        return subprocess.run(
            [node, str(script), *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(
            f"node {script.name} did not finish within {TIMEOUT:.0f} s\n"
            f"--- {role} stdout:\n{error.stdout!r}\n--- {role} stderr:\n{error.stderr!r}\n"
            f"--- server:\n{server.output()}"
        )


def report(
    result: subprocess.CompletedProcess[str], script: Path, server: Server, role: str = "client"
) -> str:
    """What a failed assertion on a script's result shows."""
    return (
        f"node {script.name} exited {result.returncode}\n--- {role} stdout:\n{result.stdout}\n"
        f"--- {role} stderr:\n{result.stderr}\n--- server:\n{server.output()}"
    )
