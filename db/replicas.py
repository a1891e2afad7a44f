"""Read replicas: PostgreSQL streaming replicas beside the primary, which of them may answer
a request, and how each is doing.

- ``Database``: one server's session factory, catalog-version reads (``db.version_reads``)
  and fast-lane pool (``db.engine.direct_engine_from_settings``), with what the last probe
  found (up, catalog version, replay lag) and how many requests it answered.
- ``ReplicaSet``: the primary and the replicas of ``NKCINEMA_REPLICA_URLS``. A prober (one
  task per process, every ``NKCINEMA_REPLICA_PROBE_INTERVAL`` seconds) asks each replica
  whether it is in recovery, how far replay is behind (``pg_last_xact_replay_timestamp()``,
  zero while replay has applied all that was received) and its catalog version. A replica is
  in rotation while its last probe succeeded, it is a standby and its lag is at most
  ``NKCINEMA_REPLICA_MAX_LAG``; a request that finds it unreachable takes it out at once, and
  the next good probe puts it back. ``route(required, primary=…)`` picks a request's database:
  round robin over the replicas in rotation whose probed catalog version is at least
  ``required`` (a client's ``X-Catalog-Version``: versions only grow, so such a replica holds
  the client's writes), else the primary.
- ``Route``: one request's choice, which moves to the primary (once, never back) when the
  request must read it (a mutation, ``changes``, a replica behind the client) or the replica
  fails (``db.sessions.RequestDatabase`` asks it: it is that class's ``Fallback``).

Which requests go where is the serving layer's rule (``web.routing``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.util import greenlet_spawn

import metrics
from db.engine import (
    create_engine,
    direct_engine_from_settings,
    engine_from_settings,
    session_factory,
)
from db.sessions import PRIMARY, RequestDatabase, is_unreachable
from db.version_reads import VERSION_SQL, VersionReads, dedicated_source, version_value
from settings import Settings

logger = logging.getLogger("nkcinema.replicas")

# One statement: whether the server is a standby, how many seconds the data it serves is
# behind the primary (0 while replay has applied everything received; else the age of the
# last transaction it replayed, which grows while replay is behind or paused; NULL: it has
# replayed none since it started, while behind), and its catalog version.
PROBE_SQL = f"""
SELECT pg_is_in_recovery(),
       CASE WHEN NOT pg_is_in_recovery() THEN 0.0
            WHEN pg_last_wal_receive_lsn() IS NULL
                 OR pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn() THEN 0.0
            ELSE EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8
       END,
       ({VERSION_SQL})
