"""Surviving database faults (issue #5, item 6), on the real app over HTTP.

* PostgreSQL stopped and restarted while clients issue requests: errors only while it is
  down, each a clean ``SERVICE_UNAVAILABLE`` within 2 s; none once it is back; /readyz
  follows. (The test restarts the local cluster that serves TEST_DATABASE_URL's port, and
  always starts it again, whatever happens.)
* A connection dropped between requests (the pool pings it) or between the statements of
  one request (``RequestDatabase`` retries the read once) costs the client nothing; the
  retry rule itself, unit by unit.
* SQLite: concurrent readers and a writer holding a transaction do not fail (WAL, busy
  timeout).
* SIGTERM: in-flight requests finish before the server exits.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from sqlalchemy import event, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.pool import QueuePool
from sqlalchemy.util import await_

from db import models as m
from db.engine import (
    SQLITE_BUSY_TIMEOUT_MS,
    create_engine,
    engine_from_settings,
    session_factory,
)
from db.sessions import RequestDatabase
from db.tokens import create_token
from settings import Settings
from tests.support.client import app_client as open_client
from tests.support.client import make_app
from tests.support.databases import IN_CI, Databases, backend_name
from tests.support.live import serve

ON_POSTGRESQL = backend_name() == "postgresql"
POSTGRESQL_ONLY = "PostgreSQL only: the fault is a PostgreSQL server going away"
SQLITE_ONLY = "SQLite only: WAL and the busy timeout are how SQLite lets readers and a writer meet"

FAIL_FAST_SECONDS = 2.0  # every request while the database is down must be answered by then
DOWN_SECONDS = 2.0  # how long the cluster stays stopped
CLIENTS = 3  # concurrent clients during the outage, each one request every CLIENT_PAUSE
CLIENT_PAUSE = 0.1
SUCCESSES_AFTER = 20  # requests that must all succeed once the server is back
CLUSTER_TIMEOUT = 60.0  # for pg_ctlcluster and for the server to accept connections again

QUERY = """
query DirectorWorks($slug: String!) {
  person(slug: $slug) {
    name
    works(role: DIRECTOR, first: 5) { totalCount nodes { title themes { name } } }
  }
}
"""
VARIABLES = {"slug": "choe-ik-kyu"}
PERSON_NAME = "Choe Ik-kyu"


# -- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture(scope="module")
def fault_catalog(databases: Databases) -> str:
    """This module's own seeded catalog: its connections get killed and its data bumped."""
    return databases.create_seeded()


@asynccontextmanager
async def app_client(
    database_url: str, *, compiled: bool = True
) -> AsyncIterator[tuple[httpx.AsyncClient, AsyncEngine]]:
    """The app as the service builds it (its engine from the settings), over HTTP. Without
    the response cache: every request here must reach the database's tables."""
    settings = Settings(database_url=database_url, response_cache_entries=0, compiled=compiled)
    engine = engine_from_settings(settings)
    try:
        async with open_client(settings, engine=engine) as c:
            yield c, engine
    finally:
        await engine.dispose()


@dataclass
class Sample:
    """One request: when it started and ended (monotonic seconds) and what came back."""

    started: float
    finished: float
    status: int
    body: Any
    retry_after: str | None = None  # the Retry-After header

    @property
    def elapsed(self) -> float:
        return self.finished - self.started

    @property
    def errors(self) -> list[Any]:
        if not isinstance(self.body, dict):
            return [{"message": f"not a GraphQL response: {self.body!r}"}]
        return list(self.body.get("errors") or [])

    @property
    def ok(self) -> bool:
        return self.status == 200 and not self.errors

    def describe(self, origin: float) -> str:
        codes = [e.get("extensions", {}).get("code") for e in self.errors]
        return (
            f"[{self.started - origin:+7.3f} s .. {self.finished - origin:+7.3f} s] "
            f"{self.status} {codes or 'ok'} in {self.elapsed:.3f} s"
        )


async def graphql_request(client: httpx.AsyncClient) -> Sample:
    started = time.monotonic()
    try:
        response = await client.post("/graphql", json={"query": QUERY, "variables": VARIABLES})
    except Exception as error:  # the app must always answer: this is a failure to report
        return Sample(started, time.monotonic(), 0, f"no response: {error!r}")
    finished = time.monotonic()
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return Sample(
        started, finished, response.status_code, body, response.headers.get("retry-after")
    )


def assert_answered(sample: Sample) -> None:
    assert sample.ok, sample.body
    assert sample.body["data"]["person"]["name"] == PERSON_NAME


