"""The ASGI application: GraphQL (and GraphiQL) at /graphql, /healthz and /readyz, the
example frontend at /examples/, and the Hangul web font both pages use at /fonts/.

``create_app()`` reads the settings from the environment; tests pass their own settings and
session factory. ``nkcinema serve`` has uvicorn call ``create_served_app()`` as a factory
(``web.app:create_served_app``).

A request to /graphql passes, outermost first: ``RequestSpans`` (its trace span, only while
tracing is on: ``tracing``), ``RequestId``, ``AccessLog``, ``Observe`` (its metrics, unless
``NKCINEMA_METRICS`` is off: ``web.observing``), CORS, ``GraphQLOverHTTP`` (media types and
status codes), ``RequestDeadline``, ``Intake`` (body admitted, request key computed),
``DatabaseRouting`` (the primary or a replica, and ``X-Catalog-Version``), ``FastLane``
(cached answers and prepared plans), ``PersistedQueries`` (documents by hash,
trusted documents), then Starlette's routing to ``CatalogGraphQL`` (Strawberry, the served
schema).

``/metrics`` serves the metrics in Prometheus's text format (``metrics``), on the app's own
port, unless ``NKCINEMA_METRICS`` is off (then 404).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

import metrics
import tracing
from db.engine import direct_engine_from_settings, engine_from_settings, session_factory
from db.replicas import Database, ReplicaSet
from db.sessions import PRIMARY
from db.version_reads import SessionSource, VersionReads, dedicated_source, is_file_database
from gql.admission import Gate
from settings import Settings, load_settings
from web.deadline import RequestDeadline, closed
from web.fast_lane import FastLane
from web.fonts import FontFiles
from web.graphiql import ASSETS as GRAPHIQL
from web.intake import Intake
from web.middleware import AccessLog, RequestId
from web.observing import Observe
from web.over_http import GraphQLOverHTTP
from web.persisted import PersistedQueries
from web.routing import DatabaseRouting
from web.view import CatalogGraphQL

logger = logging.getLogger("nkcinema")


def _examples_directory() -> Path:
    """``examples/`` in the checkout this package lies in, else in the working directory (an
    installed package run from the project directory, as in the Docker image)."""
    beside = Path(__file__).resolve().parent.parent / "examples"
    return beside if beside.is_dir() else Path.cwd() / "examples"


EXAMPLES = _examples_directory()  # the example frontend (at /examples/) and operations
GRAPHQL_PATH = "/graphql"
METRICS_PATH = "/metrics"
GRAPHIQL_ASSETS = "/graphiql"  # GraphiQL's vendored scripts and styles (web/graphiql/assets)
FONTS = "/fonts"  # the Hangul web font of GraphiQL and the example frontend (web/fonts/assets)
READINESS_TIMEOUT_SECONDS = 2.0


# Allocations between two young-generation collections (CPython's default: 700). A nested
# page allocates tens of thousands of objects (its decoded JSON, its response), nearly all
# freed by reference counting when the request ends: collecting every 700 of them is work
# that finds nothing (what it cost: bench/README.md, "Serving").
GC_YOUNG_THRESHOLD = 50_000


def tune_garbage_collector() -> None:
    """Before serving: move what start-up built (modules, the schema, the app: about 10^5
    objects, alive until the process ends) out of the collector's reach (``gc.freeze``), so
    that no collection traverses them again, and collect the young generation less often."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)