"""
NOT_PROBED = "not probed yet"


@dataclass(frozen=True)
class DatabaseState:
    """What ``ReplicaSet.states()`` reports for one database (for logs and metrics)."""

    name: str
    in_rotation: bool  # the primary: always
    version: int | None  # the catalog version the last probe read (primary: None)
    lag: float | None  # seconds of replay lag at the last probe (primary: None)
    requests: int  # requests it answered in this process
    reason: str | None  # why a replica is out of rotation


class Database:
    """One server a request may read."""

    def __init__(
        self,
        name: str,
        sessions: async_sessionmaker[AsyncSession],
        versions: VersionReads,
        direct: AsyncEngine | None = None,
        *,
        engines: Sequence[AsyncEngine] = (),
        probe: Probe | None = None,
    ) -> None:
        self.name = name
        self.sessions = sessions
        self.versions = versions  # catalog-version reads of the fast lane's cache hits
        self.direct = direct  # the fast lane's pool (None: through the sessions)
        self.engines = tuple(engines)  # disposed of by close() (the primary's: by the app)
        self.probe = probe  # replicas: how the prober reads their state
        self.requests = 0
        # what the probes found (replicas; the primary is never probed)
        self.up = False
        self.version: int | None = None
        self.lag: float | None = None
        self.reason: str | None = NOT_PROBED
        self.unreachable = False  # out because it could not be reached (reset() on return)

    @property
    def is_primary(self) -> bool:
        return self.name == PRIMARY

    async def reset(self) -> None:
        """Close its pooled connections (a replica back in rotation gets fresh ones: those of
        a server that went away are dead, and the fast lane's pool does not ping)."""
        self.unreachable = False
        for engine in self.engines:
            await engine.dispose()

    async def close(self) -> None:
        if self.is_primary:
            return
        await self.versions.close()
        if self.probe is not None:
            await self.probe.close()
        for engine in self.engines:
            await engine.dispose()


class ReplicaSet:
    """The primary and its replicas (see the module docstring)."""

    def __init__(
        self,
        primary: Database,
        replicas: Sequence[Database] = (),
        *,
        counted: bool = False,
        max_lag: float = 30.0,
        probe_interval: float = 1.0,
        probe_timeout: float = 2.0,
    ) -> None:
        self.primary = primary
        self.replicas = tuple(replicas)
        self.counted = counted  # replica lag in the metrics too (metrics.py)
        self.max_lag = max_lag
        self.probe_interval = probe_interval
        self.probe_timeout = probe_timeout
        self._turn = itertools.count()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, primary: Database) -> ReplicaSet:
        """The primary and one ``Database`` per ``settings.replica_urls`` (replica-1, …), each
        with pools sized as the primary's."""
        replicas = []
        for number, url in enumerate(settings.replica_urls, start=1):
            replica_settings = _with_url(settings, url)
            name = f"replica-{number}"
            engine = engine_from_settings(replica_settings, name)
            direct = direct_engine_from_settings(replica_settings, name)
            versions = VersionReads(
                dedicated_source(engine, connect_timeout=settings.connect_timeout)
            )
            replicas.append(
                Database(
                    name,
                    session_factory(engine),
                    versions,
                    direct,
                    engines=(engine, direct),
                    probe=Probe(url, settings.connect_timeout),
                )
            )
        return cls(
            primary,
            replicas,
            counted=settings.metrics,
            max_lag=settings.replica_max_lag,
            probe_interval=settings.replica_probe_interval,
            probe_timeout=settings.connect_timeout + settings.statement_timeout,
        )

    # -- choosing ------------------------------------------------------------------------

    def route(self, required: int | None = None, *, primary: bool = False) -> Route:
        """A request's route: the primary if ``primary``, else a replica in rotation whose
        catalog version is at least ``required`` (round robin), else the primary."""
        if primary or not self.replicas:
            return Route(self, self.primary, required)
        candidates = [
            replica
            for replica in self.replicas
            if replica.up
            and (required is None or (replica.version is not None and replica.version >= required))
        ]
        if not candidates:
            return Route(self, self.primary, required)
        return Route(self, candidates[next(self._turn) % len(candidates)], required)

    def failed(self, replica: Database, error: BaseException) -> None:
        """A request found ``replica`` failing: out of rotation at once if it is unreachable
        (the next good probe puts it back); any other failure costs only that request."""
        if replica.is_primary or not is_unreachable(error):
            return
        replica.unreachable = True
        self._out(replica, f"a request failed: {type(error).__name__}")

    def answered(self, database: Database) -> None:
        """Count a request ``database`` answered (``states()``; the metrics count only the
        requests that ran a statement on it: ``web.view``, ``web.fast_lane``)."""
        database.requests += 1

    def states(self) -> list[DatabaseState]:
        """Each database's state, the primary first."""
        primary = self.primary
        return [
            DatabaseState(primary.name, True, None, None, primary.requests, None),
            *(
                DatabaseState(r.name, r.up, r.version, r.lag, r.requests, r.reason)
                for r in self.replicas
            ),
        ]

    # -- probing ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Probe every replica once (so a healthy one serves from the first request), then
        keep probing in the background."""
        if not self.replicas or self._task is not None:
            return
        await self.probe_all()
        self._task = asyncio.get_running_loop().create_task(self._probe_forever())

    async def _probe_forever(self) -> None:
        while True:
            await asyncio.sleep(self.probe_interval)
            try:
                await self.probe_all()
            except Exception:  # a prober that dies would freeze every replica's state
                logger.exception("probing the replicas failed")

    async def probe_all(self) -> None:
        await asyncio.gather(*(self._probe(replica) for replica in self.replicas))

    async def _probe(self, replica: Database) -> None:
        if replica.probe is None:
            return
        try:
            async with asyncio.timeout(self.probe_timeout):
                standby, lag, version = await replica.probe.read()
        except Exception as error:
            replica.unreachable = True
            self._out(replica, f"probe failed: {type(error).__name__}: {error}"[:200])
            return
        replica.version = version
        replica.lag = lag
        if self.counted:
            metrics.replica_lag(replica.name, lag)
        if not standby:
            self._out(replica, "not in recovery: it is no streaming replica")
        elif lag > self.max_lag:
            self._out(replica, f"replay lag {lag:.1f} s over {self.max_lag:g} s")
        elif not replica.up:
            if replica.unreachable:  # its pooled connections may have died with it
                await replica.reset()
            replica.up, replica.reason = True, None
            logger.warning(
                "%s is in rotation (catalog version %s, lag %.1f s)", replica.name, version, lag
            )

    def _out(self, replica: Database, reason: str) -> None:
        if replica.up or replica.reason != reason:
            level = logging.WARNING if replica.up else logging.DEBUG
            logger.log(level, "%s is out of rotation: %s", replica.name, reason)
        replica.up, replica.reason = False, reason

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for replica in self.replicas:
            await replica.close()


class Route:
    """Where one request reads: ``database``, until it moves to the primary (once)."""

    def __init__(self, replicas: ReplicaSet, database: Database, required: int | None) -> None:
        self.replicas = replicas
        self.database = database
        self.required = required  # the client's X-Catalog-Version, if it sent one

    @property
    def name(self) -> str:
        return self.database.name

    @property
    def on_replica(self) -> bool:
        return not self.database.is_primary

    def to_primary(self, error: BaseException | None = None) -> async_sessionmaker[AsyncSession]:
        """Read the primary from now on; ``error``: the replica failed (``ReplicaSet.failed``).
        The primary's session factory (``db.sessions.Fallback``)."""
        if self.on_replica and error is not None:
            self.replicas.failed(self.database, error)
        self.database = self.replicas.primary
        return self.database.sessions

    def request_database(self) -> RequestDatabase:
        """The request's database on the route (falling back to the primary by itself)."""
        database = self.database
        return RequestDatabase(
            database.sessions(),
            name=database.name,
            fallback=self if self.on_replica else None,
        )

    def answered(self) -> None:
        self.replicas.answered(self.database)


