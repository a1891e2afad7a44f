"""Which database answers (web/routing.py), and read-your-writes.

In-process, on the backend under test: every answer carries the catalog version it was
computed at (``X-Catalog-Version``), a mutation's the version holding its write, and a
malformed ``X-Catalog-Version`` is a coded 400.

Against a real primary and streaming replica (``replication``: the PostgreSQL run), with
``nkcinema serve`` in a subprocess and the database that answered each request counted from
its access log: anonymous reads go to the replica, and mutations, ``changes`` and curators'
requests to the primary; with the replica's replay paused, a
curator who just wrote reads the write back by sending the version its mutation answered
with, while everyone else's reads stay on the replica (and a server whose lag limit the
paused replay exceeds leaves it); with the replica stopped, every read still succeeds, from
the primary, and once it is back, it is probed back into rotation.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession

from bench.replication import Replication
from db.catalog_version import catalog_version
from db.sessions import PRIMARY
from db.tokens import create_token
from tests.support.curation import CREATE, Curator
from tests.support.databases import curator_token
from tests.support.live import Server, ask_with_id, serve

TITLE = '{ work(slug: "sea-of-blood") { title } }'
WORKS = "{ works(first: 3) { nodes { slug title } } }"
CREDITS = '{ work(slug: "sea-of-blood") { title credits { role person { slug } } } }'
BY_SLUG = "query W($slug: String!) { work(slug: $slug) { title } }"
VERSION = "SELECT version FROM catalog_state WHERE id = 1"


# -- in-process, on the backend under test -------------------------------------------------


async def test_answers_carry_the_catalog_version_they_were_computed_at(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    version = str(await catalog_version(session))
    for _ in range(3):  # the full path, then the fast lane (a prepared plan, a cached answer)
        response = await client.post("/graphql", json={"query": TITLE})
        assert response.status_code == 200, response.text
        assert response.headers["x-catalog-version"] == version
    response = await client.get("/graphql", params={"query": TITLE})
    assert response.headers["x-catalog-version"] == version
    assert "x-catalog-version" in response.headers["vary"].lower()  # ETag'd: caches must vary
    tag = response.headers["etag"]
    again = await client.get("/graphql", params={"query": TITLE}, headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.headers["x-catalog-version"] == version


async def test_a_mutations_answer_carries_the_version_that_holds_its_write(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    before = await catalog_version(session)
    curator = Curator(client, await create_token(session, "versioned", "editor"))
    headers = {"Authorization": f"Bearer {curator.token}"}
    variables = {"input": {"title": "Versioned", "kind": "FILM"}}
    response = await client.post(
        "/graphql", json={"query": CREATE, "variables": variables}, headers=headers
    )
    body = response.json()
    assert body["data"]["createWork"]["userErrors"] == [], body
    written = int(response.headers["x-catalog-version"])
    assert written > before
    assert written == await catalog_version(session)


@pytest.mark.parametrize("value", ["abc", "1.5", "-1", "", " ", "0x10", "1" * 19, "٣"])
async def test_a_malformed_catalog_version_is_a_coded_bad_request(
    client: httpx.AsyncClient, value: str
) -> None:
    response = await client.post(
        "/graphql",
        json={"query": TITLE},
        headers={"X-Catalog-Version": value.encode("utf-8")},  # bytes: any octets
    )
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "X-Catalog-Version" in error["message"]


async def test_a_version_no_database_has_yet_is_answered_by_the_primary(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql", json={"query": TITLE}, headers={"X-Catalog-Version": str(10**15)}
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["work"]["title"] == "Sea of Blood"


# -- a real primary and streaming replica, nkcinema serve over HTTP --------------------------


class Live:
    """A server under test, a curator's token, and who answered which request."""

    def __init__(self, server: Server, token: str) -> None:
        self.server = server
        self.token = token

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.server.base_url, timeout=20.0)

    async def ask(
        self,
        client: httpx.AsyncClient,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        get: bool = False,
        headers: dict[str, str] | None = None,
    ) -> tuple[str, httpx.Response]:
        """Send an operation with a request id of its own; (the id, the response), which
        must have no errors."""
        return await ask_with_id(client, query, variables, get=get, headers=headers)

    def answered_by(self, request_ids: list[str]) -> list[str]:
        """The database that answered each request, from the JSON access log."""
        deadline = time.monotonic() + 5.0
        while True:
            found = {
                record["request_id"]: record["database"]
                for record in self.server.records()
                if record.get("logger") == "nkcinema.access" and "database" in record
            }
            if all(i in found for i in request_ids):
                return [found[i] for i in request_ids]
            assert time.monotonic() < deadline, "access records missing\n" + self.server.stderr
            time.sleep(0.05)

    async def read_until(self, database: str, query: str = TITLE, **kwargs: Any) -> Any:
        """Ask until ``database`` answers (a probe puts a replica back in rotation, or takes
        it out)."""
        deadline = time.monotonic() + 20.0
        async with self.client() as client:
            while True:
                request_id, response = await self.ask(client, query, **kwargs)
                if self.answered_by([request_id]) == [database]:
                    return response.json()["data"]
                assert time.monotonic() < deadline, f"{database} never answered"
                await asyncio.sleep(0.1)


