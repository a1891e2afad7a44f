"""Read replicas (db/replicas.py) against a real primary and streaming replica: what the prober
finds (rotation, catalog version, replay lag), which database a request is routed to, and a
request's fall back to the primary when its replica goes away."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bench.replication import Replication
from db.catalog_version import catalog_version
from db.engine import engine_from_settings, session_factory
from db.replicas import Database, DatabaseState, ReplicaSet
from db.sessions import PRIMARY
from db.version_reads import SessionSource, VersionReads
from settings import Settings

BUMP = "UPDATE catalog_state SET version = version + 1 WHERE id = 1 RETURNING version"
VERSION = "SELECT version FROM catalog_state WHERE id = 1"
PROBING = 20.0  # seconds: a stopped replica's restart and recovery included


@asynccontextmanager
async def replica_set(pair: Replication, **settings: float) -> AsyncIterator[ReplicaSet]:
    """The primary and the replica, as the app builds them from its settings (not probing in
    the background: the tests call ``probe_all``)."""
    config = Settings(database_url=pair.primary.url, replica_urls=(pair.replica.url,), **settings)
    engine = engine_from_settings(config)
    sessions = session_factory(engine)
    replicas = ReplicaSet.from_settings(
        config, Database(PRIMARY, sessions, VersionReads(SessionSource(sessions)))
    )
    try:
        yield replicas
    finally:
        await replicas.close()
        await engine.dispose()


def replica_state(replicas: ReplicaSet) -> DatabaseState:
    return replicas.states()[1]


async def probe_until(replicas: ReplicaSet, in_rotation: bool) -> None:
    """Probe until the replica is in rotation (or out), for at most ``PROBING`` seconds."""
    deadline = time.monotonic() + PROBING
    while True:
        await replicas.probe_all()
        if replica_state(replicas).in_rotation is in_rotation:
            return
        assert time.monotonic() < deadline, replica_state(replicas)
        await asyncio.sleep(0.1)


async def test_a_caught_up_replica_is_in_rotation_at_the_primarys_version(
    replication: Replication,
) -> None:
    await replication.caught_up()
    version = await replication.primary.fetchval(VERSION)
    async with replica_set(replication) as replicas:
        assert not replica_state(replicas).in_rotation  # until probed
        assert replicas.route().name == PRIMARY
        await replicas.probe_all()
        state = replica_state(replicas)
        assert state.in_rotation, state
        assert state.version == version
        assert state.lag is not None and state.lag < 1.0
        assert [replicas.route().name for _ in range(3)] == ["replica-1"] * 3
        assert replicas.route(version).name == "replica-1"
        assert replicas.route(version + 1).name == PRIMARY  # it has not seen that version
        assert replicas.route(primary=True).name == PRIMARY


async def test_replay_lag_beyond_the_maximum_takes_a_replica_out_until_it_catches_up(
    replication: Replication,
) -> None:
    await replication.caught_up()
    async with replica_set(replication, replica_max_lag=0.5) as replicas:
        await probe_until(replicas, in_rotation=True)
        await replication.replica.fetchval("SELECT pg_wal_replay_pause()")
        try:
            written = await replication.primary.fetchval(BUMP)
            await probe_until(replicas, in_rotation=False)
            state = replica_state(replicas)
            assert state.reason is not None and "lag" in state.reason, state
            assert state.version == written - 1  # replay stopped before the write
            assert replicas.route().name == PRIMARY
        finally:
            await replication.replica.fetchval("SELECT pg_wal_replay_resume()")
        await replication.caught_up()
        await probe_until(replicas, in_rotation=True)
        assert replica_state(replicas).version == written
        assert replicas.route(written).name == "replica-1"


async def test_a_request_whose_replica_goes_away_reads_the_primary_and_the_replica_comes_back(
    replication: Replication,
) -> None:
    await replication.caught_up()
    version = await replication.primary.fetchval(VERSION)
    async with replica_set(replication) as replicas:
        await probe_until(replicas, in_rotation=True)
        route = replicas.route()
        assert route.name == "replica-1"
        database = route.request_database()
        try:
            assert await database.run(catalog_version) == version  # a pooled connection
            replication.replica.stop()  # as a crash would
            try:
                assert await database.run(catalog_version) == version
                assert database.name == PRIMARY
                assert route.name == PRIMARY
                assert not replica_state(replicas).in_rotation  # out at once, not at a probe
                assert replicas.route().name == PRIMARY
            finally:
                replication.replica.start()
        finally:
            await database.close()
        await probe_until(replicas, in_rotation=True)
        assert replicas.route().name == "replica-1"
        assert [s.requests for s in replicas.states()] == [0, 0]  # nothing answered yet
        route.answered()
        assert [s.requests for s in replicas.states()] == [1, 0]  # the primary answered it
