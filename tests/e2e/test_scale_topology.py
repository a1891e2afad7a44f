"""The scale topology of ``docker compose --profile scale up`` (issue #24) with real parts and
no Docker: a PostgreSQL primary and its streaming replica (the ``replication`` fixture,
bench/replication.py), two ``nkcinema serve`` instances with the settings docker-compose.yml
gives ``app`` and ``app-2`` (read from it, their hosts pointed at this test's servers: the
first migrates and seeds, as the image's command does, then both serve), and Debian's nginx
running **deploy/nginx.conf itself** in front of them: only the upstream addresses and the
listen port are replaced, inside the ``events {} http {}`` shell that the nginx image's own
nginx.conf puts around ``conf.d/``.

Through the proxy: reads answer, spread over both instances and from the replica; a
curator's write is read back through either instance by sending the ``X-Catalog-Version``
its mutation answered with, while the replica (replay paused) still answers everyone else
without it; ``/metrics`` is 404 there (each instance answers it directly); with one
instance stopped, every read still answers (``proxy_next_upstream``, connections refused).

Which instance and which database answered a request is read from the instances' JSON
access logs (the one setting added to the compose file's: ``NKCINEMA_LOG_FORMAT=json``, the
production default): every request carries an ``X-Request-ID`` of its own, which nginx
passes on.

Only in the PostgreSQL run, as the ``replication`` fixture says (it skips, or fails under
CI=true, without PostgreSQL's binaries); without nginx it skips, and fails under CI=true
(.ci/run installs Debian's).
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from bench.replication import Replication
from tests.support.cli import ok
from tests.support.curation import CREATE
from tests.support.databases import curator_token
from tests.support.live import Server, ask_with_id, free_port, serve, stop, wait_healthy
from tests.support.node import missing

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
NGINX = Path("/usr/sbin/nginx")  # Debian's (apt-get install nginx)
INSTANCES = ("app", "app-2")  # the compose services, in the upstream's order
START_TIMEOUT = 10.0

TITLE = '{ work(slug: "sea-of-blood") { title } }'
WORKS = "{ works(first: 3) { nodes { slug title } } }"
BY_SLUG = "query W($slug: String!) { work(slug: $slug) { title } }"
VERSION = "SELECT version FROM catalog_state WHERE id = 1"


# -- the parts ------------------------------------------------------------------------------


def _nginx() -> Path:
    if not NGINX.exists():
        missing(
            f"nginx is not installed ({NGINX}; Debian: apt-get install nginx)",
            "the scale topology test",
        )
    return NGINX


def _app_settings(pair: Replication) -> dict[str, str]:
    """docker-compose.yml's environment of ``app`` (``app-2`` shares it), its database hosts
    (``db``, ``replica``) replaced by this test's primary and replica."""
    services = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))["services"]
    environment = services["app"]["environment"]
    assert services["app-2"]["environment"] == environment
    hosts = {"db": pair.primary.url, "replica": pair.replica.url}
    settings = {}
    for name, value in environment.items():
        parts = [urlsplit(url) for url in str(value).split(",")]
        if all(part.scheme.startswith("postgres") for part in parts):
            value = ",".join(hosts[part.hostname or ""] for part in parts)
        settings[str(name)] = str(value)
    assert {"DATABASE_URL", "NKCINEMA_REPLICA_URLS"} <= set(settings), settings
    return settings


def _replaced(conf: str, old: str, new: str) -> str:
    assert conf.count(old) == 1, f"deploy/nginx.conf has {old!r} {conf.count(old)} times"
    return conf.replace(old, new)


def _compiled_temp_paths(nginx: Path) -> list[str]:
    """The ``*_temp_path`` directives whose compiled-in defaults are outside the prefix
    (Debian's: /var/lib/nginx/…), from ``nginx -V``."""
    built = subprocess.run(
        [str(nginx), "-V"], capture_output=True, text=True, timeout=10, check=True
    ).stderr
    return [
        f"{name.replace('-', '_')}_temp_path"
        for name in re.findall(r"--http-([a-z-]+)-temp-path=", built)
    ]


def proxy_conf(nginx: Path, directory: Path, listen: int, upstreams: list[int]) -> str:
    """deploy/nginx.conf with the test's addresses, in a main configuration that keeps every
    file nginx writes (pid, logs, temporary files) in ``directory``."""
    conf = NGINX_CONF.read_text(encoding="utf-8")
    for name, port in zip(INSTANCES, upstreams, strict=True):
        conf = _replaced(conf, f"server {name}:8000 ", f"server 127.0.0.1:{port} ")
    conf = _replaced(conf, "listen 80;", f"listen 127.0.0.1:{listen};")
    temp_paths = "".join(
        f"    {directive} {directory / directive};\n" for directive in _compiled_temp_paths(nginx)
    )
    # As root, the workers would run as nobody, who cannot enter pytest's 0700 directories.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}pid {directory / 'nginx.pid'};\n"
        f"error_log {directory / 'error.log'} warn;\n"
        "events {}\n"
        "http {\n"
        f"    access_log {directory / 'access.log'};\n"
        f"{temp_paths}"
        f"{conf}\n"
        "}\n"
    )


