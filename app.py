"""The ASGI application: GraphQL (and GraphiQL) at /graphql, /healthz and /readyz.

``create_app()`` reads the settings from the environment; tests pass their own settings and
session factory. ``nkcinema serve`` has uvicorn call ``create_served_app()`` as a factory.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from cross_web import HTTPException
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse

from db.engine import direct_engine_from_settings, engine_from_settings, session_factory
from db.sessions import RequestDatabase
from db.version_reads import SessionSource, VersionReads, dedicated_source, is_file_database
from gql import errors, http_cache, response_cache
from gql.admission import Gate, RequestDeadline, close_database, closed
from gql.caching import CACHEABLE, CATALOG_VERSION, REQUEST_KEY
from gql.context import Context
from gql.fast_lane import FastLane, encode, replaying
from gql.graphiql import ASSETS as GRAPHIQL
from gql.graphiql import load_examples, render_page
from gql.over_http import GraphQLOverHTTP
from gql.prepared import PreparedRequests
from gql.schema import schema
from settings import Settings, load_settings

logger = logging.getLogger("nkcinema")
access_logger = logging.getLogger("nkcinema.access")


def _examples_directory() -> Path:
    """``examples/`` beside this module (a checkout), else in the working directory (an
    installed package run from the project directory, as in the Docker image)."""
    beside = Path(__file__).resolve().parent / "examples"
    return beside if beside.is_dir() else Path.cwd() / "examples"


EXAMPLES = _examples_directory()  # the example frontend (at /examples/) and operations
GRAPHQL_PATH = "/graphql"
GRAPHIQL_ASSETS = "/graphiql"  # GraphiQL's vendored scripts and styles (gql/graphiql/assets)
READINESS_TIMEOUT_SECONDS = 2.0
_DATABASE_KEY = "nkcinema.database"
_REQUEST_ID_KEY = "nkcinema.request_id"
_REQUEST_ID_HEADER = b"x-request-id"


def _request_id(scope: Scope) -> str:
    """The client's X-Request-ID when it is a sane token, else a new one."""
    for name, value in scope.get("headers", []):
        if name == _REQUEST_ID_HEADER:
            given = value.decode("latin-1")
            cleaned = "".join(c for c in given if c.isalnum() or c in "-_.")[:64]
            if cleaned:
                return cleaned
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Gives every request an id (logged with its errors) and returns it as X-Request-ID."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = scope[_REQUEST_ID_KEY] = _request_id(scope)

        async def send_with_id(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k != _REQUEST_ID_HEADER]
                headers.append((_REQUEST_ID_HEADER, request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_id)


def _is_unicode(value: Any) -> bool:
    """Whether every string in a decoded JSON value is encodable text: JSON can spell lone
    UTF-16 surrogates (``"\\ud800"``), which no database accepts and UTF-8 cannot encode."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


TRANSPORT_CODES = {
    400: errors.BAD_REQUEST,
    404: errors.NOT_FOUND,
    405: errors.METHOD_NOT_ALLOWED,
    413: errors.REQUEST_TOO_LARGE,
    415: errors.UNSUPPORTED_MEDIA_TYPE,
}


def _json_refusals(send: Send) -> Send:
    """Strawberry answers transport-level refusals (a body that is not JSON, a mutation over
    GET …) in plain text; clients get them as GraphQL errors with a code, like the rest."""
    held: dict[str, Any] = {}

    async def send_json(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = Headers(raw=message.get("headers", []))
            status = int(message["status"])
            if 400 <= status < 500 and headers.get("content-type", "").startswith("text/plain"):
                held["start"] = message
                return
        elif message["type"] == "http.response.body" and "start" in held:
            held["body"] = held.get("body", b"") + message.get("body", b"")
            if message.get("more_body", False):
                return
            start = held.pop("start")
            status = int(start["status"])
            reason = held.pop("body").decode("utf-8", "replace")
            code = TRANSPORT_CODES.get(status, errors.BAD_REQUEST)
            response = _error_response(status, code, reason)
            await send({**start, "headers": response.raw_headers})
            await send({"type": "http.response.body", "body": response.body})
            return
        await send(message)

    return send_json


def _request_key(scope: Scope, body: bytes) -> str | None:
    """The response-cache key of a GET or JSON POST request (None: not a single operation)."""
    if scope["method"] == "GET":
        parameters: Any = dict(Request(scope).query_params)
    else:
        try:
            parameters = json.loads(body)
        except (ValueError, RecursionError):
            return None
        if not response_cache.is_well_formed(parameters):
            return None
    if not isinstance(parameters, dict) or not isinstance(parameters.get("query"), str):
        return None
    return response_cache.request_key(parameters)


def _error_response(status: int, code: str, message: str, **extensions: Any) -> Response:
    """A transport-level refusal, shaped like a GraphQL error response."""
    body = {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}
    return JSONResponse(body, status_code=status)


class AccessLog:
    """One record per HTTP request on ``nkcinema.access``: method, path (never the query
    string, which can hold variables), status, duration and request id."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless the app answers: an exception that escaped everything

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            client = scope.get("client")
            access_logger.info(
                "%s %s %d",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "request_id": scope.get(_REQUEST_ID_KEY),
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "client": client[0] if client else None,
                },
            )


class CatalogGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with one database session per request, closed after it."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        versions: VersionReads,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=True,
        )
        self.sessions = sessions
        self.settings = settings
        self.versions = versions  # catalog version reads for cache hits (db.version_reads)
        self.responses = response_cache.ResponseCache(
            settings.response_cache_entries, settings.response_cache_bytes
        )
        self.prepared = PreparedRequests(settings.prepared_requests if settings.compiled else 0)

    def encode_json(self, data: object) -> bytes:
        return encode(data)  # as gql.fast_lane, so both paths give the same bytes

    async def render_graphql_ide(self, request: Request) -> Response:
        """Our GraphiQL page (assets served by this app, example tabs) in place of
        Strawberry's, which loads its scripts from a CDN."""
        page = render_page(
            load_examples(EXAMPLES / "operations"), endpoint=GRAPHQL_PATH, assets=GRAPHIQL_ASSETS
        )
        return HTMLResponse(page, headers={"Cache-Control": "no-cache"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # no subscriptions: nothing to serve over websockets
            await Response(status_code=404)(scope, receive, send)
            return
        body = b""
        if scope["method"] == "POST":
            refusal, receive, body = await self._admit_post(scope, receive)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        database = scope[_DATABASE_KEY] = RequestDatabase(self.sessions())
        try:
            if await self._answer_from_cache(scope, receive, send, body, database):
                return
            await super().__call__(scope, receive, self._keep_answer(scope, _json_refusals(send)))
        finally:
            await close_database(database, scope)

    async def _answer_from_cache(
        self, scope: Scope, receive: Receive, send: Send, body: bytes, database: RequestDatabase
    ) -> bool:
        """Serve a repeated query from the response cache, before any parsing: only requests
        already answered (so within every limit) are in it, and only while the catalog
        version they were answered at is current (one single-row read)."""
        known = scope.get(REQUEST_KEY)  # gql.fast_lane has computed it for most POSTs
        key = known if isinstance(known, str) else _request_key(scope, body)
        if key is None:
            return False
        scope[REQUEST_KEY] = key  # gql.caching files the answer under it
        if not self.responses.enabled or "authorization" in Headers(scope=scope):
            return False
        if key not in self.responses:
            return False
        read = scope.get(CATALOG_VERSION)  # gql.fast_lane may have read it
        try:
            version = read if isinstance(read, int) else await self.versions.current()
        except Exception:  # the normal path will report what is wrong
            return False
        scope[CATALOG_VERSION] = version
        cached = self.responses.get(key, version)
        if cached is None:
            return False
        headers = {"X-Cache": "hit"}
        if scope["method"] == "GET":
            tag = http_cache.entity_tag(version, key)
            headers.update(ETag=tag, **{"Cache-Control": self._cache_control})
            if http_cache.matches(Headers(scope=scope).get("if-none-match"), tag):
                await Response(status_code=304, headers=headers)(scope, receive, send)
                return True
        await Response(cached, media_type="application/json", headers=headers)(scope, receive, send)
        return True

    def _keep_answer(self, scope: Scope, send: Send) -> Send:
        """Keep the answer to a query gql.caching marked cacheable, if it has no errors."""
        if not self.responses.enabled:
            return send
        status, chunks = 0, []

        async def keep(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                marked = scope.get(CACHEABLE)
                if not message.get("more_body", False) and status == 200 and marked:
                    answer = b"".join(chunks)
                    if b'"errors"' not in answer:
                        key, version = marked
                        self.responses.put(key, version, answer)
            await send(message)

        return keep

    async def _admit_post(
        self, scope: Scope, receive: Receive
    ) -> tuple[Response | None, Receive, bytes]:
        """POSTs must be ``application/json`` (so a browser cannot send one cross-site without a
        CORS preflight: no form, multipart or text/plain posts) and at most
        ``max_body_bytes`` long. The body is read here, within the limit, and replayed."""
        headers = Headers(scope=scope)
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            return (
                _error_response(
                    415,
                    errors.UNSUPPORTED_MEDIA_TYPE,
                    "POST requests must have Content-Type: application/json.",
                ),
                receive,
                b"",
            )
        limit = self.settings.max_body_bytes
        too_large = _error_response(
            413, errors.REQUEST_TOO_LARGE, f"The request body is over {limit} bytes.", limit=limit
        )
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return too_large, receive, b""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return too_large, receive, b""
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        return None, replaying(body, receive), body

    @property
    def _cache_control(self) -> str:
        return http_cache.cache_control(self.settings.cache_max_age)

    async def get_sub_response(self, request: Request) -> Response:  # type: ignore[override]
        response = await super().get_sub_response(request)
        if request.method == "GET":  # gql.caching tags cacheable answers
            response.headers["Cache-Control"] = http_cache.UNCACHEABLE
        return response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        if sub_response.status_code == 304:  # gql.caching: the client's copy is current
            not_modified = Response(status_code=304)
            for name in ("etag", "cache-control"):
                if name in sub_response.headers:
                    not_modified.headers[name] = sub_response.headers[name]
            return not_modified
        response = super().create_response(response_data, sub_response)
        if "etag" in response.headers and (
            not isinstance(response_data, dict) or response_data.get("errors")
        ):  # errors may be passing (a timeout, an outage): never cache them
            del response.headers["etag"]
            response.headers["Cache-Control"] = http_cache.UNCACHEABLE
        return response

    def parse_json(self, data: str | bytes) -> Any:
        """Only a JSON object (or a list, for batches) is a request; anything else is a 400."""
        try:
            value = self.decode_json(data)
        except (ValueError, RecursionError) as error:  # bad JSON, bad UTF-8, absurd nesting
            raise HTTPException(400, "Unable to parse request body as JSON") from error
        if not isinstance(value, (dict, list)):
            raise HTTPException(400, "The request body must be a JSON object")
        if not _is_unicode(value):
            raise HTTPException(400, "The request holds text that is not valid Unicode")
        return value

    async def get_context(self, request: Any, response: Any) -> Context:
        return Context(
            request=request,
            response=response,
            database=request.scope[_DATABASE_KEY],
            settings=self.settings,
            request_id=request.scope.get(_REQUEST_ID_KEY) or uuid.uuid4().hex,
            responses=self.responses,
            prepared=self.prepared,
        )


# Allocations between two young-generation collections (CPython's default: 700). A nested
# page allocates tens of thousands of objects (its decoded JSON, its response), nearly all
# freed by reference counting when the request ends: collecting every 700 of them is work
# that finds nothing. Measured on W3 (100 directors' works): 15% of a worker's CPU was the
# collector at 700, with start-up objects frozen.
GC_YOUNG_THRESHOLD = 50_000


def tune_garbage_collector() -> None:
    """Before serving: move what start-up built (modules, the schema, the app: about 10^5
    objects, alive until the process ends) out of the collector's reach (``gc.freeze``), so
    that no collection traverses them again, and collect the young generation less often.
    On a 70 kB answer the collector took more time than decoding and shaping it."""
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

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await closed()  # requests answered at their deadline, still closing their sessions
        await versions.close()
        for engine_ in (direct, owned_engine):
            if engine_ is not None:
                await engine_.dispose()

    graphql = CatalogGraphQL(sessions, settings, versions)
    routes: list[BaseRoute] = [
        Route(GRAPHQL_PATH, graphql, methods=["GET", "POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
    if settings.graphiql:
        routes.append(Mount(GRAPHIQL_ASSETS, StaticFiles(directory=GRAPHIQL), name="graphiql"))
    if settings.examples and EXAMPLES.is_dir():
        examples = StaticFiles(directory=EXAMPLES, html=True)
        routes.append(Mount("/examples", examples, name="examples"))
    middleware = [Middleware(RequestIdMiddleware), Middleware(AccessLog)]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Content-Type", "Authorization", "If-None-Match", "X-Request-ID"],
                expose_headers=["ETag", "X-Request-ID"],
                max_age=600,
            )
        )
    middleware.append(Middleware(GraphQLOverHTTP, path=GRAPHQL_PATH, settings=settings))
    gate = Gate(settings.expensive_limit, settings.expensive_queue, settings.expensive_rest)
    middleware.append(Middleware(RequestDeadline, path=GRAPHQL_PATH, settings=settings, gate=gate))
    middleware.append(
        Middleware(
            FastLane,
            path=GRAPHQL_PATH,
            settings=settings,
            sessions=sessions,
            versions=versions,
            responses=graphql.responses,
            prepared=graphql.prepared,
            engine=direct,
        )
    )
    served = Starlette(middleware=middleware, routes=routes, lifespan=lifespan)
    served.state.admission = gate
    return served


def create_served_app() -> Starlette:
    """``nkcinema serve``'s app (uvicorn's factory, in each worker): ``create_app()`` from the
    environment, then the garbage collector tuned for serving (``tune_garbage_collector``;
    not in ``create_app``, which tests call in a process of their own)."""
    served = create_app()
    tune_garbage_collector()
    return served
