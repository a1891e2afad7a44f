"""Admission: a per-process limit on expensive operations, so that cheap reads always find a
connection, within the request's deadline, counted from the moment a request reaches the app.

Usage: ``extensions=[..., AdmissionControl, ...]`` before any extension that reads; the
server puts the process's ``Gate`` in each request's scope (``ADMISSION``).

- ``DEADLINE``: the request's deadline in the scope (the event loop's clock at arrival plus
  ``request_timeout``), stamped by the serving layer (``web.deadline``). Everything after
  arrival counts against it: waiting at the gate below, waiting for a pooled connection,
  executing (``gql.schema`` stops execution at it).
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
from strawberry.extensions import SchemaExtension

from gql import errors
from gql.context import Context
from settings import Settings

logger = logging.getLogger("nkcinema.admission")

DEADLINE = "nkcinema.deadline"  # scope key: the loop time by which the request is answered
ADMISSION = "nkcinema.admission"  # scope key: the process's Gate
RETRY_AFTER_SECONDS = 1
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
