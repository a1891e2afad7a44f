"""A standard JavaScript GraphQL client gets the documented answers from a live server.

`tests/js/client.mjs` drives `nkcinema serve` over real HTTP with graphql-request and
graphql-js (pinned in tests/js/package.json): every README example answers exactly the JSON
shown, every operation in examples/operations runs with its variables and answers data without
errors, root `works` and `directors` paged to the end visit every row once, bad documents and
bad variables answer well-formed errors with their `extensions.code`, and every README and
example operation validates against the introspected schema. The script's one-line summary is
checked against the README and the examples directory, so it cannot pass by running nothing."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.databases import IN_CI
from tests.support.live import Server

ROOT = Path(__file__).resolve().parents[1]
JS_DIR = ROOT / "tests" / "js"
SCRIPT = JS_DIR / "client.mjs"
README = ROOT / "README.md"
OPERATIONS = ROOT / "examples" / "operations"
TIMEOUT = 120.0
README_EXAMPLE = re.compile(r"```graphql\n.*?```\s*```json\n.*?```", re.S)


@pytest.fixture(scope="session")
def node() -> str:
    """The node executable; skipped locally (failed in CI) when it or the packages are missing.
    Session-scoped and requested first, so a skip comes before the live server starts."""
    found = shutil.which("node")
    if found is None or not (JS_DIR / "node_modules" / "graphql-request").is_dir():
        reason = "node or tests/js/node_modules missing: run `npm ci --prefix tests/js`"
        if IN_CI:
            pytest.fail(f"{reason} (CI must run the JavaScript client test)", pytrace=False)
        pytest.skip(reason)
    return found


def _report(result: subprocess.CompletedProcess[str], server: Server) -> str:
    return (
        f"node exited {result.returncode}\n--- client stdout:\n{result.stdout}\n"
        f"--- client stderr:\n{result.stderr}\n--- server:\n{server.output()}"
    )


@pytest.mark.serial
def test_a_javascript_graphql_client_gets_the_documented_answers(
    node: str, live_server: Server
) -> None:
    url = f"{live_server.base_url}/graphql"
    log_before = len(live_server.stderr)  # the server is shared: judge only this test's log
    try:
        result = subprocess.run(
            [node, str(SCRIPT), url],
            cwd=ROOT,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(
            f"node {SCRIPT.name} did not finish within {TIMEOUT:.0f} s\n"
            f"--- client stdout:\n{error.stdout!r}\n--- client stderr:\n{error.stderr!r}\n"
            f"--- server:\n{live_server.output()}"
        )
    assert result.returncode == 0, _report(result, live_server)

    lines = result.stdout.strip().splitlines()
    assert lines, _report(result, live_server)
    summary: dict[str, Any] = json.loads(lines[-1])
    assert summary["endpoint"] == url
    assert summary["readmeOperations"] == len(README_EXAMPLE.findall(README.read_text("utf-8")))
    assert summary["exampleOperations"] == len(list(OPERATIONS.glob("*.graphql")))
    assert summary["works"]["pages"] > 1
    assert summary["directors"]["pages"] > 1
    assert summary["errorCases"] == 3
    assert summary["validated"]["documents"] == (
        summary["readmeOperations"] + summary["exampleOperations"] + 2
    )
    assert "Traceback" not in live_server.stderr[log_before:], live_server.output()