def create_app(
    settings: Settings | None = None,
    *,
    engine: AsyncEngine | None = None,
    sessions: async_sessionmaker[AsyncSession] | None = None,
) -> Starlette:
    settings = settings or load_settings()
    owned_engine = None
    if sessions is None:
        if engine is None:
            engine = owned_engine = engine_from_settings(settings)
        sessions = session_factory(engine)

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    def metrics_page(_request: Request) -> Response:  # sync: Starlette runs it in a thread
        return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE)

    async def readyz(_request: Request) -> Response:
        try:
            async with asyncio.timeout(READINESS_TIMEOUT_SECONDS), sessions() as session:
                await session.execute(text("SELECT 1"))
        except Exception as error:  # any failure means "not ready"; the reason goes to the log
            logger.warning("readiness check failed: %r", error)
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ready"})

    # The app's own engine reads committed data: a connection of its own can read the
    # version. Sessions given by the caller (tests: a transaction rolled back afterwards) may
    # hold writes only they can see, so the version is read through them.
    versions = VersionReads(
        dedicated_source(owned_engine, connect_timeout=settings.connect_timeout)
        if owned_engine is not None and is_file_database(owned_engine)
        else SessionSource(sessions)
    )

    # The fast lane runs plans on a pool of its own (db.engine), beside the app's own engine.
    direct = (
        direct_engine_from_settings(settings)
        if owned_engine is not None and is_file_database(owned_engine)
        else None
    )

    # The primary, and the replicas anonymous reads go to (db.replicas, web.routing).
    replicas = ReplicaSet.from_settings(settings, Database(PRIMARY, sessions, versions, direct))

    # Traced: the engines this app made get a span per statement (tracing).
    traced = tracing.from_environment()
    if traced:
        replica_engines = [e for r in replicas.replicas for e in r.engines]
        for engine_ in (owned_engine, direct, *replica_engines):
            if engine_ is not None:
                tracing.instrument_engine(engine_)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await replicas.start()  # probed once before the first request, then every interval
        yield
        await closed()  # requests answered at their deadline, still closing their sessions
        await replicas.close()
        await versions.close()
        for engine_ in (direct, owned_engine):
            if engine_ is not None:
                await engine_.dispose()
        metrics.worker_exited(os.getpid())  # its gauges no longer count

    graphql = CatalogGraphQL(
        replicas,
        settings,
        graphql_path=GRAPHQL_PATH,
        graphiql_assets=GRAPHIQL_ASSETS,
        examples=EXAMPLES,
        tracing=tracing.operation_extension() if traced else None,
    )
    routes: list[BaseRoute] = [
        Route(GRAPHQL_PATH, graphql, methods=["GET", "POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
    if settings.metrics:
        routes.append(Route(METRICS_PATH, metrics_page, methods=["GET"]))
    if settings.graphiql:
        routes.append(Mount(GRAPHIQL_ASSETS, StaticFiles(directory=GRAPHIQL), name="graphiql"))
    examples = settings.examples and EXAMPLES.is_dir()
    if examples:
        routes.append(
            Mount("/examples", StaticFiles(directory=EXAMPLES, html=True), name="examples")
        )
    if examples or settings.graphiql:  # both pages draw Hangul with it
        routes.append(Mount(FONTS, FontFiles(), name="fonts"))
    middleware = [Middleware(RequestId), Middleware(AccessLog)]
    if traced:
        middleware.insert(0, Middleware(tracing.RequestSpans, tracer=tracing.tracer()))
    if settings.metrics:
        middleware.append(Middleware(Observe, path=GRAPHQL_PATH))
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=[
                    "Content-Type",
                    "Authorization",
                    "If-None-Match",
                    "X-Request-ID",
                    "X-Catalog-Version",
                ],
                expose_headers=["ETag", "X-Request-ID", "X-Catalog-Version"],
                max_age=600,
            )
        )
    middleware.append(Middleware(GraphQLOverHTTP, path=GRAPHQL_PATH, settings=settings))
    gate = Gate(
        settings.expensive_limit,
        settings.expensive_queue,
        settings.expensive_rest,
        burst=settings.expensive_burst_limit,
        quiet=settings.expensive_quiet,
    )
    middleware.append(Middleware(RequestDeadline, path=GRAPHQL_PATH, settings=settings, gate=gate))
    middleware.append(Middleware(Intake, path=GRAPHQL_PATH, settings=settings))
    middleware.append(Middleware(DatabaseRouting, path=GRAPHQL_PATH, replicas=replicas))
    middleware.append(
        Middleware(
            FastLane,
            path=GRAPHQL_PATH,
            settings=settings,
            replicas=replicas,
            responses=graphql.responses,
            prepared=graphql.prepared,
            tracer=tracing.tracer() if traced else None,
        )
    )
    middleware.append(
        Middleware(PersistedQueries, path=GRAPHQL_PATH, settings=settings, sessions=sessions)
    )
    served = Starlette(middleware=middleware, routes=routes, lifespan=lifespan)
    served.state.admission = gate
    served.state.versions = versions  # the catalog version reads of the caches
    served.state.replicas = replicas  # the databases and their states (ReplicaSet.states())
    return served


def tune_logging() -> None:
    """Records without what no formatter of ours writes (``logs``): the caller's file and
    line (a walk up the stack), the thread's and process's names and the process id. Every
    request writes an access record."""
    logging._srcfile = None  # the documented switch (logging's "Optimization" section)
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def create_served_app() -> Starlette:
    """``nkcinema serve``'s app (uvicorn's factory, in each worker): ``create_app()`` from the
    environment, then the garbage collector and logging tuned for serving
    (``tune_garbage_collector``, ``tune_logging``; not in ``create_app``, which tests call in
    a process of their own)."""
    served = create_app()
    tune_garbage_collector()
    tune_logging()
    return served
