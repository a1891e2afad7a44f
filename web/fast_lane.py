"""The fast lane: requests to /graphql that this process has answered before, answered again
without Starlette's routing or Strawberry — from the response cache while the catalog version
is unchanged, else by running the request's prepared plan (``web.prepared``).

A request takes the lane only if it is exactly one this process answered through the full
path: same document, variables and operation name (its request key, ``web.intake``), so it
has passed every limit and its plan was built for it. Requests with an ``Authorization``
header never take it (answers to credentialed requests are never cached; the token must be
checked). Anything else — and anything that fails on the way (a version read, a statement) —
goes to the app, which answers it as it would have: the lane never produces an error of its
own, except the request deadline.

The answer is the one the full path gives: ``{"data": …, "extensions": {"cost": …}}``, the
same bytes (both encode with ``web.encoding``), with ``X-Execution: compiled``, or
``X-Cache: hit`` (over GET, with its entity tag: ``304`` when the client's copy is current).

A prepared request that was an expensive operation (search, facets, ``similar``: it passed
``gql.admission``'s gate) passes the gate again, waiting there within the request's deadline
(past it: ``TIMEOUT``, as the app answers); when the gate's queue is full the app answers it
(``SERVICE_UNAVAILABLE``).

It reads the database the request's route names (``web.routing``): the catalog version and
the plan's data both from it, so an answer is filed under the version of the database that
computed it. On a replica, a client's ``X-Catalog-Version`` is checked first (an older
replica: the primary answers), and a replica that fails leaves the request to the primary.

Each answer is noted for the metrics (``web.observing``: ``cached`` or ``compiled``; the
database a plan read is counted where the route is answered, ``db.replicas``) and, while
tracing is on, has an operation span of its own (Strawberry's extension does not run here),
the parent of its statements' spans.

Usage: ``Middleware(FastLane, path="/graphql", settings=..., replicas=..., responses=...,
prepared=..., tracer=...)``, inside ``web.routing.DatabaseRouting``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Receive, Scope, Send

import tracing
from db.replicas import ReplicaSet, Route
from gql import errors
from gql.admission import ADMISSION, DEADLINE, EXPENSIVE, Gate, GateFull
from gql.compiled import read_plan, run_plan, statement_source
from gql.compiled.driver import driver_statement, fetch_json
from gql.compiled.plan import Connection, RootObject
from settings import Settings
from web import http_cache, observing
from web.encoding import encode, send_json
from web.intake import REQUEST_KEY
from web.prepared import Prepared, PreparedRequests
from web.response_cache import CATALOG_VERSION, ResponseCache
from web.routing import ANSWERED_AT, ROUTE

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer
    from sqlalchemy.ext.asyncio import AsyncEngine

logger = logging.getLogger("nkcinema.fast_lane")


class _DeadlinePassed(Exception):
    """The request's deadline passed while its plan ran (its answer: ``TIMEOUT``)."""


