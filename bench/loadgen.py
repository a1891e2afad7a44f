"""Drives a server with wrk (Debian's ``wrk`` and ``wrk/requests.lua``, which sends whole
requests in rotation) and measures the server's CPU time around the run."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.servers import Server, cpu_seconds_between, cpu_seconds_by_process, postgres_ticks

# Whole requests (method, target, If-None-Match, body) in rotation: POSTs, GETs, revalidations.
SCRIPT = Path(__file__).resolve().parent / "wrk" / "requests.lua"
MARKER = "WRK_RESULT "
INSTALL_HINT = "wrk is not installed: `sudo apt-get install -y wrk` (Debian/Ubuntu)"


class WrkMissing(RuntimeError):
    pass


class WrkFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class Load:
    """How hard and how long: wrk's -t, -c and -d, and the untimed warm-up before."""

    threads: int = 1
    connections: int = 8
    seconds: float = 5.0
    warmup: float = 1.0


@dataclass(frozen=True)
class Run:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # socket errors, non-2xx/3xx responses and timeouts
    graphql_errors: int
    compiled: int
    cache_hits: int
    cpu_seconds: float  # the server's processes
    db_cpu_seconds: float | None  # the local PostgreSQL server's processes, if measured
    not_modified: int = 0  # 304 answers
    # each of the server's processes' CPU seconds in the timed run, largest first: whether
    # several workers shared the load (``balance``)
    process_cpu_seconds: tuple[float, ...] = ()

    def balance(self, workers: int) -> float:
        """The least busy of the ``workers`` busiest processes' CPU time ÷ the busiest one's:
        1.0 when the workers shared the load evenly, near 0 when one did it all. Workers share
        one listening socket, and a worker that wakes accepts every connection waiting (asyncio
        accepts up to the backlog at once), so wrk's few keep-alive connections can all land
        on one worker: a run measured on one core of two (bench/README.md, "Several workers
        on one socket")."""
        busiest = self.process_cpu_seconds[:workers]
        if workers <= 1 or len(busiest) < workers or not busiest[0]:
            return 1.0
        return busiest[-1] / busiest[0]

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.cpu_seconds / self.requests if self.requests else float("nan")

    @property
    def db_cpu_ms_per_request(self) -> float | None:
        if self.db_cpu_seconds is None or not self.requests:
            return None
        return 1000 * self.db_cpu_seconds / self.requests


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise WrkMissing(INSTALL_HINT)
    return path


def wrk_version() -> str:
    done = subprocess.run([wrk_path(), "--version"], capture_output=True, text=True, check=False)
    first = (done.stdout or done.stderr).strip().splitlines()
    return first[0].split(" Copyright")[0] if first else "unknown"


def _wrk(
    url: str, requests: Path, threads: int, connections: int, seconds: float
) -> dict[str, Any]:
    argv = [
        wrk_path(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(SCRIPT),
        url,
        "--",
        str(requests),
    ]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=seconds + 60)
    for line in done.stdout.splitlines():
        if line.startswith(MARKER):
            return dict(json.loads(line[len(MARKER) :]))
    raise WrkFailed(f"{' '.join(argv)}: exit {done.returncode}\n{done.stdout}\n{done.stderr}")


def drive(
    server: Server,
    path: str,
    bodies: list[dict[str, Any]],
    load: Load,
    measure_database: bool = False,
    say: Callable[[str], None] = print,
) -> Run:
    """POST ``bodies`` to ``path`` in rotation: warm up, then one timed wrk run; the server's
    CPU time is read just before and after."""
    lines = [request_line("POST", path, json.dumps(body, ensure_ascii=False)) for body in bodies]
    return drive_lines(server, path, lines, load, measure_database, say)


def drive_lines(
    server: Server,
    path: str,
    lines: list[str],
    load: Load,
    measure_database: bool = False,
    say: Callable[[str], None] = print,
) -> Run:
    """``drive`` with whole requests (``request_line``): GETs and revalidations too."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        for line in lines:
            handle.write(line + "\n")
        file = Path(handle.name)
    try:
        url = server.url + path
        if load.warmup > 0:
            _wrk(url, file, load.threads, load.connections, load.warmup)
        server.check_alive()
        before = server.ticks()
        db_before = postgres_ticks() if measure_database else {}
        result = _wrk(url, file, load.threads, load.connections, load.seconds)
        after = server.ticks()
        db_after = postgres_ticks() if measure_database else {}
        server.check_alive()
    finally:
        file.unlink(missing_ok=True)
    by_process = cpu_seconds_by_process(before, after)
    errors = sum(
        result[k]
        for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts")
    )
    if errors or result["graphql_errors"]:
        say(f"    ! {errors} errors, {result['graphql_errors']} GraphQL errors")
    return Run(
        requests=int(result["requests"]),
        seconds=result["duration_us"] / 1e6,
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        errors=int(errors),
        graphql_errors=int(result["graphql_errors"]),
        compiled=int(result["compiled"]),
        cache_hits=int(result["cache_hits"]),
        not_modified=int(result.get("not_modified", 0)),
        cpu_seconds=sum(by_process),
        process_cpu_seconds=tuple(sorted(by_process, reverse=True)),
        db_cpu_seconds=cpu_seconds_between(db_before, db_after) if db_after else None,
    )


def request_line(method: str, target: str, body: str = "", if_none_match: str = "") -> str:
    """One request for ``requests.lua``: tab-separated method, target (path and query string),
    ``If-None-Match`` (``-``: none) and body."""
    for part in (method, target, body, if_none_match):
        if "\t" in part or "\n" in part:
            raise ValueError(f"a request line cannot hold tabs or newlines: {part!r}")
    return "\t".join((method, target, if_none_match or "-", body))
