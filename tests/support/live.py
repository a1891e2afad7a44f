"""A live server for end-to-end tests: ``nkcinema serve`` in a subprocess on a free port."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

SERVER_START_TIMEOUT = 30.0
SERVER_STOP_TIMEOUT = 10.0


def _nkcinema() -> str:
    beside_python = Path(sys.executable).parent / "nkcinema"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("nkcinema")
    if found is None:
        pytest.fail("the nkcinema console script is not installed (pip install -e .)")
    return found


NKCINEMA = _nkcinema()


def server_env(database_url: str | None, **extra: str) -> dict[str, str]:
    """The test process's environment without any nkcinema setting, plus the given ones."""
    env = {
        k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("NKCINEMA_")
    }
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    stdout_path: Path
    stderr_path: Path

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def output(self) -> str:
        return f"stdout:\n{self.stdout}\nstderr:\n{self.stderr}"

    def records(self) -> list[dict[str, Any]]:
        """The server's log records so far (``NKCINEMA_LOG_FORMAT=json``: one a line)."""
        return [json.loads(line) for line in self.stderr.splitlines() if line[:1] == "{"]


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=SERVER_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=SERVER_STOP_TIMEOUT)


@contextmanager
def serve(
    database_url: str | None,
    cwd: Path,
    name: str = "server",
    *,
    args: tuple[str, ...] = (),
    **env: str,
) -> Iterator[Server]:
    """Start `nkcinema serve` on a free port (with ``env`` set); wait until /healthz answers;
    always stop it."""
    port = free_port()
    stdout_path = cwd.parent / f"{name}-{port}.out"
    stderr_path = cwd.parent / f"{name}-{port}.err"
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        process = subprocess.Popen(
            [NKCINEMA, "serve", "--port", str(port), *args],
            cwd=cwd,
            env=server_env(database_url, **env),
            stdout=out,
            stderr=err,
        )
    server = Server(process, f"http://127.0.0.1:{port}", stdout_path, stderr_path)
    try:
        wait_healthy(
            process, server.base_url, "nkcinema serve", SERVER_START_TIMEOUT, server.output
        )
        yield server
    finally:
        stop(process)


def wait_healthy(
    process: subprocess.Popen[bytes],
    base_url: str,
    name: str,
    timeout: float,
    output: Callable[[], str],
    pause: float = 0.2,
) -> None:
    """Wait until the server at ``base_url`` answers ``/healthz`` with 200; fail the test with
    ``output()`` if its ``process`` exits first or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            pytest.fail(f"{name} exited {process.returncode}\n{output()}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{name} did not answer /healthz within {timeout:.0f} s\n{output()}")
        time.sleep(pause)


async def ask_with_id(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    get: bool = False,
    headers: dict[str, str] | None = None,
    context: str = "",
) -> tuple[str, httpx.Response]:
    """An operation to a live server (GET or POST) with a request id of its own, so that the
    access logs tell which server and database answered it: (the id, the response), which
    must be a 200 without errors (``context`` is added to the failure's message)."""
    request_id = uuid.uuid4().hex
    sent = {"X-Request-ID": request_id, **(headers or {})}
    if get:
        params = {"query": query}
        if variables is not None:
            params["variables"] = json.dumps(variables)
        response = await client.get("/graphql", params=params, headers=sent)
    else:
        payload = {"query": query, "variables": variables or {}}
        response = await client.post("/graphql", json=payload, headers=sent)
    assert response.status_code == 200, (response.text, context)
    assert "errors" not in response.json(), response.text
    return request_id, response
