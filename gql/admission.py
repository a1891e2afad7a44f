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
import collections
import contextlib
import logging
import math
from collections.abc import AsyncIterator, MutableMapping
from typing import Any

from graphql import ExecutionResult, GraphQLError
from strawberry.extensions import SchemaExtension

from gql import errors
from gql.context import Context
from settings import Settings

logger = logging.getLogger("nkcinema.admission")

DEADLINE = "nkcinema.deadline"  # scope key: the loop time by which the request is answered
ADMISSION = "nkcinema.admission"  # scope key: the process's Gate
EXPENSIVE = "nkcinema.expensive"  # scope key: set when the request is an expensive operation
RETRY_AFTER_SECONDS = 1
MAX_REST_SECONDS = 1.0  # the longest a gate's place rests after an expensive operation


class GateFull(Exception):
    """As many expensive operations wait as the queue holds."""


class Gate:
    """A limit on expensive operations with a bounded queue, which yields to cheap ones.

    While cheap requests are about (one was answered in the last ``quiet`` seconds, see
    ``note_cheap``) at most ``concurrency`` expensive operations execute at once, and after
    each its place stays taken for ``rest`` times as long as it took (at most
    ``MAX_REST_SECONDS``): its answer leaves at once, but the next expensive operation starts
    later, so expensive work takes at most ``1 / (1 + rest)`` of each place's time and cheap
    reads keep CPU to run on (their statements share the database's cores with the expensive
    ones: bench/README.md, "Starvation"). When no cheap request has been answered for
    ``quiet`` seconds, nothing is waiting for those cores: up to ``burst`` expensive operations
    run at once, without rest, so search and facets alone use the whole machine. The first
    cheap request after such a stretch may wait for the expensive statements already running
    (they are not interrupted); from its answer on, the gate narrows again."""

    def __init__(
        self,
        concurrency: int,
        queue: int,
        rest: float = 0.0,
        *,
        burst: int | None = None,
        quiet: float = 0.5,
    ) -> None:
        self.concurrency = concurrency
        self.burst = max(concurrency, burst or concurrency)
        self.queue = queue
        self.rest = rest
        self.quiet = quiet
        self.running = 0  # admitted and executing
        self.resting = 0  # places resting after an operation
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._cheap_until = -math.inf  # loop time until which the gate yields to cheap reads
        self._widen: asyncio.TimerHandle | None = None

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    @property
    def contended(self) -> bool:
        """Whether the gate yields to cheap requests: one was answered in the last ``quiet``
        seconds, or the gate has no wider setting (``burst`` no more than ``concurrency``)."""
        return (
            self.burst == self.concurrency or asyncio.get_running_loop().time() < self._cheap_until
        )

    @property
    def limit(self) -> int:
        """How many expensive operations may hold a place now."""
        return self.concurrency if self.contended else self.burst

    def note_cheap(self) -> None:
        """A cheap request was answered: narrow the gate for the next ``quiet`` seconds (the
        serving layer calls this for every request that was not an expensive operation)."""
        if self.burst == self.concurrency:
            return
        loop = asyncio.get_running_loop()
        self._cheap_until = loop.time() + self.quiet
        if self._widen is None:
            self._widen = loop.call_at(self._cheap_until, self._widen_when_quiet)

    def _widen_when_quiet(self) -> None:
        loop = asyncio.get_running_loop()
        if loop.time() < self._cheap_until:  # cheap requests came since: look again then
            self._widen = loop.call_at(self._cheap_until, self._widen_when_quiet)
            return
        self._widen = None
        self._admit_waiters()

    def _admit_waiters(self) -> None:
        limit = self.limit
        while self._waiters and self.running + self.resting < limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.running += 1  # handed over: the waiter owns this place
                waiter.set_result(None)

    def _release(self) -> None:
        self.running -= 1
        self._admit_waiters()

    def _rested(self) -> None:
        self.resting -= 1
        self._admit_waiters()

    @contextlib.asynccontextmanager
    async def admit(self, busy: asyncio.Lock | None = None) -> AsyncIterator[None]:
        """Hold a place while the block runs; raises ``GateFull`` at once if the queue is
        full. Cancelling the wait (the deadline) gives up the place in the queue. ``busy``:
        a lock held while the operation's statement runs (``RequestDatabase.lock``); if the
        block ends with it held (execution stopped at the deadline, the statement goes on
        until it finishes or its own timeout), the place is kept until it is released, since
        that statement still keeps a database core busy."""
        if not self._waiters and self.running + self.resting < self.limit:
            self.running += 1
        elif self.waiting >= self.queue:
            raise GateFull
        else:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._release()  # the place was handed over as the wait was cancelled
                else:
                    with contextlib.suppress(ValueError):
                        self._waiters.remove(waiter)
                raise
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            yield
        finally:
            if busy is not None and busy.locked():
                done = asyncio.ensure_future(self._after(busy, started))
                _leaving.add(done)
                done.add_done_callback(_leaving.discard)
            else:
                self._leave(started)

    async def _after(self, busy: asyncio.Lock, started: float) -> None:
        try:
            async with busy:
                pass
        finally:
            self._leave(started)

    def _leave(self, started: float) -> None:
        loop = asyncio.get_running_loop()
        rest = min(MAX_REST_SECONDS, (loop.time() - started) * self.rest)
        if rest > 0 and self.contended:
            self.running -= 1
            self.resting += 1
            loop.call_later(rest, self._rested)
        else:
            self._release()


_leaving: set[asyncio.Future[None]] = set()  # places kept until a statement finishes


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
        scope: MutableMapping[str, Any] = {}
        if isinstance(context, Context) and context.request is not None:
            scope = context.request.scope
        gate = scope.get(ADMISSION)
        settings = getattr(context, "settings", None)
        work = getattr(context, "work", None) or 0
        if (
            not isinstance(gate, Gate)
            or not isinstance(settings, Settings)
            or work < settings.expensive_cost
        ):
            yield
            return
        scope[EXPENSIVE] = True  # not a cheap request (Gate.note_cheap)
        try:
            database = getattr(context, "database", None)
            async with gate.admit(busy=getattr(database, "lock", None)):
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