@dataclass
class Proxy:
    process: subprocess.Popen[bytes]
    base_url: str
    directory: Path

    def output(self) -> str:
        log = self.directory / "error.log"
        return log.read_text(errors="replace") if log.exists() else "(no error.log)"


@contextmanager
def running_proxy(nginx: Path, directory: Path, upstreams: list[int]) -> Iterator[Proxy]:
    """nginx in the foreground on a free port, once it forwards /healthz; always stopped."""
    port = free_port()
    conf = directory / "nginx.conf"
    conf.write_text(proxy_conf(nginx, directory, port, upstreams), encoding="utf-8")
    with (directory / "nginx.out").open("wb") as out:
        process = subprocess.Popen(
            [
                str(nginx),
                "-p",
                f"{directory}/",
                "-e",  # the error log before the configuration is read: not /var/log/nginx
                str(directory / "error.log"),
                "-c",
                str(conf),
                "-g",
                "daemon off;",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    proxy = Proxy(process, f"http://127.0.0.1:{port}", directory)
    try:

        def output() -> str:
            return (directory / "nginx.out").read_text(errors="replace") + "\n" + proxy.output()

        wait_healthy(process, proxy.base_url, "nginx", START_TIMEOUT, output, pause=0.05)
        yield proxy
    finally:
        stop(process)


@dataclass
class Topology:
    pair: Replication
    apps: dict[str, Server]  # compose service name -> its instance
    proxy: Proxy
    token: str  # a curator's

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.proxy.base_url, timeout=20.0)

    async def ask(
        self,
        client: httpx.AsyncClient,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        get: bool = False,
        headers: dict[str, str] | None = None,
    ) -> tuple[str, httpx.Response]:
        """An operation through the proxy, with a request id of its own: (the id, the
        response), which must have no errors."""
        request_id, response = await ask_with_id(
            client, query, variables, get=get, headers=headers, context=self.proxy.output()
        )
        assert response.headers["x-request-id"] == request_id
        return request_id, response

    def answered_by(self, request_ids: list[str]) -> list[tuple[str, str | None]]:
        """(instance, database) that answered each request, from the access logs; a request
        nginx passed on after a failure counts where it succeeded."""
        deadline = time.monotonic() + 5.0
        while True:
            found = {}
            for name, server in self.apps.items():
                for record in server.records():
                    if record.get("logger") == "nkcinema.access" and record["status"] < 500:
                        found[record["request_id"]] = (name, record.get("database"))
            if all(i in found for i in request_ids):
                return [found[i] for i in request_ids]
            assert time.monotonic() < deadline, "access records missing"
            time.sleep(0.05)


@pytest.fixture(scope="module")
def topology(
    replication: Replication, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Topology]:
    nginx = _nginx()
    work = tmp_path_factory.mktemp("scale")
    settings = {**_app_settings(replication), "NKCINEMA_LOG_FORMAT": "json"}
    # app: the image's command, `nkcinema db upgrade && nkcinema seed && exec nkcinema serve`
    ok("db", "upgrade", database_url=replication.primary.url, cwd=work)
    ok("seed", database_url=replication.primary.url, cwd=work)
    token = curator_token(replication.primary.url, f"scale-{uuid.uuid4().hex[:8]}")
    with ExitStack() as stack, ThreadPoolExecutor(len(INSTANCES)) as starting:

        def start(name: str) -> Server:  # both at once (app-2 waits only for the migration)
            return stack.enter_context(serve(None, work, name, **settings))

        apps = dict(zip(INSTANCES, starting.map(start, INSTANCES), strict=True))
        proxy_dir = work / "nginx"
        proxy_dir.mkdir()
        ports = [int(urlsplit(server.base_url).port or 0) for server in apps.values()]
        proxy = stack.enter_context(running_proxy(nginx, proxy_dir, ports))
        yield Topology(replication, apps, proxy, token)


# -- through the proxy ----------------------------------------------------------------------


async def test_reads_are_spread_over_both_instances_and_answered_by_the_replica(
    topology: Topology,
) -> None:
    await topology.pair.caught_up()
    version = str(await topology.pair.primary.fetchval(VERSION))
    async with topology.client() as client:
        asked = [
            await topology.ask(client, query, get=get)  # one after another: round robin
            for query in (TITLE, WORKS)
            for get in (False, True)
            for _ in range(3)
        ]
    for _, response in asked:
        data = response.json()["data"]
        assert data.get("work", {"title": "Sea of Blood"})["title"] == "Sea of Blood"
        assert len(data.get("works", {"nodes": [1, 2, 3]})["nodes"]) == 3
        assert response.headers["x-catalog-version"] == version
    answered = topology.answered_by([i for i, _ in asked])
    assert {instance for instance, _ in answered} == set(INSTANCES), answered
    assert {database for _, database in answered} == {"replica-1"}, answered


def test_metrics_are_not_served_through_the_proxy(topology: Topology) -> None:
    response = httpx.get(f"{topology.proxy.base_url}/metrics", timeout=10)
    assert response.status_code == 404
    assert "nkcinema_requests_total" not in response.text
    for server in topology.apps.values():  # scraped from each instance directly
        direct = httpx.get(f"{server.base_url}/metrics", timeout=10)
        assert direct.status_code == 200
        assert "nkcinema_requests_total" in direct.text


async def test_a_writer_reads_its_write_back_through_either_instance(
    topology: Topology,
) -> None:
    pair = topology.pair
    curator = {"Authorization": f"Bearer {topology.token}"}
    # A write the replica replays first: its lag, once replay is paused, is counted from it
    # (and stays far under the compose file's 30 s limit, NKCINEMA_REPLICA_MAX_LAG).
    async with topology.client() as client:
        variables = {"input": {"title": f"Scale Warm {uuid.uuid4().hex[:8]}", "kind": "FILM"}}
        await topology.ask(client, CREATE, variables, headers=curator)
    await pair.caught_up()
    title = f"Scale Probe {uuid.uuid4().hex[:8]}"
    await pair.replica.fetchval("SELECT pg_wal_replay_pause()")
    try:
        async with topology.client() as client:
            variables = {"input": {"title": title, "kind": "FILM"}}
            wrote, response = await topology.ask(client, CREATE, variables, headers=curator)
            body = response.json()["data"]["createWork"]
            assert body["userErrors"] == [], body
            new = {"slug": body["work"]["slug"]}
            written = response.headers["x-catalog-version"]
            assert int(written) == await pair.primary.fetchval(VERSION)
            mine = {"X-Catalog-Version": written}
            own = [
                await topology.ask(client, BY_SLUG, new, get=get, headers=mine)
                for get in (False, True)
                for _ in range(3)
            ]
            others = [await topology.ask(client, BY_SLUG, new) for _ in range(4)]
        assert {r.json()["data"]["work"]["title"] for _, r in own} == {title}
        assert {r.headers["x-catalog-version"] for _, r in own} == {written}
        answered = topology.answered_by([wrote] + [i for i, _ in own])
        assert {database for _, database in answered} == {"primary"}, answered
        assert {instance for instance, _ in answered[1:]} == set(INSTANCES), answered
        # everyone else is still answered by the replica, which has not replayed the write
        assert [r.json()["data"]["work"] for _, r in others] == [None] * len(others)
        assert all(int(r.headers["x-catalog-version"]) < int(written) for _, r in others)
        answered = topology.answered_by([i for i, _ in others])
        assert answered and {database for _, database in answered} == {"replica-1"}, answered
    finally:
        await pair.replica.fetchval("SELECT pg_wal_replay_resume()")
    await pair.caught_up()


async def test_with_one_instance_stopped_reads_still_answer(topology: Topology) -> None:
    """Reads (GETs: nginx passes them on whatever failed) go on while ``app-2`` stops, and
    every read, GET or POST, answers once it is gone: the proxy, refused by it, passes each
    on to ``app``. Last in the module: the instance stays stopped."""
    stopped = asyncio.Event()
    done = asyncio.Event()

    async def reader(client: httpx.AsyncClient) -> list[tuple[str, bool]]:
        asked = []
        while not done.is_set():
            after = stopped.is_set()
            request_id, response = await topology.ask(client, TITLE, get=True)
            assert response.json()["data"]["work"]["title"] == "Sea of Blood"
            asked.append((request_id, after))
        return asked

    async with topology.client() as client:
        readers = [asyncio.ensure_future(reader(client)) for _ in range(3)]
        try:
            await asyncio.sleep(0.3)
            await asyncio.to_thread(stop, topology.apps["app-2"].process)
            stopped.set()
            await asyncio.sleep(0.3)
        finally:
            done.set()
            during = [a for found in await asyncio.gather(*readers) for a in found]
        after = [
            await topology.ask(client, query, get=get)
            for query in (TITLE, WORKS)
            for get in (False, True)
            for _ in range(3)
        ]
    before = topology.answered_by([i for i, later in during if not later])
    assert {instance for instance, _ in before} == set(INSTANCES), before
    answered = topology.answered_by([i for i, later in during if later] + [i for i, _ in after])
    assert {instance for instance, _ in answered} == {"app"}, answered
    port = urlsplit(topology.apps["app-2"].base_url).port
    refused = [
        line
        for line in topology.proxy.output().splitlines()
        if "Connection refused" in line and f"127.0.0.1:{port}" in line
    ]
    assert refused, topology.proxy.output()  # tried, and passed on: not known to be down