class Servers:
    """``nkcinema serve`` on the primary with the replica twice: ``live`` with a lag limit far
    above the tests' pauses, ``strict`` with one the paused replay soon exceeds."""

    def __init__(self, live: Live, strict: Live) -> None:
        self.live, self.strict = live, strict


@pytest.fixture(scope="module")
def servers(
    replication: Replication, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Servers]:
    work = tmp_path_factory.mktemp("replicas")
    token = curator_token(replication.primary.url, "replica-curator")
    settings = {
        "NKCINEMA_REPLICA_URLS": replication.replica.url,
        "NKCINEMA_REPLICA_PROBE_INTERVAL": "0.2",
        "NKCINEMA_LOG_FORMAT": "json",
        "NKCINEMA_GRAPHIQL": "false",
    }
    lag_limits = {"live": "300", "strict": "0.2"}
    with ExitStack() as stack, ThreadPoolExecutor(len(lag_limits)) as starting:

        def start(name: str) -> Server:  # both at once: a server takes seconds to start
            env = {**settings, "NKCINEMA_REPLICA_MAX_LAG": lag_limits[name]}
            return stack.enter_context(serve(replication.primary.url, work, name, **env))

        live, strict = starting.map(start, lag_limits)
        yield Servers(Live(live, token), Live(strict, token))


async def test_anonymous_reads_are_answered_by_the_replica(
    servers: Servers, replication: Replication
) -> None:
    live = servers.live
    await replication.caught_up()
    version = await replication.primary.fetchval(VERSION)
    await live.read_until("replica-1")
    async with live.client() as client:
        asked = await asyncio.gather(
            *(
                live.ask(client, query, get=get)
                for query in (TITLE, WORKS, CREDITS)
                for get in (False, True)
                for _ in range(4)  # the full path, then the fast lane's plans and caches
            )
        )
    assert set(live.answered_by([i for i, _ in asked])) == {"replica-1"}
    assert {r.headers["x-catalog-version"] for _, r in asked} == {str(version)}
    # The metrics say the same: reads counted against the replica, its lag from the probes.
    async with live.client() as client:
        exposition = (await client.get("/metrics")).text
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }
    assert samples[("nkcinema_db_requests_total", (("database", "replica-1"),))] >= 1
    lag = samples[("nkcinema_replica_lag_seconds", (("database", "replica-1"),))]
    assert 0 <= lag < 300


