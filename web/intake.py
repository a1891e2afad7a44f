"""A request's intake at /graphql, done once in front of everything that reads the request
(the fast lane, the response cache, Strawberry):

- **Body admission**: a POST must be ``application/json`` (so that a browser cannot send one
  cross-site without a CORS preflight: no form, multipart or text/plain posts) and at most
  ``max_body_bytes`` long; else 415 or 413, as GraphQL errors with a code. The body is read
  here, within the limit, kept in the scope (``BODY``) and replayed to the app.
- **The request key** (``web.response_cache.request_key``: a digest of the document, the
  variables and the operation name) of a GET or a well-formed JSON POST, in the scope
  (``REQUEST_KEY``; absent: not a single operation). Clients repeat their bodies byte for
  byte: the key of a short body is remembered per exact body. With persisted queries on
  (``web.persisted``), a request that names its document by hash alone has a key made of the
  hash (``web.response_cache.hash_only``), so that the fast lane answers it like any other,
  and one that sends a document *with* its hash has none: it registers the document, or has
  it checked, on the full path.

Usage: ``Middleware(Intake, path="/graphql", settings=settings)``.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from cachetools import LRUCache
from starlette.datastructures import QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gql import errors
from settings import Settings
from web.encoding import error_response
from web.response_cache import hash_only, is_well_formed, request_key

BODY = "nkcinema.body"  # scope key: the body of an admitted POST
REQUEST_KEY = "nkcinema.request_key"  # scope key: the request key, if the request has one
REMEMBERED_BODIES = 1000  # bodies whose request key is remembered…
REMEMBERED_BODY_BYTES = 4096  # …if at most this long
PERSISTED_QUERY = b"persistedQuery"  # the extension of persisted queries (web.persisted)


class Intake:
    def __init__(self, app: ASGIApp, *, path: str, settings: Settings) -> None:
        self.app = app
        self.path = path
        self.limit = settings.max_body_bytes
        self.persisted = settings.persisted_queries or settings.trusted_documents
        self._keys: LRUCache[bytes, str] = LRUCache(REMEMBERED_BODIES)  # body -> request key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method == "GET":
            key = _get_key(scope, self.persisted)
            if key is not None:
                scope[REQUEST_KEY] = key
        elif method == "POST":
            media_type, declared = b"", b""
            for name, value in scope["headers"]:
                if name == b"content-type":
                    media_type = value.split(b";", 1)[0].strip().lower()
                elif name == b"content-length":
                    declared = value
            if media_type != b"application/json":
                refusal = error_response(
                    415,
                    errors.UNSUPPORTED_MEDIA_TYPE,
                    "POST requests must have Content-Type: application/json.",
                )
                await refusal(scope, receive, send)
                return
            if declared.isdigit() and int(declared) > self.limit:
                await self._too_large(scope, receive, send)
                return
            body = await _read(receive, self.limit)
            if body is None:
                await self._too_large(scope, receive, send)
                return
            scope[BODY] = body
            key = self._key(body)
            if key is not None:
                scope[REQUEST_KEY] = key
            receive = replaying(body, receive)
        await self.app(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limit
        message = f"The request body is over {limit} bytes."
        refusal = error_response(413, errors.REQUEST_TOO_LARGE, message, limit=limit)
        await refusal(scope, receive, send)

    def _key(self, body: bytes) -> str | None:
        """The request key of a POST body, remembered per exact body for the short ones."""
        try:
            return self._keys[body]
        except KeyError:
            pass
        parameters = decoded(body)
        if not is_well_formed(parameters):
            named = self.persisted and isinstance(parameters, dict)
            sha256 = hash_only(parameters) if named else None
            if sha256 is None:
                return None
            key = request_key(parameters, persisted=sha256)
        elif self.persisted and _names_persisted(parameters.get("extensions")):
            return None  # web.persisted registers or checks it on the full path
        else:
            key = request_key(parameters)
        if len(body) <= REMEMBERED_BODY_BYTES:
            self._keys[body] = key
        return key


def decoded(body: bytes) -> Any:
    """The decoded body (orjson; the standard library for what orjson refuses, such as
    integers beyond 64 bits), or None."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            return None


def _get_key(scope: Scope, persisted: bool) -> str | None:
    query_string = scope.get("query_string", b"")
    parameters = dict(QueryParams(query_string.decode("latin-1")))
    named = persisted and PERSISTED_QUERY in query_string  # a cheap look first
    if not isinstance(parameters.get("query"), str):
        sha256 = hash_only(parameters) if named else None
        return None if sha256 is None else request_key(parameters, persisted=sha256)
    if named:
        try:
            extensions = json.loads(parameters.get("extensions") or "null")
        except (ValueError, RecursionError):
            return None  # web.over_http refuses it
        if _names_persisted(extensions):
            return None  # web.persisted registers or checks it on the full path
    return request_key(parameters)


def _names_persisted(extensions: Any) -> bool:
    return isinstance(extensions, dict) and "persistedQuery" in extensions


async def _read(receive: Receive, limit: int) -> bytes | None:
    """The body, read within ``limit`` bytes (None: it is longer). A client that went away
    leaves the body it sent (the answer will go nowhere)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


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