def clean_unavailable_problems(sample: Sample) -> list[str]:
    """What keeps ``sample`` from being a clean, fast SERVICE_UNAVAILABLE (empty: nothing):
    HTTP 503 with ``Retry-After`` (gql/admission.py), the code on every error."""
    problems = []
    if sample.status != 503:
        problems.append(f"HTTP {sample.status}")
    if not (sample.retry_after or "").isdigit():
        problems.append(f"Retry-After {sample.retry_after!r}")
    if not sample.errors:
        problems.append("no errors")
    for error in sample.errors:
        if error.get("extensions", {}).get("code") != "SERVICE_UNAVAILABLE":
            problems.append(f"error not SERVICE_UNAVAILABLE: {error}")
    text = json.dumps(sample.body)
    for leak in ("Traceback", "asyncpg", "postgresql://", "sqlalchemy"):
        if leak in text:
            problems.append(f"response leaks {leak!r}")
    if sample.elapsed >= FAIL_FAST_SECONDS:
        problems.append(f"took {sample.elapsed:.3f} s")
    return problems


def pooled(engine: AsyncEngine) -> int:
    """How many connections wait in the engine's pool."""
    assert isinstance(engine.pool, QueuePool)
    return engine.pool.checkedin()


def _admin_url(database_url: str) -> str:
    """asyncpg's URL for a ``postgresql://`` or ``postgresql+asyncpg://`` URL."""
    return "postgresql://" + database_url.partition("://")[2]


async def terminate_backends(database_url: str, pids: list[int] | None = None) -> list[int]:
    """Kill the app's server connections to the database (all of them, or ``pids``), the way a
    failover or an administrator does; the backends have exited when this returns."""
    admin = await asyncpg.connect(_admin_url(database_url), timeout=5)
    try:
        rows = await admin.fetch(
            "SELECT pid, pg_terminate_backend(pid, 5000) AS gone FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND ($1::int[] IS NULL OR pid = ANY($1::int[]))",
            pids,
        )
    finally:
        await admin.close()
    return [row["pid"] for row in rows if row["gone"]]


# -- the local PostgreSQL cluster -----------------------------------------------------------


@dataclass(frozen=True)
class Cluster:
    """A local cluster (Debian's postgresql-common), found by the port of the URL."""

    version: str
    name: str
    port: int
    database_url: str

    def command(self, *action: str) -> list[str]:
        return ["pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.name, *action]

    async def ctl(self, *action: str) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            *self.command(*action),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(process.communicate(), CLUSTER_TIMEOUT)
        assert process.returncode is not None
        return process.returncode, output.decode(errors="replace")

    async def accepts_connections(self) -> bool:
        try:
            connection = await asyncpg.connect(_admin_url(self.database_url), timeout=1)
        except (TimeoutError, OSError, asyncpg.PostgresError):
            return False
        try:
            await connection.fetchval("SELECT 1")
        finally:
            await connection.close()
        return True

    async def accepting_since(self) -> float:
        """When (monotonic) the server first accepted a connection, polling from now."""
        deadline = time.monotonic() + CLUSTER_TIMEOUT
        while not await self.accepts_connections():
            assert time.monotonic() < deadline, "PostgreSQL does not accept connections"
            await asyncio.sleep(0.05)
        return time.monotonic()

    async def ensure_running(self) -> None:
        """Start the cluster unless it runs, and wait until it accepts connections."""
        status, _ = await self.ctl("status")
        if status != 0:  # 3: not running
            code, output = await self.ctl("start")
            assert code == 0, f"could not restart PostgreSQL {self.version}/{self.name}: {output}"
        deadline = time.monotonic() + CLUSTER_TIMEOUT
        while not await self.accepts_connections():
            assert time.monotonic() < deadline, (
                f"PostgreSQL {self.version}/{self.name} does not accept connections again"
            )
            await asyncio.sleep(0.1)


def _cluster_problem(database_url: str) -> Cluster | str:
    parts = urlsplit(database_url)
    if parts.hostname not in (None, "", "localhost", "127.0.0.1", "::1"):
        return f"the database at {parts.hostname} is not a local cluster this test may restart"
    port = parts.port or 5432
    if shutil.which("pg_lsclusters") is None or shutil.which("pg_ctlcluster") is None:
        return "pg_lsclusters/pg_ctlcluster (postgresql-common) are not installed"
    listing = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=False
    )
    for line in listing.stdout.splitlines():
        columns = line.split()  # Ver Cluster Port Status Owner Data-directory Log-file
        if len(columns) >= 5 and columns[2] == str(port):
            version, name, _port, _status, owner = columns[:5]
            if os.geteuid() != 0 and owner != os.environ.get("USER"):
                return f"cluster {version}/{name} belongs to {owner}: cannot restart it"
            return Cluster(version, name, port, database_url)
    return f"no local cluster listens on port {port} (pg_lsclusters: {listing.stdout.strip()!r})"


