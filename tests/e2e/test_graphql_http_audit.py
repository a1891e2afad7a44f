"""The GraphQL over HTTP conformance audit of the `graphql-http` npm package (pinned in
tests/e2e/js/package.json) against `nkcinema serve`: no errors (failed MUSTs), no warnings (failed
SHOULDs) and no notices (MAYs not taken), on the full path and, for the repeated requests of
its second round, on the fast lane and the response cache.

`tests/e2e/js/audit.mjs` runs `serverAudits` and prints a JSON summary as its last line; the
count of audits is checked, so the test cannot pass by running none."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.live import Server
from tests.support.node import JS_DIR, node_with, report, run_script

SCRIPT = JS_DIR / "audit.mjs"
ROUNDS = 2
MIN_AUDITS = 60  # graphql-http 1.23 has 61 server audits


@pytest.fixture(scope="session")
def audit_node() -> str:
    """The node executable; skipped locally (failed in CI) when it or graphql-http is
    missing. Requested first, so a skip comes before the live server starts."""
    return node_with("graphql-http", "the GraphQL over HTTP audit")


@pytest.mark.serial
def test_the_graphql_over_http_audit_passes_without_warnings(
    audit_node: str, live_server: Server
) -> None:
    url = f"{live_server.base_url}/graphql"
    log_before = len(live_server.stderr)  # the server is shared: judge only this test's log
    result = run_script(audit_node, SCRIPT, url, str(ROUNDS), server=live_server)
    failed = report(result, SCRIPT, live_server)
    assert result.returncode == 0, failed
    lines = result.stdout.strip().splitlines()
    assert lines, failed
    summary: dict[str, Any] = json.loads(lines[-1])
    assert summary["endpoint"] == url
    assert summary["rounds"] == ROUNDS
    assert summary["audits"] >= MIN_AUDITS * ROUNDS, summary
    assert summary["errors"] == [], failed
    assert summary["warnings"] == [], failed
    assert summary["notices"] == [], failed
    assert summary["ok"] == summary["audits"], summary
    assert "Traceback" not in live_server.stderr[log_before:], live_server.output()
