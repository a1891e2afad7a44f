"""The request deadline, counted from the moment a request reaches the app (settings
``request_timeout``), for everything after it: reading the body, the fast lane, waiting at
the gate for expensive operations (``gql.admission``), waiting for a pooled connection,
executing (``gql.schema`` stops execution at it).

- ``RequestDeadline`` (ASGI middleware, outside everything that can wait) stamps each request
  to /graphql with its deadline (``gql.admission.DEADLINE`` in the scope) and the process's
  gate (``gql.admission.ADMISSION``). If no answer has started shortly after the deadline,
  whatever the app is waiting for, it answers ``TIMEOUT`` itself. Every request that was not
  an expensive operation tells the gate a cheap one was answered (``Gate.note_cheap``).
- ``close_database``: a request whose answer went out at its deadline does not wait for its
  session to close; ``closed`` waits for those before the engine is disposed of.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from db.sessions import RequestDatabase
from gql import errors
from gql.admission import ADMISSION, DEADLINE, EXPENSIVE, Gate
from settings import Settings
from web.encoding import encode, send_json

logger = logging.getLogger("nkcinema.admission")

# How long after the deadline the middleware waits for the app's own TIMEOUT answer (which
# execution gives at the deadline itself) before answering for it.
BACKSTOP_SECONDS = 0.25


class RequestDeadline:
    """Stamps requests to ``path`` with their deadline and the process's gate, and answers
    ``TIMEOUT`` for the app if it has not begun to answer shortly after the deadline (a timer,
    not a task per request: this runs on every request, cached answers included)."""

    def __init__(self, app: ASGIApp, *, path: str, settings: Settings, gate: Gate) -> None:
        self.app = app
        self.path = path
        self.settings = settings
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = scope[DEADLINE] = loop.time() + self.settings.request_timeout
        scope[ADMISSION] = self.gate
        task = asyncio.current_task()
        started = fired = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if fired:  # the middleware answered at the deadline: too late for this
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        def backstop() -> None:
            nonlocal fired
            if not started and task is not None:
                fired = True
                task.cancel()  # whatever the app waits for outside execution (its own timeout)

        timer = loop.call_at(deadline + BACKSTOP_SECONDS, backstop)
        try:
            await self.app(scope, receive, guarded_send)
        except asyncio.CancelledError:
            if not fired or task is None:
                raise
            task.uncancel()
            logger.warning("request deadline (%g s) passed", self.settings.request_timeout)
            error = errors.request_timeout(self.settings.request_timeout).formatted
            await send_json(send, encode({"data": None, "errors": [error]}))
        finally:
            timer.cancel()
            if not scope.get(EXPENSIVE):
                self.gate.note_cheap()


_closing: set[asyncio.Task[None]] = set()


async def close_database(database: RequestDatabase, scope: Scope) -> None:
    """Close the request's database once its answer is sent. Past the deadline, a statement
    may still be in flight (one that was waiting for a connection or running when execution
    was stopped; ``RequestDatabase.close`` waits for it): then it closes in the background,
    so the connection, and a client's next request on it, need not wait."""
    deadline = scope.get(DEADLINE)
    late = isinstance(deadline, float) and asyncio.get_running_loop().time() >= deadline
    if not (late and database.lock.locked()):
        await database.close()
        return
    closing = asyncio.ensure_future(database.close())
    _closing.add(closing)
    closing.add_done_callback(_closed)


async def closed() -> None:
    """Wait for the databases closing in the background (before disposing of their engine)."""
    while _closing:
        await asyncio.wait(set(_closing))


def _closed(task: asyncio.Task[None]) -> None:
    _closing.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.warning("closing a request's database after its deadline: %r", task.exception())