def local_cluster(database_url: str) -> Cluster:
    """The cluster to stop and start; skips (fails in CI) when there is none to control."""
    found = _cluster_problem(database_url)
    if isinstance(found, str):
        if IN_CI:
            pytest.fail(f"{found} (CI must run the PostgreSQL fault test)", pytrace=False)
        pytest.skip(found)
    return found


# -- PostgreSQL stopped and restarted -------------------------------------------------------


@dataclass
class Clients:
    """A few clients issuing requests in a loop until told to stop."""

    client: httpx.AsyncClient
    samples: list[Sample] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def loop(self) -> None:
        while not self.done.is_set():
            self.samples.append(await graphql_request(self.client))
            await asyncio.sleep(CLIENT_PAUSE)

    def started_after(self, moment: float) -> list[Sample]:
        return [s for s in self.samples if s.started > moment]


@pytest.mark.serial
@pytest.mark.skipif(not ON_POSTGRESQL, reason=POSTGRESQL_ONLY)
async def test_postgresql_restart_fails_fast_while_down_and_recovers_without_restarting_the_app(
    fault_catalog: str,
) -> None:
    cluster = local_cluster(fault_catalog)
    await cluster.ensure_running()
    timeline: dict[str, float] = {}
    async with app_client(fault_catalog) as (client, _engine):
        for _ in range(3):  # the pool holds live connections, which the stop will kill
            assert_answered(await graphql_request(client))
        assert (await client.get("/readyz")).status_code == 200

        clients = Clients(client)
        loops = [asyncio.create_task(clients.loop()) for _ in range(CLIENTS)]
        try:
            await asyncio.sleep(0.5)
            try:
                timeline["stop issued"] = time.monotonic()
                code, output = await cluster.ctl("stop", "-m", "fast")
                assert code == 0, output
                timeline["stopped"] = time.monotonic()
                await asyncio.sleep(0.2)
                ready_started = time.monotonic()
                readyz_down = await client.get("/readyz")
                readyz_down_elapsed = time.monotonic() - ready_started
                await asyncio.sleep(DOWN_SECONDS)
            finally:  # never leave PostgreSQL down
                timeline["start issued"] = time.monotonic()
                probe = asyncio.create_task(cluster.accepting_since())
                try:
                    await cluster.ensure_running()
                    timeline["back"] = await asyncio.wait_for(probe, CLUSTER_TIMEOUT)
                finally:
                    probe.cancel()
            # "back": when a connection of our own first succeeded (pg_ctlcluster returns
            # later); a request begun after that has no excuse to fail.
            back = timeline["back"]
            deadline = back + 30.0
            while len(clients.started_after(back)) < SUCCESSES_AFTER * CLIENTS:
                assert time.monotonic() < deadline, "the clients stalled after the restart"
                await asyncio.sleep(CLIENT_PAUSE)
        finally:
            clients.done.set()
            await asyncio.gather(*loops)
        readyz_up = await client.get("/readyz")

    origin = timeline["stop issued"]
    report = "\n".join(
        [f"{name}: {moment - origin:+.3f} s" for name, moment in timeline.items()]
        + [s.describe(origin) for s in sorted(clients.samples, key=lambda s: s.started)]
    )
    errors = [s for s in clients.samples if not s.ok]
    # The fault was real: requests failed while the server was down …
    assert len(errors) >= 3, f"the outage produced too few errors to test anything\n{report}"
    # … each one a clean SERVICE_UNAVAILABLE, answered within 2 s …
    unclean = [(s.describe(origin), clean_unavailable_problems(s)) for s in errors]
    assert not [u for u in unclean if u[1]], f"{unclean}\n{report}"
    # … and only while it was down: the request overlapped [stop issued, back].
    outside = [s for s in errors if s.finished < timeline["stop issued"] or s.started > back]
    assert not outside, f"errors outside the outage: {outside}\n{report}"
    # Once it was back, every request succeeded (at least SUCCESSES_AFTER per client).
    after = clients.started_after(back)
    assert len(after) >= SUCCESSES_AFTER * CLIENTS
    assert all(s.ok for s in after), report
    for sample in after[-SUCCESSES_AFTER:]:
        assert_answered(sample)
    # /readyz said so too, as fast.
    assert readyz_down.status_code == 503, readyz_down.text
    assert readyz_down_elapsed < FAIL_FAST_SECONDS
    assert readyz_up.status_code == 200, readyz_up.text


