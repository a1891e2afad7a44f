"""Admission: the request deadline, counted from the moment a request reaches the app, and a
per-process limit on expensive operations, so that cheap reads always find a connection.

- ``RequestDeadline`` (ASGI middleware, outside everything that can wait) stamps each request
  to /graphql with its deadline (``DEADLINE`` in the scope: the event loop's clock at arrival
  plus ``request_timeout``). Everything after it counts against that one deadline: reading
  the body, the fast lane, waiting at the gate below, waiting for a pooled connection,
  executing (``gql.schema`` stops execution at it). If no answer has started shortly after
  the deadline, whatever the app is waiting for, the middleware answers ``TIMEOUT`` itself;
  a request whose answer went out at its deadline does not wait for its session to close
  (``close_database``).
- ``Gate``: at most ``expensive_concurrency`` operations whose priced work (search, search
  filters, facets, ``similar``: ``gql.limits``) reaches ``expensive_cost`` execute at once
  in a process; up to ``expensive_queue`` more wait their turn, within their deadline (past
  it: ``TIMEOUT``). When that queue is full the operation is refused at once with
  ``SERVICE_UNAVAILABLE``, HTTP 503 and ``Retry-After``. An operation waits at the gate
  before it holds a connection (``AdmissionControl`` runs before anything reads).
- Every ``SERVICE_UNAVAILABLE`` answer (the gate's queue is full, the pool had no connection
  within ``pool_timeout``, the database cannot be reached) is HTTP 503 with ``Retry-After``
  (``unavailable``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from graphql import ExecutionResult, GraphQLError
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from db.sessions import RequestDatabase
from gql import errors
from gql.context import Context
from settings import Settings

logger = logging.getLogger("nkcinema.admission")

DEADLINE = "nkcinema.deadline"  # scope key: the loop time by which the request is answered
ADMISSION = "nkcinema.admission"  # scope key: the process's Gate
RETRY_AFTER_SECONDS = 1
# How long after the deadline the middleware waits for the app's own TIMEOUT answer (which
# execution gives at the deadline itself) before answering for it.
BACKSTOP_SECONDS = 0.25
MAX_REST_SECONDS = 1.0  # the longest a gate's place rests after an expensive operation


class GateFull(Exception):
    """As many expensive operations wait as the queue holds."""


class Gate:
    """A semaphore for expensive operations with a bounded queue. After an operation, its
    place stays taken for ``rest`` times as long as the operation took (at most
    ``MAX_REST_SECONDS``): the operation's answer leaves at once, but the next expensive
    operation starts later, so that expensive work takes at most ``1 / (1 + rest)`` of each
    place's time and cheap reads keep CPU to run on (their statements share the database's
    cores with the expensive ones: bench/README.md, "Starvation")."""

    def __init__(self, concurrency: int, queue: int, rest: float = 0.0) -> None:
        self.concurrency = concurrency
        self.queue = queue
        self.rest = rest
        self._semaphore = asyncio.Semaphore(concurrency)
        self.waiting = 0
        self.running = 0

    @contextlib.asynccontextmanager
    async def admit(self) -> AsyncIterator[None]:
        """Hold a place while the block runs; raises ``GateFull`` at once if the queue is
        full. Cancelling the wait (the deadline) gives up the place in the queue."""
        if self._semaphore.locked() and self.waiting >= self.queue:
            raise GateFull
        self.waiting += 1
        try:
            await self._semaphore.acquire()
        finally:
            self.waiting -= 1
        self.running += 1
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            yield
        finally:
            self.running -= 1
            rest = min(MAX_REST_SECONDS, (loop.time() - started) * self.rest)
            if rest > 0:
                loop.call_later(rest, self._semaphore.release)
            else:
                self._semaphore.release()


def unavailable(context: Any) -> None:
    """Make the request's answer HTTP 503 with ``Retry-After`` (a SERVICE_UNAVAILABLE)."""
    response = getattr(context, "response", None)
    if response is not None:
        response.status_code = 503
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)


class AdmissionControl(SchemaExtension):
    """Admits expensive operations through the request's ``Gate`` (``ADMISSION``), before the
    extensions after it read anything. Waiting counts against the deadline (``gql.schema``
    runs the whole operation under it)."""

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        gate = None
        if isinstance(context, Context) and context.request is not None:
            gate = context.request.scope.get(ADMISSION)
        settings = getattr(context, "settings", None)
        work = getattr(context, "work", None) or 0
        if (
            not isinstance(gate, Gate)
            or not isinstance(settings, Settings)
            or work < settings.expensive_cost
        ):
            yield
            return
        try:
            async with gate.admit():
                yield
        except GateFull:
            logger.warning("expensive operation refused: %d running, %d waiting", *gate_load(gate))
            unavailable(context)
            self.execution_context.result = ExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        "Too many expensive operations (search, facets, similar) are running; "
                        f"retry in {RETRY_AFTER_SECONDS} s.",
                        extensions={
                            "code": errors.SERVICE_UNAVAILABLE,
                            "retryAfter": RETRY_AFTER_SECONDS,
                        },
                    )
                ],
            )
            yield


def gate_load(gate: Gate) -> tuple[int, int]:
    return gate.running, gate.waiting


def remaining(scope: Scope, default: float) -> float:
    """Seconds left until the request's deadline (``default`` if it has none)."""
    deadline = scope.get(DEADLINE)
    if not isinstance(deadline, float):
        return default
    return max(0.0, deadline - asyncio.get_running_loop().time())


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
            await _send_json(send, {"data": None, "errors": [error]})
        finally:
            timer.cancel()


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


async def _send_json(send: Send, body: dict[str, Any]) -> None:
    from gql.fast_lane import encode  # the app's encoder (imports the compiled path)

    payload = encode(body)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode("latin-1")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