async def test_mutations_the_audit_trail_and_curators_go_to_the_primary(
    servers: Servers, replication: Replication
) -> None:
    live = servers.live
    await live.read_until("replica-1")
    changes = "fragment F on Query { changes(first: 1) { nodes { actor } } } query { ...F }"
    sent: list[tuple[str, dict[str, str]]] = [
        (changes, {}),  # refused without a token, but never read from a replica
        (CREATE, {}),
        (TITLE, {"Authorization": f"Bearer {live.token}"}),
    ]
    ids = []
    async with live.client() as client:
        for query, headers in sent:
            request_id = uuid.uuid4().hex
            ids.append(request_id)
            variables = {"input": {"title": "Refused", "kind": "FILM"}}
            response = await client.post(
                "/graphql",
                json={"query": query, "variables": variables if query == CREATE else {}},
                headers={"X-Request-ID": request_id, **headers},
            )
            assert response.status_code == 200, response.text
        assert response.json()["data"]["work"]["title"] == "Sea of Blood"
    assert live.answered_by(ids) == [PRIMARY] * 3


async def test_with_replay_paused_a_writer_reads_its_write_and_others_stay_on_the_replica(
    servers: Servers, replication: Replication
) -> None:
    live, strict = servers.live, servers.strict
    await replication.caught_up()
    await live.read_until("replica-1")
    await strict.read_until("replica-1")
    title = f"Replica Probe {uuid.uuid4().hex[:8]}"
    curator = {"Authorization": f"Bearer {live.token}"}
    await replication.replica.fetchval("SELECT pg_wal_replay_pause()")
    try:
        async with live.client() as client:
            variables = {"input": {"title": title, "kind": "FILM"}}
            wrote, response = await live.ask(client, CREATE, variables, headers=curator)
            slug = response.json()["data"]["createWork"]["work"]["slug"]
            written = response.headers["x-catalog-version"]
            assert int(written) == await replication.primary.fetchval(VERSION)
            mine = {"X-Catalog-Version": written}
            new = {"slug": slug}

            async def own_read(get: bool) -> tuple[str, httpx.Response]:
                return await live.ask(client, BY_SLUG, new, get=get, headers=mine)

            async def other_read(query: str, variables: Any) -> tuple[str, httpx.Response]:
                return await live.ask(client, query, variables)

            for _ in range(2):  # concurrently; the second round meets the caches and plans
                own = await asyncio.gather(*(own_read(get) for get in (False, True) * 3))
                others = await asyncio.gather(
                    *(other_read(BY_SLUG, new) for _ in range(6)),
                    *(other_read(TITLE, None) for _ in range(6)),
                )
                assert {r.json()["data"]["work"]["title"] for _, r in own} == {title}
                assert {r.headers["x-catalog-version"] for _, r in own} == {written}
                assert set(live.answered_by([wrote] + [i for i, _ in own])) == {"primary"}
                # the replica has not replayed the write: it answers without it, older
                assert [r.json()["data"]["work"] for _, r in others[:6]] == [None] * 6
                assert {r.json()["data"]["work"]["title"] for _, r in others[6:]} == {
                    "Sea of Blood"
                }
                assert all(int(r.headers["x-catalog-version"]) < int(written) for _, r in others)
                assert set(live.answered_by([i for i, _ in others])) == {"replica-1"}

        # The paused replay is soon further behind than the strict server allows: its probes
        # take the replica out, and everyone reads the primary there, the write included.
        data = await strict.read_until(PRIMARY, BY_SLUG, variables=new)
        assert data["work"]["title"] == title
        async with strict.client() as client:
            asked = await asyncio.gather(*(strict.ask(client, BY_SLUG, new) for _ in range(4)))
        assert {r.json()["data"]["work"]["title"] for _, r in asked} == {title}
        assert set(strict.answered_by([i for i, _ in asked])) == {PRIMARY}
    finally:
        await replication.replica.fetchval("SELECT pg_wal_replay_resume()")
    # replay resumed: the replica converges, and answers the write to everyone (the writer too)
    await replication.caught_up()
    assert (await live.read_until("replica-1", BY_SLUG, variables=new))["work"]["title"] == title
    data = await live.read_until("replica-1", BY_SLUG, variables=new, headers=mine)
    assert data["work"]["title"] == title
    assert (await strict.read_until("replica-1", BY_SLUG, variables=new))["work"]["title"] == title