@pytest.mark.serial
@pytest.mark.skipif(not ON_POSTGRESQL, reason=POSTGRESQL_ONLY)
async def test_after_a_restart_nobody_saw_the_very_next_requests_succeed(
    fault_catalog: str,
) -> None:
    """No request noticed the outage, so the pool is full of dead connections: the pings
    (and, failing them, the read retry) must keep them from the next requests."""
    cluster = local_cluster(fault_catalog)
    await cluster.ensure_running()
    async with app_client(fault_catalog) as (client, engine):
        for sample in await asyncio.gather(*(graphql_request(client) for _ in range(5))):
            assert_answered(sample)
        assert pooled(engine) >= 2
        try:
            code, output = await cluster.ctl("restart", "-m", "fast")
            assert code == 0, output
        finally:
            await cluster.ensure_running()
        assert_answered(await graphql_request(client))
        for sample in await asyncio.gather(*(graphql_request(client) for _ in range(5))):
            assert_answered(sample)


# -- a server that cannot serve, imitated (any backend: no PostgreSQL needed) ---------------


def _postgres_error(sqlstate: str, message: str) -> bytes:
    """A FATAL ErrorResponse of PostgreSQL's wire protocol."""
    fields = b"".join(
        kind + value.encode() + b"\0"
        for kind, value in ((b"S", "FATAL"), (b"V", "FATAL"), (b"C", sqlstate), (b"M", message))
    )
    payload = fields + b"\0"
    return b"E" + (len(payload) + 4).to_bytes(4, "big") + payload


