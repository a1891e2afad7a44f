"""Pure ASGI middleware around every request: its id (``RequestId``) and its record in the
access log (``AccessLog``).

Usage: ``Middleware(RequestId), Middleware(AccessLog)``, outermost, in that order.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_logger = logging.getLogger("nkcinema.access")
REQUEST_ID = "nkcinema.request_id"  # scope key: the request's id
ANSWERED_BY = "nkcinema.answered_by"  # scope key: the database that answered (web.routing)
_REQUEST_ID_HEADER = b"x-request-id"


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
                headers = list(message.get("headers", ()))
                if _REQUEST_ID_HEADER in dict(headers):  # ours replaces it
                    headers = [(k, v) for k, v in headers if k != _REQUEST_ID_HEADER]
                headers.append((_REQUEST_ID_HEADER, request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_id)


class AccessLog(_HttpMiddleware):
    """One record per HTTP request on ``nkcinema.access``: method, path (never the query
    string, which can hold variables), status, duration, request id and, for GraphQL, the
    database that answered (``primary``, ``replica-1``, …)."""

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
                    "request_id": scope.get(REQUEST_ID),
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "client": client[0] if client else None,
                    "database": scope.get(ANSWERED_BY),
                },
            )
