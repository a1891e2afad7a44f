"""Structured logs: JSON lines with request ids, an access record per request, tracebacks of
unexpected errors in the log (never in the response), and no secrets."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest

from logs import JsonFormatter
from settings import Settings
from tests.support.client import app_client
from tests.support.live import serve


def _json(record: logging.LogRecord) -> dict[str, object]:
    entry: dict[str, object] = json.loads(JsonFormatter().format(record))
    return entry


async def test_every_request_gets_an_access_record(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="nkcinema.access"):
        response = await client.get(
            "/graphql",
            params={"query": "{ __typename }"},
            headers={"Authorization": "Bearer sekret-token-123"},
        )
    [record] = [r for r in caplog.records if r.name == "nkcinema.access"]
    entry = _json(record)
    assert entry["request_id"] == response.headers["x-request-id"]
    assert entry["method"] == "GET"
    assert entry["path"] == "/graphql"
    assert entry["status"] == 200
    assert isinstance(entry["duration_ms"], float)
    assert entry["database"] == "primary"  # who answered (replicas: tests/web/test_replica_routing)
    assert "sekret" not in caplog.text and "__typename" not in caplog.text  # no headers, no query


async def test_an_unexpected_error_is_logged_with_its_request_id_and_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    with caplog.at_level(logging.INFO, logger="nkcinema"):
        async with app_client(settings) as client:
            response = await client.post(
                "/graphql", json={"query": '{ work(slug: "x") { title } }'}
            )
    request_id = response.headers["x-request-id"]
    [error] = [r for r in caplog.records if r.name == "nkcinema.errors"]
    entry = _json(error)
    assert entry["level"] == "error"
    assert entry["request_id"] == request_id
    assert "Traceback" in str(entry["exception"]) and "no such table" in str(entry["exception"])
    assert "Traceback" not in response.text  # the client gets the id, the log gets the rest


def test_a_live_server_logs_json_lines(migrated_database: str, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    with serve(migrated_database, work, "json-logs", NKCINEMA_LOG_FORMAT="json") as server:
        answer = httpx.post(f"{server.base_url}/graphql", json={"query": "{ __typename }"})
        assert answer.status_code == 200
    lines = [line for line in server.stderr.splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is JSON
    access = [e for e in entries if e["logger"] == "nkcinema.access" and e["path"] == "/graphql"]
    assert access and access[0]["request_id"] == answer.headers["x-request-id"]
    assert any(e["logger"].startswith("uvicorn") for e in entries)