@asynccontextmanager
async def fake_postgresql(answer: bytes | None) -> AsyncIterator[str]:
    """A TCP server where PostgreSQL should be: it declines SSL, reads the startup message,
    then sends ``answer`` and hangs up (None: never answers). Yields its database URL."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                length = int.from_bytes(await reader.readexactly(4), "big")
                code = int.from_bytes(await reader.readexactly(4), "big")
                await reader.readexactly(length - 8)
                if code == 80877103:  # SSLRequest: "N", not supported; the startup follows
                    writer.write(b"N")
                    await writer.drain()
                    continue
                break
            if answer is None:
                await asyncio.sleep(30)
                return
            writer.write(answer)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/test"
    finally:
        server.close()


@pytest.mark.parametrize(
    "message", ["the database system is starting up", "the database system is shutting down"]
)
async def test_a_server_starting_up_or_shutting_down_is_service_unavailable_at_once(
    message: str,
) -> None:
    async with (
        fake_postgresql(_postgres_error("57P03", message)) as url,
        app_client(url) as (client, _engine),
    ):
        sample = await graphql_request(client)
        started = time.monotonic()
        readyz = await client.get("/readyz")
        readyz_elapsed = time.monotonic() - started
    assert not clean_unavailable_problems(sample), (clean_unavailable_problems(sample), sample)
    # "At once": well inside the 2 s connect timeout that waiting would cost, with room for a
    # loaded machine (0.5 s failed once beside other test runs).
    assert sample.elapsed < 1.0
    assert readyz.status_code == 503
    assert readyz_elapsed < 1.0


async def test_a_server_that_never_answers_is_service_unavailable_after_the_connect_timeout() -> (
    None
):
    """A black hole (a hung server, a dropped route) costs a request the connect timeout."""
    connect_timeout = 1.0
    async with fake_postgresql(None) as url:
        settings = Settings(database_url=url, connect_timeout=connect_timeout)
        engine = engine_from_settings(settings)
        try:
            async with open_client(settings, engine=engine) as client:
                sample = await graphql_request(client)
        finally:
            await engine.dispose()
    assert not clean_unavailable_problems(sample), (clean_unavailable_problems(sample), sample)
    assert connect_timeout - 0.1 < sample.elapsed < connect_timeout + 0.5, sample.elapsed


async def test_an_exhausted_pool_is_service_unavailable_after_the_pool_timeout(
    fault_catalog: str,
) -> None:
    """Every connection busy (pool_size + max_overflow of them): a request waits
    ``pool_timeout`` for one, then fails cleanly instead of queueing without end."""
    settings = Settings(database_url=fault_catalog, pool_size=1, pool_timeout=0.5)
    engine = engine_from_settings(settings)
    app = make_app(settings, engine=engine)
    held = []
    try:
        while True:  # take every connection the pool will give
            try:
                connection = await asyncio.wait_for(engine.connect(), 2)
            except Exception:  # the pool's own timeout: it is exhausted
                break
            held.append(connection)
            assert len(held) <= 20, "the pool is not bounded"
        async with open_client(app) as client:
            sample = await graphql_request(client)
            for connection in held:
                await connection.close()
            held.clear()
            after = await graphql_request(client)
    finally:
        for connection in held:
            await connection.close()
        await engine.dispose()
    assert not clean_unavailable_problems(sample), (clean_unavailable_problems(sample), sample)
    assert 0.4 < sample.elapsed < 1.5, sample.elapsed
    assert_answered(after)


# -- dropped connections ---------------------------------------------------------------------


@pytest.mark.skipif(not ON_POSTGRESQL, reason=POSTGRESQL_ONLY)
async def test_a_connection_dropped_between_requests_is_replaced(fault_catalog: str) -> None:
    async with app_client(fault_catalog) as (client, engine):
        assert_answered(await graphql_request(client))
        assert pooled(engine) >= 1  # the request's connection waits in the pool
        assert await terminate_backends(fault_catalog)
        for _ in range(3):
            assert_answered(await graphql_request(client))


@pytest.mark.skipif(not ON_POSTGRESQL, reason=POSTGRESQL_ONLY)
async def test_a_connection_dropped_between_statements_of_a_request_is_retried(
    fault_catalog: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The request's second statement finds its connection (held since the first) killed:
    no ping happens there, so only the read retry can save the request. (The resolver path:
    a repeated compiled request makes a single statement.)"""
    async with app_client(fault_catalog, compiled=False) as (client, engine):
        assert_answered(await graphql_request(client))  # warm: the schema is loaded
        statements: list[str] = []

        def kill_before_second(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements.append(statement)
            if len(statements) == 2:
                pid = conn.connection.driver_connection.get_server_pid()
                assert await_(terminate_backends(fault_catalog, [pid])) == [pid]

        event.listen(engine.sync_engine, "before_cursor_execute", kill_before_second)
        try:
            with caplog.at_level(logging.WARNING, logger="nkcinema"):
                sample = await graphql_request(client)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", kill_before_second)
    assert_answered(sample)
    retries = [r for r in caplog.records if "retrying a read once" in r.getMessage()]
    assert len(retries) == 1, caplog.text
    assert statements[1] in statements[2:]  # the killed statement ran again
    assert not [r for r in caplog.records if r.name == "nkcinema.errors"], caplog.text


@pytest.mark.skipif(not ON_POSTGRESQL, reason=POSTGRESQL_ONLY)
async def test_the_fast_lane_survives_its_connections_being_killed(fault_catalog: str) -> None:
    """The fast lane's own pool (no ping per checkout) holds connections killed under it: the
    request that meets one is answered by the normal path, and the dead connection is dropped
    rather than returned to the pool."""
    settings = Settings(database_url=fault_catalog, response_cache_entries=0)
    app = make_app(settings)  # its own engines, as `nkcinema serve` builds it
    async with open_client(app, lifespan=True) as client:
        [view] = [r.endpoint for r in app.routes if getattr(r, "path", "") == "/graphql"]
        for _ in range(3):  # the first answers the normal way, the others by the fast lane
            assert_answered(await graphql_request(client))
        assert view.prepared.hits == 2
        assert await terminate_backends(fault_catalog)  # every connection the app holds
        for _ in range(3):
            sample = await graphql_request(client)
            assert_answered(sample)
        assert view.prepared.hits == 5  # the lane tried each time


@pytest.mark.skipif(not ON_POSTGRESQL, reason=POSTGRESQL_ONLY)
async def test_a_retried_read_runs_on_a_fresh_connection(fault_catalog: str) -> None:
    engine = engine_from_settings(Settings(database_url=fault_catalog))
    database = RequestDatabase(session_factory(engine)())

    async def backend_pid(session: AsyncSession) -> int:
        return int((await session.execute(select(func.pg_backend_pid()))).scalar_one())

    try:
        work = await database.run(lambda s: s.scalar(select(m.Work).limit(1)))
        first = await database.run(backend_pid)
        assert await database.run(backend_pid) == first  # one connection for the request
        assert await terminate_backends(fault_catalog, [first]) == [first]
        second = await database.run(backend_pid)
        assert second != first
        assert work is not None and work.title  # what was loaded before stays readable
    finally:
        await database.close()
        await engine.dispose()


@pytest.mark.skipif(not ON_POSTGRESQL, reason=POSTGRESQL_ONLY)
async def test_a_request_whose_connection_died_after_its_last_statement_closes_quietly(
    fault_catalog: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The answer is given; rolling back on the dead connection fails; closing must not."""
    engine = engine_from_settings(Settings(database_url=fault_catalog))
    database = RequestDatabase(session_factory(engine)())
    try:
        pid = await database.run(lambda s: s.scalar(select(func.pg_backend_pid())))
        assert await terminate_backends(fault_catalog, [pid]) == [pid]
        with caplog.at_level(logging.WARNING, logger="nkcinema"):
            await database.close()
        assert "closing a request's session" in caplog.text
        async with session_factory(engine)() as session:  # the pool carries on
            assert (await session.execute(select(func.count(m.Work.id)))).scalar_one() > 0
    finally:
        await engine.dispose()


# -- the retry rule, unit by unit (both backends) -----------------------------------------


def dropped_connection() -> DBAPIError:
    """What SQLAlchemy raises when a statement's connection turns out to be dead."""
    return DBAPIError(
        "SELECT 1", None, ConnectionResetError("connection lost"), connection_invalidated=True
    )


@pytest.fixture
async def request_databases(
    fault_catalog: str,
) -> AsyncIterator[Callable[[], RequestDatabase]]:
    """Makes request databases (a session each) on a plain engine; closes them all."""
    engine = create_engine(fault_catalog)
    sessions = session_factory(engine)
    made: list[RequestDatabase] = []

    def make() -> RequestDatabase:
        made.append(RequestDatabase(sessions()))
        return made[-1]

    try:
        yield make
    finally:
        for database in made:
            await database.close()
        await engine.dispose()


def failing_read(failures: int, error: Callable[[], BaseException] = dropped_connection) -> Any:
    """A read that raises ``error`` on its first ``failures`` calls; counts its calls."""

    async def read(session: AsyncSession) -> str:
        read.calls += 1  # type: ignore[attr-defined]
        await session.execute(select(m.Work.id).limit(1))
        if read.calls <= failures:  # type: ignore[attr-defined]
            raise error()
        return "read"

    read.calls = 0  # type: ignore[attr-defined]
    return read


async def test_a_read_whose_connection_dropped_is_retried_once(
    request_databases: Callable[[], RequestDatabase],
) -> None:
    database = request_databases()
    work = await database.run(lambda s: s.scalar(select(m.Work).limit(1)))
    read = failing_read(1)
    assert await database.run(read) == "read"
    assert read.calls == 2
    assert work is not None and work.title  # loaded before the retry: still readable
    assert await database.run(failing_read(0)) == "read"  # the session goes on


async def test_a_read_is_retried_only_once(
    request_databases: Callable[[], RequestDatabase],
) -> None:
    read = failing_read(2)
    with pytest.raises(DBAPIError) as raised:
        await request_databases().run(read)
    assert raised.value.connection_invalidated
    assert read.calls == 2


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(lambda: DBAPIError("SELECT 1", None, ValueError("bad")), id="query-error"),
        pytest.param(lambda: ConnectionRefusedError(111, "refused"), id="cannot-connect"),
        pytest.param(lambda: ValueError("a bug"), id="not-database"),
    ],
)
async def test_other_errors_are_not_retried(
    request_databases: Callable[[], RequestDatabase], error: Callable[[], BaseException]
) -> None:
    read = failing_read(1, error)
    with pytest.raises(type(error())):
        await request_databases().run(read)
    assert read.calls == 1