async def test_with_the_replica_stopped_every_read_succeeds_and_it_is_probed_back(
    servers: Servers, replication: Replication
) -> None:
    live = servers.live
    await replication.caught_up()
    await live.read_until("replica-1")
    stopped = asyncio.Event()
    done = asyncio.Event()

    async def reader(n: int) -> list[tuple[str, bool, httpx.Response]]:
        """Reads one after another until told to stop: (id, sent after the crash, answer)."""
        asked = []
        while not done.is_set():
            after = stopped.is_set()
            query = (TITLE, WORKS, CREDITS)[n % 3]
            request_id, response = await live.ask(client, query, get=n % 2 == 0)
            asked.append((request_id, after, response))
        return asked

    async with live.client() as client:
        readers = [asyncio.ensure_future(reader(n)) for n in range(6)]
        try:
            await asyncio.sleep(0.3)
            # as a crash would, with requests in flight: its pooled connections die with it
            await asyncio.to_thread(replication.replica.stop)
            stopped.set()
            await asyncio.sleep(0.5)
        finally:
            done.set()
            asked = [a for found in await asyncio.gather(*readers) for a in found]
            replication.replica.start()
    data = [r.json()["data"] for _, _, r in asked]
    assert {d["work"]["title"] for d in data if "work" in d} == {"Sea of Blood"}
    assert all(len(d["works"]["nodes"]) == 3 for d in data if "works" in d)
    before = live.answered_by([i for i, after, _ in asked if not after])
    after = live.answered_by([i for i, after, _ in asked if after])
    assert "replica-1" in before and after and set(after) == {PRIMARY}, (before, after)
    # back: probed into rotation, its dead connections replaced
    await live.read_until("replica-1")
    await live.read_until("replica-1", WORKS, get=True)
    await live.read_until("replica-1", CREDITS)


REPLICA_FAMILIES = (  # as prometheus-client's parser names them (counters without _total)
    "nkcinema_requests",
    "nkcinema_request_duration_seconds",
    "nkcinema_executions",
    "nkcinema_request_cost",
    "nkcinema_db_pool_connections",
    "nkcinema_db_requests",
    "nkcinema_replica_lag_seconds",
)


def test_two_workers_with_a_replica_show_every_family_with_its_reads_and_lag(
    replication: Replication, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """``--workers 2`` over the primary and its replica: whichever worker answers /metrics,
    every family of the metrics is there, the replica's among them — the reads it answered
    and its lag, as the workers' probes measured it (the largest of theirs)."""
    work = tmp_path_factory.mktemp("replica-workers")
    directory = work / "metrics"
    directory.mkdir()
    with serve(
        replication.primary.url,
        work,
        "replica-workers",
        args=("--workers", "2"),
        NKCINEMA_REPLICA_URLS=replication.replica.url,
        NKCINEMA_REPLICA_PROBE_INTERVAL="0.2",
        PROMETHEUS_MULTIPROC_DIR=str(directory),
    ) as server:
        deadline = time.monotonic() + 20.0
        while True:
            for _ in range(10):  # a connection each, so that either worker may take it
                answer = httpx.post(
                    f"{server.base_url}/graphql",
                    json={"query": TITLE},
                    headers={"Connection": "close"},
                    timeout=10,
                )
                assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
            scrape = httpx.get(f"{server.base_url}/metrics", headers={"Connection": "close"})
            families = {
                family.name: {
                    (s.name, tuple(sorted(s.labels.items()))): s.value for s in family.samples
                }
                for family in text_string_to_metric_families(scrape.text)
            }
            replica = (("database", "replica-1"),)
            reads = families.get("nkcinema_db_requests", {}).get(
                ("nkcinema_db_requests_total", replica), 0
            )
            lag = families.get("nkcinema_replica_lag_seconds", {}).get(
                ("nkcinema_replica_lag_seconds", replica)
            )
            if reads >= 1 and lag is not None:
                break
            assert time.monotonic() < deadline, sorted(families)
    for name in REPLICA_FAMILIES:
        assert name in families, (name, sorted(families))
    assert 0 <= lag < 30  # the default NKCINEMA_REPLICA_MAX_LAG: it is in rotation