class Probe:
    """A replica's probe: one connection of its own (asyncpg's, outside every pool), opened
    again after any failure."""

    def __init__(self, url: str, connect_timeout: float) -> None:
        self.engine = create_engine(
            url,
            name=None,  # not the requests' capacity: kept out of the pool metrics
            pool_size=1,
            max_overflow=0,
            connect_timeout=connect_timeout,
            statement_timeout=connect_timeout,
            pre_ping=False,
        )
        self.raw: Any = None

    async def read(self) -> tuple[bool, float, int]:
        """(in recovery, replay lag in seconds, catalog version)."""
        try:
            if self.raw is None:
                self.raw = await self.engine.raw_connection()
            row = await self.raw.driver_connection.fetchrow(PROBE_SQL)
        except BaseException:
            raw, self.raw = self.raw, None
            if raw is not None:
                await greenlet_spawn(raw.invalidate)
            raise
        lag = math.inf if row[1] is None else max(0.0, float(row[1]))
        return bool(row[0]), lag, version_value(row[2])

    async def close(self) -> None:
        raw, self.raw = self.raw, None
        if raw is not None:
            try:
                await greenlet_spawn(raw.close)
            except Exception as error:
                logger.debug("closing a probe's connection: %r", error)
        await self.engine.dispose()


def _with_url(settings: Settings, url: str) -> Settings:
    return dataclasses.replace(settings, database_url=url, replica_urls=())