class FastLane:
    def __init__(
        self,
        app: ASGIApp,
        *,
        path: str,
        settings: Settings,
        replicas: ReplicaSet,
        responses: ResponseCache,
        prepared: PreparedRequests,
        tracer: Tracer | None = None,
    ) -> None:
        self.app = app
        self.path = path
        self.settings = settings
        self.replicas = replicas  # each database's sessions, version reads and direct pool
        self.responses = responses
        self.prepared = prepared
        self.cache_control = http_cache.cache_control(settings.cache_max_age).encode("latin-1")
        self.tracer = tracer  # while tracing is on (tracing)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != self.path
            or not await self._answer(scope, send)
        ):
            await self.app(scope, receive, send)

    async def _answer(self, scope: Scope, send: Send) -> bool:
        """Answer the request if it is one seen before; False: the app must answer it."""
        key = scope.get(REQUEST_KEY)
        if key is None or not (self.responses.enabled or self.prepared.enabled):
            return False
        if_none_match = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                return False
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
        version: int | None = None
        route = _route(scope, self.replicas)
        known = key in self.responses
        if known or (route.on_replica and route.required is not None):  # a replica: checked
            version = await self._version(scope)
            if version is None:
                return False
            cached = self.responses.get(key, version) if known else None
            if cached is not None:
                with self._operation_span(key, observing.CACHED):
                    await self._hit(scope, send, cached, key, version, if_none_match)
                observing.answered_by_lane(scope, key, observing.CACHED, clean=True)
                return True
        tag = None
        if scope["method"] == "GET":
            if key not in self.prepared:  # before the version read it would need
                return False
            # Over GET the answer carries its entity tag, so the version comes first: a
            # client (or a CDN) holding the current answer gets a 304 without the plan running.
            if version is None:
                version = await self._version(scope)
                if version is None:
                    return False
            tag = http_cache.entity_tag(version, key)
            if http_cache.matches(if_none_match, tag):
                with self._operation_span(key, observing.CACHED):
                    scope[ANSWERED_AT] = version
                    await self._not_modified(send, self._tagged(tag))
                observing.answered_by_lane(scope, key, observing.CACHED, clean=True)
                return True
        prepared = self.prepared.get(key)
        if prepared is None or prepared.plan.private:  # evicted meanwhile; an editor's read
            return False
        with self._operation_span(key, observing.COMPILED):
            try:
                answered = await self._run(scope, send, route, prepared, version, tag)
            except _DeadlinePassed:
                timeout = errors.request_timeout(self.settings.request_timeout).formatted
                await send_json(send, encode({"data": None, "errors": [timeout]}))
                observing.answered_by_lane(scope, key, observing.COMPILED, prepared.cost)
                return True
        if answered:  # with its data: no errors
            observing.answered_by_lane(scope, key, observing.COMPILED, prepared.cost, clean=True)
        return answered

    def _tagged(self, tag: str) -> list[tuple[bytes, bytes]]:
        """The headers of an answer over GET (as ``web.caching.CatalogVersion`` gives them)."""
        return [(b"etag", tag.encode("latin-1")), (b"cache-control", self.cache_control)]

    @staticmethod
    async def _not_modified(send: Send, headers: list[tuple[bytes, bytes]]) -> None:
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    def _operation_span(self, key: str, path: str) -> contextlib.AbstractContextManager[Any]:
        if self.tracer is None:
            return contextlib.nullcontext()
        return tracing.operation_span(self.tracer, observing.operation_name(key)[1], path)

    async def _run(
        self,
        scope: Scope,
        send: Send,
        route: Route,
        prepared: Prepared,
        version: int | None,
        tag: str | None = None,
    ) -> bool:
        """Answer with the prepared plan's data; False: the app must answer. Raises
        _DeadlinePassed when the request's deadline passed first."""
        deadline = self.settings.request_timeout
        # The plan runs in the request's own task, cancelled at the deadline by a timer: a
        # task of its own and asyncio.wait (a timer, a waiter, a loop cycle more) cost 20-odd
        # µs a request, a tenth of a fast-lane answer. asyncio.timeout is not used: on 3.11 it
        # can leave a cancellation pending on the request's task.
        task = asyncio.current_task()
        assert task is not None
        expired = False

        def expire() -> None:
            nonlocal expired
            expired = True
            task.cancel()

        loop = asyncio.get_running_loop()
        at = scope.get(DEADLINE)
        timer = (
            loop.call_at(at, expire) if isinstance(at, float) else loop.call_later(deadline, expire)
        )
        failure: Exception | None = None
        refused = False
        try:
            data, version = await self._data(scope, route, prepared, version)
        except asyncio.CancelledError:
            if not expired:
                raise
        except GateFull:
            refused = True
        except Exception as error:  # the app answers, with its error handling
            failure = error
        finally:
            timer.cancel()
        if expired:
            if task.uncancel() > 0:  # cancelled for another reason too (shutting down)
                raise asyncio.CancelledError
            logger.warning("fast lane: the request deadline (%g s) passed", deadline)
            raise _DeadlinePassed
        if refused:
            return False  # the app refuses it, as it refuses any operation the full gate meets
        if failure is not None:
            if route.on_replica:  # and from the primary
                logger.warning("%s failed; the primary answers: %r", route.name, failure)
                route.to_primary(failure)
            else:
                logger.debug("fast lane: plan failed: %r", failure)
            return False
        if data is None:
            return False
        if prepared.plan.reads:
            observing.database_used(scope, route.name)
        key = scope[REQUEST_KEY]
        answer = encode({"data": data, "extensions": {"cost": prepared.cost}})
        if version is not None:  # else not kept: no version it is known to be as new as
            self.responses.put(key, version, answer)
            scope[ANSWERED_AT] = version
        headers = [(b"x-execution", b"compiled"), *(self._tagged(tag) if tag else ())]
        await send_json(send, answer, *headers)
        return True

    async def _hit(
        self,
        scope: Scope,
        send: Send,
        cached: bytes,
        key: str,
        version: int,
        if_none_match: str | None,
    ) -> None:
        """A cached answer; over GET with its entity tag (``304`` if the client has it)."""
        scope[ANSWERED_AT] = version
        if scope["method"] != "GET":
            await send_json(send, cached, (b"x-cache", b"hit"))
            return
        tag = http_cache.entity_tag(version, key)
        headers = [
            (b"x-cache", b"hit"),
            (b"etag", tag.encode("latin-1")),
            (b"cache-control", self.cache_control),
        ]  # X-Catalog-Version: web.routing adds it (from ANSWERED_AT) to the 304 as well
        if http_cache.matches(if_none_match, tag):
            await self._not_modified(send, headers)
            return
        await send_json(send, cached, *headers)

    async def _version(self, scope: Scope) -> int | None:
        """The catalog version of the route's database, read now (None: it could not be read;
        the app will say why). A replica that fails, or is older than the client's version,
        leaves the request to the primary, read then."""
        route = _route(scope, self.replicas)
        while True:
            try:
                version = await route.database.versions.current()
            except Exception as error:
                if not route.on_replica:
                    logger.debug("fast lane: no catalog version: %r", error)
                    return None
                logger.warning("%s failed; reading the primary instead: %r", route.name, error)
                route.to_primary(error)
                continue
            if route.on_replica and route.required is not None and version < route.required:
                route.to_primary()
                continue
            break
        scope[CATALOG_VERSION] = version  # read before anything executes: the app's to use
        return version

    async def _data(
        self, scope: Scope, route: Route, prepared: Prepared, version: int | None
    ) -> tuple[dict[str, Any] | None, int | None]:
        """The plan's data (from the route's database) and the catalog version it is at
        least as new as; an expensive operation's once it has passed the gate (waiting there
        is cancelled with this task at the deadline)."""
        gate = scope.get(ADMISSION)
        if not prepared.expensive or not isinstance(gate, Gate):
            return await self._read(scope, route, prepared, version)
        scope[EXPENSIVE] = True  # not a cheap request (Gate.note_cheap)
        async with gate.admit():
            return await self._read(scope, route, prepared, version)

    async def _read(
        self, scope: Scope, route: Route, prepared: Prepared, version: int | None
    ) -> tuple[dict[str, Any] | None, int | None]:
        engine = route.database.direct
        if engine is not None:  # on the driver's connection, outside a transaction
            fetch = (
                functools.partial(fetch_json, engine)
                if self.tracer is None
                else _traced(self.tracer, engine)
            )
            data, read_at = await read_plan(prepared.plan, fetch, read_version=version is None)
        else:
            database = route.request_database()
            try:
                data, read_at = await run_plan(
                    prepared.plan, database, read_version=version is None
                )
            finally:
                await database.close()
        if version is None:
            if read_at is not None:
                version = read_at
            elif not prepared.plan.reads:  # only __typename: nothing read, read it now
                version = await self._version(scope)
            # else the first statement found nothing to read the version with: no version
        return data, version


def _traced(tracer: Tracer, engine: AsyncEngine) -> Any:
    """``fetch_json`` on ``engine`` with a span per statement: SQLAlchemy's events, which the
    other statements' spans come from, do not see statements run on the driver directly."""

    async def fetch(root: RootObject | Connection, version: bool) -> tuple[int | None, Any]:
        built_from, _ = statement_source(root)
        statement = driver_statement(engine.dialect, built_from, version)
        with tracing.statement_span(tracer, engine, statement.sql if statement else "SELECT"):
            return await fetch_json(engine, root, version)

    return fetch


def _route(scope: Scope, replicas: ReplicaSet) -> Route:
    """The request's route (``web.routing``), or the primary's for an app without one."""
    route = scope.get(ROUTE)
    if not isinstance(route, Route):
        route = scope[ROUTE] = replicas.route(primary=True)
    return route