async def _update_statement(session: AsyncSession) -> None:
    await session.execute(update(m.CatalogState).values(version=m.CatalogState.version))


async def _text_statement(session: AsyncSession) -> None:
    await session.execute(text("SELECT 1"))


async def _pending_object(session: AsyncSession) -> None:
    session.add(m.CatalogState(id=999, version=1))


async def _explicit_transaction(session: AsyncSession) -> None:
    async with session.begin():
        await session.execute(select(m.Work.id).limit(1))


async def _flush(session: AsyncSession) -> None:
    state = await session.get(m.CatalogState, 1)
    assert state is not None
    state.version += 1  # never committed: the session is closed (rolled back) after the test
    await session.flush()


WRITES = [
    pytest.param(_update_statement, id="UPDATE"),
    pytest.param(_text_statement, id="text()-counts-as-a-write"),
    pytest.param(_pending_object, id="pending-object"),
    pytest.param(_explicit_transaction, id="explicit-begin"),
    pytest.param(_flush, id="flush"),
]


@pytest.mark.parametrize("write", WRITES)
async def test_a_request_that_wrote_earlier_is_not_retried(
    request_databases: Callable[[], RequestDatabase],
    write: Callable[[AsyncSession], Awaitable[None]],
) -> None:
    """A write (or what may be one) in an earlier statement of the request makes its session
    a writer: a later dropped connection is an error, not a retry. Nothing is committed
    (except by the explicit transaction, which writes nothing)."""
    database = request_databases()
    await database.run(write)
    read = failing_read(1)
    with pytest.raises(DBAPIError):
        await database.run(read)
    assert read.calls == 1


