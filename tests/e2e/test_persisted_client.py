"""A real client library's persisted queries against the live server: urql's persisted
exchange (`tests/e2e/js/persisted.mjs`, @urql/core and @urql/exchange-persisted pinned in
tests/e2e/js/package.json). Its first request for a new document is a hash-only GET that
answers PERSISTED_QUERY_NOT_FOUND; it then sends the document, which the server registers;
a second client's hash-only GET answers the data with an ETag, and revalidating it answers
304. The script records every request it makes; the summary is checked here too. And the
example frontend's documents, as node builds them, are the ones `nkcinema documents add
--examples` trusts."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from tests.support.live import Server
from tests.support.node import JS_DIR, missing, node_with, report, run_script
from web.app import EXAMPLES
from web.example_documents import frontend_documents

SCRIPT = JS_DIR / "persisted.mjs"


@pytest.fixture(scope="session")
def node() -> str:
    """Requested first, so a skip comes before the live server starts."""
    return node_with("@urql/exchange-persisted", "the persisted-queries client test")


@pytest.mark.serial
def test_urqls_persisted_exchange_registers_then_gets_by_hash(
    node: str, live_server: Server
) -> None:
    url = f"{live_server.base_url}/graphql"
    log_before = len(live_server.stderr)
    result = run_script(node, SCRIPT, url, server=live_server)
    assert result.returncode == 0, report(result, SCRIPT, live_server)
    summary: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["endpoint"] == url
    miss, registration = summary["first"]
    assert miss == {
        "method": "GET",
        "hasQuery": False,
        "status": 200,
        "code": "PERSISTED_QUERY_NOT_FOUND",
    }
    assert registration["hasQuery"] is True and registration["code"] is None
    [by_hash] = summary["second"]
    assert by_hash["method"] == "GET" and by_hash["hasQuery"] is False
    assert by_hash["status"] == 200 and by_hash["etag"]
    assert by_hash["title"] == "Sea of Blood"
    assert summary["revalidation"] == 304
    assert len(summary["sha256Hash"]) == 64
    assert "Traceback" not in live_server.stderr[log_before:], live_server.output()


def test_the_frontends_documents_are_read_as_javascript_builds_them() -> None:
    """What `nkcinema documents add --examples` trusts for the example frontend is what the
    browser sends: its documents evaluated by node equal web.example_documents' reading."""
    found = shutil.which("node")
    if found is None:
        missing("node is not installed", "the example frontend's documents test")
    script = JS_DIR / "frontend-documents.mjs"
    result = subprocess.run(
        [found, str(script)], capture_output=True, text=True, encoding="utf-8", timeout=60
    )
    assert result.returncode == 0, result.stderr
    built = json.loads(result.stdout)
    assert len(built) >= 10
    assert frontend_documents(EXAMPLES / "app.js") == built
