"""The fast lane: POSTs to /graphql that this process has answered before, answered again
without Starlette's routing or Strawberry — from the response cache while the catalog version
is unchanged, else by running the request's prepared plan (``gql.prepared``).

A request takes the lane only if it is exactly one this process answered through the full
path: same document, variables and operation name (``gql.response_cache.request_key``), so
it has passed every limit and its plan was built for it. What the lane checks itself is the
transport: ``Content-Type: application/json``, a declared ``Content-Length`` within
``max_body_bytes`` and no ``Authorization`` header (answers to credentialed requests are
never cached; the token must be checked). Anything else — and anything that fails on the
way (a version read, a statement) — goes to the app with the body replayed, which answers it
as it would have: the lane never produces an error of its own, except the request deadline.

The answer is the one the full path gives: ``{"data": …, "extensions": {"cost": …}}``, the
same bytes (both encode with orjson), with ``X-Execution: compiled``, or ``X-Cache: hit``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections import OrderedDict
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from db.sessions import RequestDatabase
from db.version_reads import VersionReads
from gql import errors
from gql.admission import remaining
from gql.caching import CATALOG_VERSION, REQUEST_KEY
from gql.compiled import read_plan, run_plan
from gql.compiled.driver import fetch_json
from gql.prepared import Prepared, PreparedRequests
from gql.response_cache import ResponseCache, is_well_formed, request_key
from settings import Settings

logger = logging.getLogger("nkcinema.fast_lane")
JSON_HEADERS = [(b"content-type", b"application/json")]
REMEMBERED_BODIES = 1000  # bodies whose request key is remembered…
REMEMBERED_BODY_BYTES = 4096  # …if at most this long


def encode(value: Any) -> bytes:
    """A response body: orjson (UTF-8, compact), or the standard library for what orjson
    refuses (integers beyond 64 bits)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class FastLane:
    def __init__(
        self,
        app: ASGIApp,
        *,
        path: str,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        versions: VersionReads,
        responses: ResponseCache,
        prepared: PreparedRequests,
        engine: AsyncEngine | None = None,
    ) -> None:
        self.app = app
        self.path = path
        self.settings = settings
        self.sessions = sessions
        self.versions = versions
        self.responses = responses
        self.prepared = prepared
        self.engine = engine  # plans run on its connections' driver directly (db.engine)
        self._keys: OrderedDict[bytes, str] = OrderedDict()  # body -> request key (LRU)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] != self.path
            or not (self.responses.enabled or self.prepared.enabled)
        ):
            await self.app(scope, receive, send)
            return
        length = self._admissible_length(scope)
        if length is None:
            await self.app(scope, receive, send)
            return
        body, replay = await _read_body(receive)
        if body is None:
            return  # the client went away before sending its request
        if not await self._answer(scope, body, send):
            await self.app(scope, replay, send)

    def _admissible_length(self, scope: Scope) -> int | None:
        """The declared body length of a request the lane may take, else None."""
        media_type = length = None
        for name, value in scope["headers"]:
            if name == b"content-type":
                media_type = value.split(b";", 1)[0].strip().lower()
            elif name == b"content-length":
                length = value
            elif name == b"authorization":
                return None
        if media_type != b"application/json" or length is None or not length.isdigit():
            return None
        declared = int(length)
        return declared if declared <= self.settings.max_body_bytes else None

    def _key(self, body: bytes) -> str | None:
        """The request key of a body (``request_key``), remembered per exact body for the
        bodies that had one: clients repeat theirs byte for byte."""
        key = self._keys.get(body)
        if key is not None:
            self._keys.move_to_end(body)
            return key
        try:
            parameters = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if not is_well_formed(parameters):
            return None
        key = request_key(parameters)
        if len(body) <= REMEMBERED_BODY_BYTES:
            self._keys[body] = key
            if len(self._keys) > REMEMBERED_BODIES:
                self._keys.popitem(last=False)
        return key

    async def _answer(self, scope: Scope, body: bytes, send: Send) -> bool:
        """Answer the request if it is one seen before; False: the app must answer it."""
        key = self._key(body)
        if key is None:
            return False
        scope[REQUEST_KEY] = key  # if the app answers, it need not parse the body for it
        version: int | None = None
        if key in self.responses:
            version = await self._version(scope)
            if version is None:
                return False
            cached = self.responses.get(key, version)
            if cached is not None:
                await _send(send, cached, (b"x-cache", b"hit"))
                return True
        prepared = self.prepared.get(key)
        if prepared is None:
            return False
        deadline = self.settings.request_timeout
        # Its own task, waited for with a timeout: cancelling it at the deadline never leaves
        # a cancellation pending on the request's task (asyncio.timeout can, on 3.11). The
        # deadline counts from the request's arrival (gql.admission).
        work = asyncio.ensure_future(self._data(scope, prepared, version))
        done, _ = await asyncio.wait((work,), timeout=remaining(scope, deadline))
        if not done:
            work.cancel()
            logger.warning("fast lane: the request deadline (%g s) passed", deadline)
            error = errors.request_timeout(deadline).formatted
            await _send(send, encode({"data": None, "errors": [error]}))
            return True
        try:
            data, version = work.result()
        except Exception as error:  # the app answers, with its error handling
            logger.debug("fast lane: plan failed: %r", error)
            return False
        if data is None:
            return False
        answer = encode({"data": data, "extensions": {"cost": prepared.cost}})
        if version is not None:  # else not kept: no version it is known to be as new as
            self.responses.put(key, version, answer)
        await _send(send, answer, (b"x-execution", b"compiled"))
        return True

    async def _version(self, scope: Scope) -> int | None:
        """The catalog version, read now (None: it could not be read; the app will say why)."""
        try:
            version = await self.versions.current()
        except Exception as error:
            logger.debug("fast lane: no catalog version: %r", error)
            return None
        scope[CATALOG_VERSION] = version  # read before anything executes: the app's to use
        return version

    async def _data(
        self, scope: Scope, prepared: Prepared, version: int | None
    ) -> tuple[dict[str, Any] | None, int | None]:
        """The plan's data and the catalog version it is at least as new as."""
        engine = self.engine
        if engine is not None:  # on the driver's connection, outside a transaction
            fetch = functools.partial(fetch_json, engine)
            data, read_at = await read_plan(prepared.plan, fetch, read_version=version is None)
        else:
            database = RequestDatabase(self.sessions())
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


async def _read_body(receive: Receive) -> tuple[bytes | None, Receive]:
    """The whole body (its length was declared and is within the limit), or None if the
    client disconnected first; and a receive that replays it for the app."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None, receive
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    return body, replaying(body, receive)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the app ``body`` (already read from ``receive``) as one message,
    then goes on with ``receive`` (which then only waits for the disconnect)."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _send(send: Send, body: bytes, *headers: tuple[bytes, bytes]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                *JSON_HEADERS,
                (b"content-length", str(len(body)).encode("latin-1")),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