@pytest.mark.parametrize("write", WRITES)
async def test_a_statement_that_writes_is_not_retried(
    request_databases: Callable[[], RequestDatabase],
    write: Callable[[AsyncSession], Awaitable[None]],
) -> None:
    calls = 0

    async def write_then_drop(session: AsyncSession) -> None:
        nonlocal calls
        calls += 1
        await write(session)
        raise dropped_connection()

    with pytest.raises(DBAPIError):
        await request_databases().run(write_then_drop)
    assert calls == 1


# -- SQLite: readers and a writer -----------------------------------------------------------


@pytest.mark.skipif(ON_POSTGRESQL, reason=SQLITE_ONLY)
async def test_sqlite_readers_and_writers_do_not_fail_while_a_writer_holds_a_transaction(
    fault_catalog: str,
) -> None:
    """20 readers loop over HTTP while another connection (as a second process would) holds
    an exclusive write transaction for 1 s, and a second writer (the app's engine) queues
    behind it. WAL: reads go on while the writer holds its lock (in the default rollback
    journal, BEGIN EXCLUSIVE would stop them all). Busy timeout: the second writer waits
    instead of failing with "database is locked". Then the first writer commits a few more
    short transactions while the readers go on."""
    readers = 20
    writes_after = 5
    bump = "UPDATE catalog_state SET version = version + 1"
    database_file = Settings(database_url=fault_catalog).sqlite_path()
    assert database_file is not None
    # The first writer: its own connection, as a second process (a seed) would have.
    first = sqlite3.connect(database_file, isolation_level=None, check_same_thread=False)
    second_engine = create_engine(fault_catalog)
    samples: list[Sample] = []
    done = asyncio.Event()

    async def first_writer(sql: str) -> None:
        await asyncio.to_thread(first.execute, sql)

    try:
        await first_writer(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        before = first.execute("SELECT version FROM catalog_state").fetchone()[0]
        # It holds the write lock before the app even connects: the app's connections open
        # (and set their pragmas) while the lock is held.
        await first_writer("BEGIN EXCLUSIVE")
        await first_writer(bump)
        async with app_client(fault_catalog) as (client, _engine):

            async def reader() -> None:
                while not done.is_set():
                    samples.append(await graphql_request(client))

            async def second_writer() -> float:
                started = time.monotonic()
                async with second_engine.begin() as connection:
                    await connection.execute(text(bump))
                return time.monotonic() - started

            tasks = [asyncio.create_task(reader()) for _ in range(readers)]
            try:
                held_from = time.monotonic()
                await asyncio.sleep(0.2)
                second = asyncio.create_task(second_writer())
                await asyncio.sleep(0.8)  # readers run against the open write transaction
                held_until = time.monotonic()
                await first_writer("COMMIT")
                second_waited = await second
                for _ in range(writes_after):  # and against short write transactions
                    await first_writer("BEGIN IMMEDIATE")
                    await first_writer(bump)
                    await asyncio.sleep(0.02)
                    await first_writer("COMMIT")
                await asyncio.sleep(0.2)
            finally:
                done.set()
                await asyncio.gather(*tasks)
        after = first.execute("SELECT version FROM catalog_state").fetchone()[0]
    finally:
        first.close()
        await second_engine.dispose()
    failed = [s.body for s in samples if not s.ok]
    assert not failed, f"{len(failed)} of {len(samples)} reads failed: {failed[:3]}"
    assert len(samples) >= readers * 2
    for sample in samples:
        assert_answered(sample)
    during = [s for s in samples if s.started >= held_from and s.finished <= held_until]
    # Typically 60-90 here; with a rollback journal, none (they all wait for the COMMIT).
    assert len(during) >= readers // 2, f"{len(during)} reads finished while the lock was held"
    assert second_waited > 0.5  # the second writer did queue behind the first …
    assert after == before + 2 + writes_after  # … and every write committed


@pytest.mark.skipif(ON_POSTGRESQL, reason=SQLITE_ONLY)
async def test_a_write_that_waits_out_the_busy_timeout_is_service_unavailable(
    fault_catalog: str,
) -> None:
    """Another process holds SQLite's write lock past the busy timeout: a mutation that needed
    it answers SERVICE_UNAVAILABLE (503, Retry-After), not a fault, and writes nothing."""
    database_file = Settings(database_url=fault_catalog).sqlite_path()
    assert database_file is not None
    engine = create_engine(fault_catalog)
    try:
        async with session_factory(engine)() as session, session.begin():
            token = await create_token(session, "busy-curator", "editor")
    finally:
        await engine.dispose()
    holder = sqlite3.connect(database_file, isolation_level=None, check_same_thread=False)
    mutation = 'mutation { createTheme(input: {name: "Held up"}) { theme { slug } } }'
    try:
        async with app_client(fault_catalog) as (client, _engine):
            await asyncio.to_thread(holder.execute, "BEGIN EXCLUSIVE")
            try:
                response = await client.post(
                    "/graphql",
                    json={"query": mutation},
                    headers={"Authorization": f"Bearer {token}"},
                )
            finally:
                await asyncio.to_thread(holder.execute, "ROLLBACK")
        written = holder.execute("SELECT count(*) FROM themes WHERE name = 'Held up'")
        assert written.fetchone()[0] == 0
    finally:
        holder.close()
    body = response.json()
    assert response.status_code == 503, body
    assert (response.headers.get("retry-after") or "").isdigit()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["SERVICE_UNAVAILABLE"]


# -- graceful shutdown ----------------------------------------------------------------------


@asynccontextmanager
async def tables_locked(database_url: str, *tables: str) -> AsyncIterator[Callable[[], Any]]:
    """PostgreSQL: hold ACCESS EXCLUSIVE locks on ``tables`` (every read of them waits) until
    the yielded ``release`` is called (or the block ends)."""
    admin = await asyncpg.connect(_admin_url(database_url), timeout=5)
    transaction = admin.transaction()
    await transaction.start()
    await admin.execute(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE")
    released = False

    async def release() -> None:
        nonlocal released
        if not released:
            released = True
            await transaction.rollback()

    try:
        yield release
    finally:
        await release()
        await admin.close()


async def waiting_on_locks(database_url: str) -> int:
    admin = await asyncpg.connect(_admin_url(database_url), timeout=5)
    try:
        return int(
            await admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    finally:
        await admin.close()


@pytest.mark.serial
async def test_sigterm_lets_in_flight_requests_finish(fault_catalog: str, tmp_path: Path) -> None:
    """Requests in flight when SIGTERM arrives (one still uploading its body; on PostgreSQL
    also several waiting in the database) all complete; then the server exits by itself."""
    blocked_requests = 4 if ON_POSTGRESQL else 0
    body = json.dumps({"query": QUERY, "variables": VARIABLES}).encode()
    cwd = tmp_path / "graceful"
    cwd.mkdir()
    with serve(fault_catalog, cwd, "graceful") as server:
        port = int(server.base_url.rsplit(":", 1)[1])
        async with (
            httpx.AsyncClient(base_url=server.base_url, timeout=30) as client,
            maybe_tables_locked(ON_POSTGRESQL, fault_catalog) as release,
        ):
            blocked = [
                asyncio.create_task(
                    client.post("/graphql", json={"query": QUERY, "variables": VARIABLES})
                )
                for _ in range(blocked_requests)
            ]
            deadline = time.monotonic() + 10
            while blocked and await waiting_on_locks(fault_catalog) < blocked_requests:
                assert time.monotonic() < deadline, "the requests never reached the database"
                await asyncio.sleep(0.05)
            # A request whose body is half sent: the server has its headers, not its body.
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                b"POST /graphql HTTP/1.1\r\nHost: nkcinema.test\r\n"
                b"Content-Type: application/json\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[:10]
            )
            await writer.drain()
            await asyncio.sleep(0.3)

            server.process.send_signal(signal.SIGTERM)
            await asyncio.sleep(1.0)
            assert server.process.poll() is None, (
                f"exited with requests in flight\n{server.output()}"
            )
            async with httpx.AsyncClient(timeout=2) as newcomer:
                with pytest.raises(httpx.ConnectError):  # no new connections meanwhile
                    await newcomer.get(f"{server.base_url}/healthz")

            writer.write(body[10:])
            await writer.drain()
            if release is not None:
                await release()
            raw = await asyncio.wait_for(reader.read(), 10)  # until the server closes it
            writer.close()
            responses = await asyncio.gather(*blocked)
        exited = await asyncio.to_thread(server.process.wait, 10)

    head, _, payload = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), raw
    assert_answered(Sample(0, 0, 200, json.loads(payload)))
    for response in responses:
        assert_answered(Sample(0, 0, response.status_code, response.json()))
    # uvicorn shuts down gracefully, then re-raises the SIGTERM it caught: the process ends
    # "killed by SIGTERM" (143 in a shell) after a clean shutdown, or 0.
    assert exited in (0, -signal.SIGTERM), server.output()
    log = server.stderr
    for line in ("Shutting down", "Application shutdown complete", "Finished server process"):
        assert line in log, server.output()
    assert "Traceback" not in log, server.output()


@asynccontextmanager
async def maybe_tables_locked(
    lock: bool, database_url: str
) -> AsyncIterator[Callable[[], Any] | None]:
    """``tables_locked`` on the tables the query reads first, or nothing."""
    if not lock:
        yield None
        return
    async with tables_locked(database_url, "people", "works") as release:
        yield release
