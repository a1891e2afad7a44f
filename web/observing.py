"""What each GraphQL request came to, counted in the metrics (``metrics``) in one place:
``Observe``, a pure ASGI middleware around everything that answers at /graphql (the
transport's refusals, the fast lane, Strawberry), records each request once its answer is
sent: its operation, outcome, first error code and duration, and how it was executed.

What only the inside knows, the answerers note on the request's ``Observed`` (in the scope,
``OBSERVED``): Strawberry's path through ``Observation``, an extension of the served schema
(the operation's name and cost, and whether the compiled plan, the resolvers or an entity
tag answered it), and the fast lane itself (``cached`` or ``compiled``). The outcome and the
code are read from the answer, whichever layer gave it (every error carries
``extensions.code``); a body is only parsed when it holds ``"errors"``, and not even searched
when its answerer knows it holds none (the fast lane's data and cached answers: a page of
nested works is tens of kilobytes, and the search cost more than the rest of the recording).

The fast lane answers requests by their key, without the document: the operation name of
each request key this process answered through Strawberry is remembered
(``operation_name``; a key is a digest of the document, variables and operation name, so the
name it maps to never changes).

Not counted: GraphiQL's page, CORS preflights, and what is not at /graphql (``/metrics``,
``/healthz``, ``/readyz``, static files).
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import orjson
from cachetools import LRUCache
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

import metrics
from gql.context import Context
from web.intake import REQUEST_KEY
from web.middleware import STATUS

OBSERVED = "nkcinema.observed"  # scope key: the request's Observed
COMPILED, RESOLVER, CACHED = "compiled", "resolver", "cached"  # nkcinema_executions_total{path}
REMEMBERED_NAMES = 10_000  # request keys whose operation name is remembered (more than the
# response cache and the prepared requests hold by default: what the fast lane can answer)
_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
INTERNAL = "INTERNAL_SERVER_ERROR"


@dataclass
class Observed:
    """What the answerers found out about a request, for ``Observe`` to record."""

    known: bool = False  # an operation was found (the document parsed, or one was named)
    operation: str | None = None  # its name (None: anonymous)
    cost: int | None = None
    path: str | None = None  # COMPILED, RESOLVER or CACHED, once it was answered
    clean: bool = False  # the answerer knows its answer holds no errors
    database: str | None = None  # the database its statements ran on, if any ran
    page: bool = False  # it was answered with GraphiQL's page (``page_served``)


_names: LRUCache[str, str | None] = LRUCache(REMEMBERED_NAMES)


def operation_name(key: str) -> tuple[bool, str | None]:
    """(whether it is known, the operation name) of the request with this key."""
    try:
        return True, _names[key]
    except KeyError:
        return False, None


class Observe:
    """Records every GraphQL request at ``path`` in the metrics.

    Usage: ``Middleware(Observe, path="/graphql")``, inside ``web.middleware.RequestId`` (it
    reads the answer's status where that notes it) and outside everything that may answer."""

    def __init__(self, app: ASGIApp, *, path: str) -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)  # OPTIONS: a browser's CORS preflight
            return
        started = time.perf_counter()
        observed = scope[OBSERVED] = Observed()
        chunks: list[bytes] = []

        async def send_and_keep(message: Message) -> None:
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_and_keep)
        finally:
            if not observed.page:  # GraphiQL's page is not a GraphQL request
                status = scope.get(STATUS, 500)  # 500 unless the app answered
                body = b"" if observed.clean else b"".join(chunks)
                outcome, code = _outcome(status, body if b'"errors"' in body else b"")
                seconds = time.perf_counter() - started
                _record(observed, outcome, code, seconds)


def answered_by_lane(
    scope: Scope, key: str, path: str, cost: int | None = None, *, clean: bool = False
) -> None:
    """Note that the fast lane answered the request with this key, by ``path``; ``clean``:
    with an answer it knows holds no errors."""
    observed = _observed(scope)
    if observed is not None:
        known, name = operation_name(key)
        # forgotten since: named only as far as the labels go
        observed.known, observed.operation = True, name if known else metrics.OTHER
        observed.path, observed.cost, observed.clean = path, cost, clean


def page_served(scope: Scope) -> None:
    """Note that the request was answered with GraphiQL's page: not counted."""
    observed = _observed(scope)
    if observed is not None:
        observed.page = True


def database_used(scope: Scope, name: str) -> None:
    """Note that the request's statements ran on database ``name`` (``primary``,
    ``replica-1`` …); counted with the rest of the request."""
    observed = _observed(scope)
    if observed is not None:
        observed.database = name


def _observed(scope: Scope) -> Observed | None:
    """The request's Observed (None: ``Observe`` is not serving it, metrics off)."""
    observed = scope.get(OBSERVED)
    return observed if isinstance(observed, Observed) else None


def _record(observed: Observed, outcome: str, code: str | None, seconds: float) -> None:
    operation = metrics.operation_label(observed.operation, known=observed.known)
    metrics.request_answered(
        operation, outcome, code, seconds, observed.path, observed.cost, observed.database
    )


def _outcome(status: int, body: bytes) -> tuple[str, str | None]:
    """(``ok``, ``partial`` or ``error``, the first error's code) of an answer; ``body``: the
    answer if it may hold errors, else empty."""
    if not body:
        return ("error", INTERNAL) if status >= 500 else ("ok", None)
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        return ("error", INTERNAL) if status >= 400 else ("ok", None)
    found = answer.get("errors") if isinstance(answer, dict) else None
    if not isinstance(found, list) or not found:
        return ("error", INTERNAL) if status >= 500 else ("ok", None)
    first = found[0] if isinstance(found[0], dict) else {}
    extensions = first.get("extensions")
    code = extensions.get("code") if isinstance(extensions, dict) else None
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        code = INTERNAL
    return ("partial" if answer.get("data") is not None else "error"), code


class Observation(SchemaExtension):
    """Notes the operation's name and cost, and the path that answered it, on the request's
    ``Observed`` (if the request is observed), and remembers the name by request key.

    Usage: in the served schema's ``serving`` extensions, after the caches' (``web.caching``)
    and so right before ``CompiledExecution``: whatever answered before it (a refusal, an
    entity tag's ``304``) has answered when it starts; the compiled plan or the resolvers,
    when it ends."""

    def on_operation(self) -> Iterator[None]:
        yield
        self._note()

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        answered = execution.result is not None
        observed = self._note()  # before: execution may be stopped at the deadline
        yield
        context = execution.context
        if observed is None or not isinstance(context, Context):
            return
        if not answered:
            observed.path = COMPILED if context.plan is not None else RESOLVER
        elif context.response is not None and context.response.status_code == 304:
            observed.path = CACHED

    def _note(self) -> Observed | None:
        execution = self.execution_context
        context = execution.context
        if not isinstance(context, Context) or context.request is None:
            return None
        known = execution.graphql_document is not None
        name = execution.operation_name
        scope = context.request.scope
        key = scope.get(REQUEST_KEY)
        if known and isinstance(key, str):
            _names[key] = name
        observed = _observed(scope)
        if observed is None:
            return None
        observed.known = known or name is not None
        observed.operation = name
        observed.cost = context.cost
        return observed
