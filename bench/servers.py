"""Servers for the load benchmark: started in their own process group on a free loopback port,
waited for until they answer, measured by the CPU time their processes use, always stopped.

CPU time comes from ``/proc/<pid>/stat`` (utime + stime) of every process in the server's
process group: the uvicorn supervisor and its workers, or node and its cluster workers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HOST = "127.0.0.1"
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
READY_TIMEOUT = 90.0
STOP_TIMEOUT = 10.0


class ServerError(RuntimeError):
    """A server did not start, or stopped while it was measured."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _stat(pid: str) -> tuple[str, int, int] | None:
    """(command name, process group, CPU ticks) of a process, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    rest = raw[raw.rindex(")") + 2 :].split()
    return name, int(rest[2]), int(rest[11]) + int(rest[12])


def cpu_ticks(match: Callable[[str, int], bool]) -> dict[int, int]:
    """CPU ticks of every process whose (name, process group) matches, by pid."""
    ticks: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(entry)
            if stat is not None and match(stat[0], stat[1]):
                ticks[int(entry)] = stat[2]
    return ticks


def cpu_seconds_by_process(before: dict[int, int], after: dict[int, int]) -> list[float]:
    """Each process's CPU between two snapshots (one that started in between counts from
    zero)."""
    return [(t - before.get(pid, 0)) / TICKS_PER_SECOND for pid, t in after.items()]


def cpu_seconds_between(before: dict[int, int], after: dict[int, int]) -> float:
    """CPU used between two snapshots, all processes together."""
    return sum(cpu_seconds_by_process(before, after))


def postgres_ticks() -> dict[int, int]:
    """The local PostgreSQL server's processes (postmaster, backends, background workers);
    empty when the server runs elsewhere."""
    return cpu_ticks(lambda name, _group: name == "postgres")


@dataclass
class Server:
    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    log: Path
    ready_path: str = "/healthz"
    ready_body: dict[str, object] | None = None  # POST this instead of GET
    cwd: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def ticks(self) -> dict[int, int]:
        assert self.process is not None
        group = self.process.pid
        return cpu_ticks(lambda _name, pgrp: pgrp == group)

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,  # its own process group: stopped as a whole
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + READY_TIMEOUT
        with httpx.Client(timeout=5.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise ServerError(
                        f"{self.name} exited ({self.process.returncode}):\n{self.tail()}"
                    )
                try:
                    if self.ready_body is None:
                        response = client.get(self.url + self.ready_path)
                    else:
                        response = client.post(self.url + self.ready_path, json=self.ready_body)
                    if response.status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
        raise ServerError(f"{self.name} not ready after {READY_TIMEOUT:.0f} s:\n{self.tail()}")

    def check_alive(self) -> None:
        if self.process is None or self.process.poll() is not None:
            raise ServerError(f"{self.name} stopped:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        group = process.pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(STOP_TIMEOUT)
        # workers may outlive a supervisor that was slow to reap them
        deadline = time.monotonic() + STOP_TIMEOUT
        while self._group_alive(group) and time.monotonic() < deadline:
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(STOP_TIMEOUT)

    @staticmethod
    def _group_alive(group: int) -> bool:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return False
        return True


@contextlib.contextmanager
def running(server: Server) -> Iterator[Server]:
    try:
        server.start()
        yield server
    finally:
        server.stop()
