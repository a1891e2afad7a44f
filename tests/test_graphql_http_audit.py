"""The GraphQL over HTTP conformance audit of the `graphql-http` npm package (pinned in
tests/js/package.json) against `nkcinema serve`: no errors (failed MUSTs), no warnings (failed
SHOULDs) and no notices (MAYs not taken), on the full path and, for the repeated requests of
its second round, on the fast lane and the response cache.

`tests/js/audit.mjs` runs `serverAudits` and prints a JSON summary as its last line; the
count of audits is checked, so the test cannot pass by running none."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.databases import IN_CI
from tests.support.live import Server

ROOT = Path(__file__).resolve().parents[1]
JS_DIR = ROOT / "tests" / "js"
SCRIPT = JS_DIR / "audit.mjs"
TIMEOUT = 120.0
ROUNDS = 2
MIN_AUDITS = 60  # graphql-http 1.23 has 61 server audits


@pytest.fixture(scope="session")
def audit_node() -> str:
    """The node executable; skipped locally (failed in CI) when it or graphql-http is
    missing. Requested first, so a skip comes before the live server starts."""
    found = shutil.which("node")
    if found is None or not (JS_DIR / "node_modules" / "graphql-http").is_dir():
        reason = (
            "node or tests/js/node_modules/graphql-http missing: run `npm ci --prefix tests/js`"
        )
        if IN_CI:
            pytest.fail(f"{reason} (CI must run the GraphQL over HTTP audit)", pytrace=False)
        pytest.skip(reason)
    return found


@pytest.mark.serial
def test_the_graphql_over_http_audit_passes_without_warnings(
    audit_node: str, live_server: Server
) -> None:
    url = f"{live_server.base_url}/graphql"
    log_before = len(live_server.stderr)  # the server is shared: judge only this test's log
    try:
        result = subprocess.run(
            [audit_node, str(SCRIPT), url, str(ROUNDS)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"node {SCRIPT.name} did not finish within {TIMEOUT:.0f} s: {error.stdout!r}")
    report = (
        f"node exited {result.returncode}\n--- stdout:\n{result.stdout}\n"
        f"--- stderr:\n{result.stderr}\n--- server:\n{live_server.output()}"
    )
    assert result.returncode == 0, report
    lines = result.stdout.strip().splitlines()
    assert lines, report
    summary: dict[str, Any] = json.loads(lines[-1])
    assert summary["endpoint"] == url
    assert summary["rounds"] == ROUNDS
    assert summary["audits"] >= MIN_AUDITS * ROUNDS, summary
    assert summary["errors"] == [], report
    assert summary["warnings"] == [], report
    assert summary["notices"] == [], report
    assert summary["ok"] == summary["audits"], summary
    assert "Traceback" not in live_server.stderr[log_before:], live_server.output()
