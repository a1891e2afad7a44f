"""Persisted queries and trusted documents at /graphql: documents named by the SHA-256 of
their text (``extensions.persistedQuery = {version: 1, sha256Hash}``, the Automatic
Persisted Queries protocol of Apollo Client, urql and Relay), kept in the database
(``db.persisted_documents``) so that every app instance knows them.

- **A hash alone** (POST, or GET with the ``extensions`` parameter): the request runs the
  document stored under it, as if it had sent it: the request is rewritten here with the
  document, so everything after (GraphQL over HTTP's mutation check for a GET, the limits,
  entity tags, the caches) treats it as a full request. Its request key is made of the hash
  (``web.intake``): the fast lane and the response cache answer it like any other, and a GET
  carries ``ETag`` and ``Cache-Control`` (``304`` to ``If-None-Match``). An unknown hash
  answers ``PERSISTED_QUERY_NOT_FOUND`` (HTTP 200, message ``PersistedQueryNotFound``: what
  the clients look for before sending the document).
- **A hash with its document**: the hash must be the document's SHA-256
  (``PERSISTED_QUERY_HASH_MISMATCH``, HTTP 400). An unknown document is *registered* once the
  operation is admitted — parsed, validated and within every limit (``Admitted``) — before its
  answer goes out, so only documents that passed the limits are stored; the registered ones
  are bounded in number and bytes (``NKCINEMA_PERSISTED_QUERY_LIMIT``/``_BYTES``; past them
  the request runs and its document is not stored).
- **Trusted documents** (``NKCINEMA_TRUSTED_DOCUMENTS``): only documents the operator trusted
  (``nkcinema documents add``) run, sent in full or by hash; anything else answers
  ``PERSISTED_QUERY_REQUIRED`` here, before anything parses it, and nothing is registered.
- ``NKCINEMA_PERSISTED_QUERIES=false`` (and trusted documents off): a hash alone answers
  ``PERSISTED_QUERY_NOT_SUPPORTED`` (the clients then send documents in full); a hash with its
  document runs the document.

Documents found are kept per process (an LRU bounded by bytes). Every refusal here carries
``Cache-Control: no-store``: a CDN must not keep a "not found" for a URL that will work once
the document is registered.

Usage: ``Middleware(PersistedQueries, path="/graphql", settings=..., sessions=...)``, inside
``web.fast_lane.FastLane``; the served schema runs ``Admitted`` among its serving extensions.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from cachetools import LRUCache
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from db.persisted_documents import (
    Known,
    document_hash,
    find_document,
    is_hash,
    register_document,
)
from gql import errors
from gql.admission import RETRY_AFTER_SECONDS
from settings import Settings
from web.encoding import encode
from web.intake import BODY, PERSISTED_QUERY, decoded
from web.over_http import method_problem, send_refusal

logger = logging.getLogger("nkcinema.persisted")

REGISTRATION = "nkcinema.registration"  # scope key: a document to register once admitted
KEPT_BYTES = 8 * 1024 * 1024  # documents kept per process, by their length
NO_STORE = (b"cache-control", b"no-store")


@dataclass
class Registration:
    sha256: str
    document: str
    admitted: bool = False  # set by Admitted: the operation passed every limit


class Admitted(SchemaExtension):
    """Marks the request's pending registration admitted: it runs where the serving
    extensions run, once the operation is parsed, validated and within every limit."""

    def on_execute(self) -> Iterator[None]:
        request = getattr(self.execution_context.context, "request", None)
        if request is not None:
            registration = request.scope.get(REGISTRATION)
            if isinstance(registration, Registration):
                registration.admitted = True
        yield


def _refusal(status: int, code: str, message: str) -> tuple[int, bytes]:
    return status, encode({"errors": [{"message": message, "extensions": {"code": code}}]})


NOT_FOUND = _refusal(200, errors.PERSISTED_QUERY_NOT_FOUND, "PersistedQueryNotFound")
NOT_SUPPORTED = _refusal(200, errors.PERSISTED_QUERY_NOT_SUPPORTED, "PersistedQueryNotSupported")
MISMATCH = _refusal(
    400,
    errors.PERSISTED_QUERY_HASH_MISMATCH,
    "extensions.persistedQuery.sha256Hash is not the SHA-256 of the query (its UTF-8 text, "
    "in hexadecimal).",
)
REQUIRED = _refusal(
    200,
    errors.PERSISTED_QUERY_REQUIRED,
    "This service runs only its trusted documents, and this is not one of them.",
)
UNAVAILABLE = _refusal(
    503, errors.SERVICE_UNAVAILABLE, "The catalog is unavailable; retry shortly."
)


def _bad_request(message: str) -> tuple[int, bytes]:
    return _refusal(400, errors.BAD_REQUEST, message)


@dataclass
class _Request:
    """What a request to /graphql says, as far as this layer reads it."""

    parameters: dict[str, Any]  # the decoded POST body, or the GET parameters
    query: Any
    extensions: Any


class _Refused(Exception):
    def __init__(self, answer: tuple[int, bytes]) -> None:
        self.answer = answer


class PersistedQueries:
    def __init__(
        self,
        app: ASGIApp,
        *,
        path: str,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
    ) -> None:
        self.app = app
        self.path = path
        self.settings = settings
        self.sessions = sessions
        self.trusted_only = settings.trusted_documents
        self.lookups = settings.persisted_queries or settings.trusted_documents
        self._known: LRUCache[str, Known] = LRUCache(
            KEPT_BYTES, getsizeof=lambda known: len(known.document) + 100
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        registration = None
        try:
            request = self._read(scope)
            if request is not None:  # else not ours to look at: the app answers it
                registration, receive = await self._settle(scope, receive, request)
        except _Refused as refused:
            status, body = refused.answer
            headers = [NO_STORE]
            if status == 503:
                headers.append((b"retry-after", str(RETRY_AFTER_SECONDS).encode("latin-1")))
            await send_refusal(send, status, body, *headers)
            return
        if registration is not None:
            send = self._registering(registration, send)
        await self.app(scope, receive, send)

    def _read(self, scope: Scope) -> _Request | None:
        """The request's query and extensions, if this layer has anything to do with it."""
        method = scope["method"]
        if method == "GET":
            query_string: bytes = scope.get("query_string", b"")
            if not self.trusted_only and PERSISTED_QUERY not in query_string:
                return None
            parameters: dict[str, Any] = dict(QueryParams(query_string.decode("latin-1")))
            raw = parameters.get("extensions")
            extensions = None
            if raw:
                extensions = decoded(raw.encode("utf-8", "surrogatepass"))
                if not isinstance(extensions, dict):
                    raise _Refused(
                        _bad_request("The `extensions` parameter must be a JSON object.")
                    )
            return _Request(parameters, parameters.get("query") or None, extensions)
        if method == "POST":
            body = scope.get(BODY)
            if not isinstance(body, bytes):
                return None
            if not self.trusted_only and PERSISTED_QUERY not in body:
                return None
            parameters = decoded(body)
            if not isinstance(parameters, dict):
                return None  # not a GraphQL request: the app says so
            return _Request(parameters, parameters.get("query"), parameters.get("extensions"))
        return None

    async def _settle(
        self, scope: Scope, receive: Receive, request: _Request
    ) -> tuple[Registration | None, Receive]:
        """Decide what the request runs: raises ``_Refused`` with the answer, or returns the
        registration to make once the operation is admitted (and the receive to read it
        with: a request by hash is rewritten with its document)."""
        query, extensions = request.query, request.extensions
        if not isinstance(extensions, (dict, type(None))) or not isinstance(
            query, (str, type(None))
        ):
            return None, receive  # not a GraphQL request: the app says so
        persisted = extensions.get("persistedQuery") if extensions is not None else None
        if persisted is None:
            if self.trusted_only and query:
                await self._require_trusted(document_hash(query))
                self._check_method(scope, request.parameters, query)
            return None, receive
        sha256 = self._hash(persisted)
        if not self.lookups:
            if query:
                return None, receive  # persisted queries off: the document runs as sent
            raise _Refused(NOT_SUPPORTED)
        if query:
            if document_hash(query) != sha256:
                raise _Refused(MISMATCH)
            if self.trusted_only:
                await self._require_trusted(sha256)
                self._check_method(scope, request.parameters, query)
                return None, receive
            if await self._find(sha256) is not None:
                return None, receive
            registration = Registration(sha256, query)
            scope[REGISTRATION] = registration
            return registration, receive
        known = await self._find(sha256)
        if known is None or (self.trusted_only and not known.trusted):
            raise _Refused(NOT_FOUND)
        self._check_method(scope, request.parameters, known.document)
        return None, _with_document(scope, receive, request.parameters, known.document)

    def _hash(self, persisted: Any) -> str:
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            raise _Refused(
                _bad_request(
                    "extensions.persistedQuery must be {version: 1, sha256Hash: …}: this "
                    "service speaks version 1 of persisted queries."
                )
            )
        sha256 = persisted.get("sha256Hash")
        sha256 = sha256.lower() if isinstance(sha256, str) else sha256
        if not is_hash(sha256):
            raise _Refused(
                _bad_request(
                    "extensions.persistedQuery.sha256Hash must be a SHA-256 in hexadecimal "
                    "(64 digits)."
                )
            )
        assert isinstance(sha256, str)
        return sha256

    def _check_method(self, scope: Scope, parameters: dict[str, Any], document: str) -> None:
        """A GET runs queries only (``web.over_http``, which has not seen this document)."""
        if scope["method"] != "GET":
            return
        name = parameters.get("operationName")
        problem = method_problem(document, name if isinstance(name, str) else None, self.settings)
        if problem is not None:
            raise _Refused(problem)

    async def _require_trusted(self, sha256: str) -> None:
        known = await self._find(sha256)
        if known is None or not known.trusted:
            raise _Refused(REQUIRED)

    async def _find(self, sha256: str) -> Known | None:
        """The document stored under ``sha256``: kept here, else read. With trusted
        documents on, a document kept as not trusted is read again (it may be trusted now)."""
        kept = self._known.get(sha256)
        if kept is not None and (kept.trusted or not self.trusted_only):
            return kept
        try:
            async with self.sessions() as session:
                found = await find_document(session, sha256)
        except Exception as error:  # the database is down or busy: retry later
            logger.warning("persisted queries: cannot read a document: %r", error)
            raise _Refused(UNAVAILABLE) from error
        if found is not None:
            self._known[sha256] = found
        return found

    def _registering(self, registration: Registration, send: Send) -> Send:
        """A send that stores the document, if its operation was admitted, before the answer
        starts: a client told "done" finds it registered from any instance."""
        pending = True

        async def send_after_registering(message: Message) -> None:
            nonlocal pending
            if pending and message["type"] == "http.response.start":
                pending = False
                if registration.admitted:
                    await self._register(registration)
            await send(message)

        return send_after_registering

    async def _register(self, registration: Registration) -> None:
        settings = self.settings
        try:
            async with self.sessions() as session:
                stored = await register_document(
                    session,
                    registration.sha256,
                    registration.document,
                    max_documents=settings.persisted_query_limit,
                    max_bytes=settings.persisted_query_bytes,
                )
        except Exception as error:  # the answer goes out all the same; the client retries
            logger.warning("persisted queries: cannot register a document: %r", error)
            return
        if stored:
            self._known[registration.sha256] = Known(registration.document, trusted=False)
        else:
            logger.warning(
                "persisted queries: not registered: the registered documents are at their "
                "bounds (NKCINEMA_PERSISTED_QUERY_LIMIT, NKCINEMA_PERSISTED_QUERY_BYTES)"
            )


def _with_document(
    scope: Scope, receive: Receive, parameters: dict[str, Any], document: str
) -> Receive:
    """The request rewritten (in its scope, which outer layers share) as if it had sent
    ``document`` as its ``query``; the receive that gives a POST's new body."""
    if scope["method"] == "GET":
        query_string: bytes = scope.get("query_string", b"")
        # Appended: the last `query` is the one read (there is none, or an empty one).
        added = b"query=" + quote(document, safe="").encode("ascii")
        scope["query_string"] = query_string + b"&" + added if query_string else added
        return receive
    body = encode({**parameters, "query": document})
    scope[BODY] = body
    replaced = False

    async def receive_document() -> Message:
        nonlocal replaced
        if replaced:
            return await receive()
        replaced = True
        await receive()  # the body as sent, which web.intake replays: read in its place
        return {"type": "http.request", "body": body, "more_body": False}

    return receive_document
