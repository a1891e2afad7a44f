"""Pure ASGI middleware around every request: its id (``RequestId``) and its record in the
access log (``AccessLog``).

Usage: ``Middleware(RequestId), Middleware(AccessLog)``, outermost, in that order.

``RequestId`` is the one layer that sees the start of every answer on its way out: it notes
the status in the scope (``STATUS``: ``AccessLog`` reads it there) and lets the layers inside
add headers to it (``on_response_start``) — each layer that wrapped ``send`` for that cost a
coroutine call per message on every request, the cheapest included.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

access_logger = logging.getLogger("nkcinema.access")
REQUEST_ID = "nkcinema.request_id"  # scope key: the request's id
ANSWERED_BY = "nkcinema.answered_by"  # scope key: the database that answered (web.routing)
STATUS = "nkcinema.status"  # scope key: the status the answer started with (none: no answer)
_ON_START = "nkcinema.on_response_start"  # scope key: on_response_start's hooks
_REQUEST_ID_HEADER = b"x-request-id"

# A hook: given the request's scope and the answer's headers (a list), adds to them.
StartHook = Callable[[Scope, list[tuple[bytes, bytes]]], None]


def on_response_start(scope: Scope, hook: StartHook) -> None:
    """Have ``hook`` add its headers to the request's answer when it starts, whoever gives it
    (inside ``RequestId``: without it, nothing is added)."""
    hooks = scope.get(_ON_START)
    if hooks is None:
        scope[_ON_START] = [hook]
    else:
        hooks.append(hook)


def _request_id(scope: Scope) -> str:
    """The client's X-Request-ID when it is a sane token, else a new one: 128 random bits in
    hex, as a UUID4's hex is, without building the UUID (every request makes one)."""
    given = dict(scope.get("headers", ())).get(_REQUEST_ID_HEADER)
    if given is not None:
        text = given.decode("latin-1")
        cleaned = "".join(c for c in text if c.isalnum() or c in "-_.")[:64]
        if cleaned:
            return cleaned
    return os.urandom(16).hex()


class _HttpMiddleware:
    """Middleware that acts on HTTP requests and passes anything else (lifespan) through.
    Each subclass's ``__call__`` checks the type itself: one coroutine per request and
    layer, not two."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app


class RequestId(_HttpMiddleware):
    """Gives every request an id (logged with its errors) and returns it as X-Request-ID."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = scope[REQUEST_ID] = _request_id(scope)

        async def send_with_id(message: Any) -> None:
            if message["type"] == "http.response.start":
                scope[STATUS] = int(message["status"])
                headers = message.get("headers")
                if type(headers) is not list:  # in place, as Starlette's MutableHeaders does
                    headers = message["headers"] = list(headers or ())
                if _REQUEST_ID_HEADER in dict(headers):  # ours replaces the app's
                    headers[:] = [h for h in headers if h[0] != _REQUEST_ID_HEADER]
                headers.append((_REQUEST_ID_HEADER, request_id.encode("latin-1")))
                for hook in scope.get(_ON_START, ()):
                    hook(scope, headers)
            await send(message)

        await self.app(scope, receive, send_with_id)


class AccessLog(_HttpMiddleware):
    """One record per HTTP request on ``nkcinema.access``: method, path (never the query
    string, which can hold variables), status (as ``RequestId`` noted it), duration, request
    id and, for GraphQL, the database that answered (``primary``, ``replica-1``, …)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            status = scope.get(STATUS, 500)  # 500: an exception that escaped everything
            client = scope.get("client")
            access_logger.info(
                "%s %s %d",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "request_id": scope.get(REQUEST_ID),
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "client": client[0] if client else None,
                    "database": scope.get(ANSWERED_BY),
                },
            )
