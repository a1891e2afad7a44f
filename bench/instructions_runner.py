"""Run by ``bench.instructions`` with a checkout's own interpreter, from that checkout (an
earlier commit's as well as this one's): its served app (``create_served_app``, as each
uvicorn worker builds it) called in-process over ASGI, one workload after another.

    <checkout>/.venv/bin/python bench/instructions_runner.py SPEC.json  (cwd: the checkout)

Only the standard library and the checkout's own app are imported, so the file runs unchanged
against any commit that has ``create_served_app``. Around each workload's timed requests it
calls ``os.getppid()``, a system call nothing else here makes: under
``valgrind --tool=callgrind --dump-before=getppid`` every call dumps the counters, so the
part between a workload's two markers holds exactly its requests' instructions (every
thread's: SQLite runs in aiosqlite's). Prints one JSON line: per workload, the
``X-Execution`` headers seen (none: ``resolver``), and the CPU seconds of the timed part,
this process's and the PostgreSQL server's (on SQLite, nothing).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

sys.path[0] = os.getcwd()  # the checkout's app, not this directory's modules

MARKER = os.getppid  # see the module's docstring


def served_app():
    try:
        from web.app import create_served_app
    except ImportError:  # commits before the app moved into web/
        from app import create_served_app
    return create_served_app()


class Client:
    """One HTTP request at a time into the ASGI app, as a server would hand it over."""

    def __init__(self, app) -> None:
        self.app = app

    async def post(self, body: bytes) -> tuple[dict[bytes, bytes], bytes]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"bench"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        received = False
        finished = asyncio.Event()
        messages: list[dict] = []

        async def receive() -> dict:
            nonlocal received
            if not received:
                received = True
                return {"type": "http.request", "body": body, "more_body": False}
            await finished.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            messages.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                finished.set()

        await self.app(scope, receive, send)
        headers = dict(messages[0]["headers"])
        content = b"".join(m.get("body", b"") for m in messages[1:])
        return headers, content

    async def lifespan(self) -> None:
        started = asyncio.get_running_loop().create_future()
        messages: asyncio.Queue = asyncio.Queue()
        await messages.put({"type": "lifespan.startup"})

        async def send(message: dict) -> None:
            if not started.done():
                started.set_result(message)

        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self._lifespan = asyncio.create_task(self.app(scope, messages.get, send))
        answer = await started
        if answer["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"the app did not start: {answer}")


def postgres_cpu_seconds() -> float:
    """CPU used so far by every process of the PostgreSQL server on this machine (its
    backends serve only the runner while it runs: bench.instructions runs nothing beside)."""
    ticks = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii") as file:
                stat = file.read()
        except OSError:  # ended meanwhile
            continue
        name, rest = stat[stat.index("(") + 1 :].rsplit(")", 1)
        if name.startswith("postgres") or name.startswith("postmaster"):
            fields = rest.split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


async def main(spec: dict) -> dict:
    client = Client(served_app())
    await client.lifespan()
    results = []
    for workload in spec["workloads"]:
        bodies = [
            json.dumps({"query": workload["query"], "variables": v}).encode()
            for v in workload["variants"]
        ]
        executions = set()
        for body in bodies:  # every variant answers, without errors, before anything counts
            headers, content = await client.post(body)
            answer = json.loads(content)
            if answer.get("errors") or not answer.get("data"):
                raise SystemExit(f"{workload['key']}: {content[:500]!r}")
            # no header: the resolver path (it was only ever set by the compiled path)
            executions.add(headers.get(b"x-execution", b"resolver").decode())
        for i in range(spec["warmup"]):
            await client.post(bodies[i % len(bodies)])
        database = postgres_cpu_seconds()  # outside the markers: not the app's instructions
        MARKER()
        started = time.process_time()
        for i in range(spec["requests"]):
            await client.post(bodies[i % len(bodies)])
        cpu = time.process_time() - started
        MARKER()
        database = postgres_cpu_seconds() - database
        results.append(
            {
                "key": workload["key"],
                "executions": sorted(executions),
                "cpu_seconds": cpu,
                "database_cpu_seconds": database,
            }
        )
    return {"workloads": results}


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as file:
        print(json.dumps(asyncio.run(main(json.load(file)))))
