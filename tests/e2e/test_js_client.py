"""A standard JavaScript GraphQL client gets the documented answers from a live server.

`tests/e2e/js/client.mjs` drives `nkcinema serve` over real HTTP with graphql-request and
graphql-js (pinned in tests/e2e/js/package.json): every README example answers exactly the JSON
shown, every operation in examples/operations runs with its variables and answers data without
errors, root `works` and `directors` paged to the end visit every row once, bad documents and
bad variables answer well-formed errors with their `extensions.code`, and every README and
example operation validates against the introspected schema. The script's one-line summary is
checked against the README and the examples directory, so it cannot pass by running nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.documents import example_operations, readme_examples
from tests.support.live import Server
from tests.support.node import JS_DIR, node_with, report, run_script

SCRIPT = JS_DIR / "client.mjs"


@pytest.fixture(scope="session")
def node() -> str:
    """The node executable; skipped locally (failed in CI) when it or the packages are missing.
    Session-scoped and requested first, so a skip comes before the live server starts."""
    return node_with("graphql-request", "the JavaScript client test")


@pytest.mark.serial
def test_a_javascript_graphql_client_gets_the_documented_answers(
    node: str, live_server: Server
) -> None:
    url = f"{live_server.base_url}/graphql"
    log_before = len(live_server.stderr)  # the server is shared: judge only this test's log
    result = run_script(node, SCRIPT, url, server=live_server)
    assert result.returncode == 0, report(result, SCRIPT, live_server)

    lines = result.stdout.strip().splitlines()
    assert lines, report(result, SCRIPT, live_server)
    summary: dict[str, Any] = json.loads(lines[-1])
    assert summary["endpoint"] == url
    assert summary["readmeOperations"] == len(readme_examples())
    assert summary["exampleOperations"] == len(example_operations())
    assert summary["works"]["pages"] > 1
    assert summary["directors"]["pages"] > 1
    assert summary["errorCases"] == 3
    assert summary["validated"]["documents"] == (
        summary["readmeOperations"] + summary["exampleOperations"] + 2
    )
    assert "Traceback" not in live_server.stderr[log_before:], live_server.output()
