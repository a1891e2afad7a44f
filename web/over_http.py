"""GraphQL over HTTP (https://graphql.github.io/graphql-over-http/draft/) at /graphql: media
type negotiation, status codes, and the GET rules, for every answer whatever made it.

An ASGI middleware outside the fast lane (``web.fast_lane``), the response cache and
Strawberry, so the answers of all of them go through it alike:

- **Media type**: ``Accept`` chooses ``application/graphql-response+json`` or
  ``application/json`` (the default, for a missing ``Accept``, ``*/*`` or anything else), and
  the answer's ``Content-Type`` says which. Caches are told the answer varies by ``Accept``,
  and the two media types have distinct entity tags (``+gr`` ends those of the new one).
- **Status**: with ``application/json`` a GraphQL error answers 200 (what its clients expect). With
  ``application/graphql-response+json`` a *request error* — one raised before execution
  (parsing, validation, variable coercion, an operation limit, no single operation to run) —
  answers 400 and has no ``data`` entry; an answer with ``data`` answers 200. Transport
  refusals keep their status (405, 413, 415 …).
- **Methods**: GET runs queries only: a GET whose operation is a mutation answers 405 with
  ``Allow: POST`` (``METHOD_NOT_ALLOWED``); any method but GET and POST answers 405 with
  ``Allow: GET, POST``. A GET's ``variables`` and ``extensions`` must be JSON
  objects; otherwise 400 (``BAD_REQUEST``) saying which parameter is wrong and how. (With
  trusted documents on, ``web.persisted`` makes the mutation check, once the document is
  known trusted: nothing a client sends is parsed before that. It makes it too for a GET
  that names its document by hash.)
"""

from __future__ import annotations

import functools
import json
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from starlette.datastructures import QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gql import errors
from settings import Settings
from web import http_cache
from web.encoding import encode
from web.middleware import on_response_start

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
CONTENT_TYPES = {
    GRAPHQL_RESPONSE: b"application/graphql-response+json; charset=utf-8",
    JSON: b"application/json",
}
ETAG_SUFFIX = "+gr"  # ends the entity tags of application/graphql-response+json answers

# Codes of errors raised before execution starts: a response whose errors all carry one of
# them (and no path) and that has no data is a request error.
REQUEST_ERROR_CODES = frozenset(
    {
        errors.GRAPHQL_PARSE_FAILED,
        errors.GRAPHQL_VALIDATION_FAILED,
        errors.BAD_USER_INPUT,  # without a path: a variable's value
        errors.BAD_REQUEST,
        errors.TOO_MANY_TOKENS,
        errors.DOCUMENT_TOO_LARGE,
        errors.QUERY_TOO_DEEP,
        errors.TOO_MANY_ALIASES,
        errors.QUERY_TOO_COSTLY,
        errors.PAGE_SIZE_EXCEEDED,
        errors.INVALID_CURSOR,
        errors.INVALID_ID,
        errors.PERSISTED_QUERY_REQUIRED,
    }
)


@functools.lru_cache(maxsize=256)  # clients send the same few Accept headers over and over
def negotiate(accept: str | None) -> str:
    """The media type to answer with: ``application/graphql-response+json`` when ``Accept``
    prefers it to ``application/json`` (by quality, then by how exactly each is named, then
    by which comes first), else ``application/json``."""
    if not accept:
        return JSON
    ranges: list[tuple[str, float, int]] = []
    for index, part in enumerate(accept.split(",")):
        media, _, parameters = part.partition(";")
        quality = 1.0
        for parameter in parameters.split(";"):
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
        ranges.append((media.strip().lower(), quality, index))

    def preference(candidate: str) -> tuple[float, int, int] | None:
        """(quality, exactness, -position) of the most exact range that names ``candidate``."""
        matched = [
            (_exactness(media, candidate), quality, -index)
            for media, quality, index in ranges
            if _exactness(media, candidate) >= 0
        ]
        if not matched:
            return None
        exactness, quality, order = max(matched)
        return quality, exactness, order

    new, old = preference(GRAPHQL_RESPONSE), preference(JSON)
    if new is not None and new[0] > 0 and (old is None or old[0] <= 0 or new > old):
        return GRAPHQL_RESPONSE
    return JSON


def _exactness(media: str, candidate: str) -> int:
    """How exactly a media range names ``candidate``: 2 by name, 1 ``application/*``, 0
    ``*/*``, -1 not at all."""
    if media == candidate:
        return 2
    if media == "application/*":
        return 1
    return 0 if media == "*/*" else -1


@functools.lru_cache(maxsize=1024)
def _operation_type(query: str, name: str | None, max_tokens: int) -> OperationType | None:
    """The type of the operation a GET would run (None: the document does not parse or does
    not name one operation; the app says why)."""
    try:
        document = parse(query, no_location=True, max_tokens=max_tokens)
    except (GraphQLError, RecursionError):
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == name]
    return operations[0].operation if len(operations) == 1 else None


_JSON_KINDS = {list: "an array", str: "a string", bool: "a boolean"}


def _refusal(status: int, code: str, message: str) -> tuple[int, bytes]:
    return status, encode({"errors": [{"message": message, "extensions": {"code": code}}]})


_OTHER_METHOD = _refusal(
    405, errors.METHOD_NOT_ALLOWED, "GraphQL is served over GET (queries only) and POST."
)


def _get_problem(scope: Scope, settings: Settings) -> tuple[int, bytes] | None:
    """What is wrong with a GET request's parameters, as a status and a body (None: nothing
    this layer checks)."""
    parameters = QueryParams(scope.get("query_string", b"").decode("latin-1"))
    query = parameters.get("query")
    if not query:
        return None  # GraphiQL for a browser, else the app's "no query" error
    for name in ("variables", "extensions"):
        raw = parameters.get(name)
        if not raw:
            continue
        try:
            value = json.loads(raw)
        except ValueError as error:
            return _refusal(
                400, errors.BAD_REQUEST, f"The `{name}` parameter is not JSON: {error}."
            )
        except RecursionError:
            return _refusal(400, errors.BAD_REQUEST, f"The `{name}` parameter nests too deep.")
        if value is not None and not isinstance(value, dict):
            kind = _JSON_KINDS.get(type(value), "a number")
            return _refusal(
                400,
                errors.BAD_REQUEST,
                f"The `{name}` parameter must be a JSON object (or null), not {kind}.",
            )
    if settings.trusted_documents:
        return None  # nothing is parsed before it is known trusted: web.persisted checks it
    return method_problem(query, parameters.get("operationName"), settings)


def method_problem(query: str, name: str | None, settings: Settings) -> tuple[int, bytes] | None:
    """A 405 (as a status and a body) if the operation a GET would run is not a query (None:
    it is one, or the app will say why it runs nothing). ``web.persisted`` asks it too, for
    the documents a GET names by hash and, with trusted documents on, once trusted."""
    if len(query.encode("utf-8", "surrogatepass")) > settings.max_document_bytes:
        return None  # the app refuses it (DOCUMENT_TOO_LARGE) before parsing
    operation = _operation_type(query, name, settings.max_tokens)
    if operation is not None and operation != OperationType.QUERY:
        return _refusal(
            405,
            errors.METHOD_NOT_ALLOWED,
            f"A {operation.value} cannot be sent with GET, which runs queries only: "
            "send it with POST.",
        )
    return None


async def send_refusal(send: Send, status: int, body: bytes, *headers: tuple[bytes, bytes]) -> None:
    """Answer a refusal made by ``method_problem`` (a 405 says ``Allow: POST``)."""
    extra = [(b"allow", b"POST")] if status == 405 else []
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", CONTENT_TYPES[JSON]),
                (b"content-length", str(len(body)).encode("latin-1")),
                *extra,
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _request_error(status: int, body: bytes) -> tuple[int, bytes]:
    """For ``application/graphql-response+json``: a request error answers 400 without
    ``data``; anything else keeps its status and body."""
    # Strawberry writes `data` first, and refusals start with `errors`: an answer with data,
    # however it spells "errors" inside, is not parsed again.
    if status != 200 or not body.startswith((b'{"data":null,"errors"', b'{"errors"')):
        return status, body
    try:
        result = json.loads(body)
    except ValueError:
        return status, body
    if not isinstance(result, dict) or result.get("data") is not None:
        return status, body
    found = result.get("errors")
    if not isinstance(found, list) or not found:
        return status, body
    for error in found:
        code = error.get("extensions", {}).get("code") if isinstance(error, dict) else None
        if code not in REQUEST_ERROR_CODES or "path" in error:
            return status, body
    result.pop("data", None)
    return 400, encode(result)


def _with_suffix(tag: bytes) -> bytes:
    return tag[:-1] + ETAG_SUFFIX.encode() + b'"' if tag.endswith(b'"') else tag


def _without_suffix(if_none_match: bytes) -> bytes | None:
    """``If-None-Match`` of a graphql-response+json request as the app tags: the tags of this
    media type without their suffix (tags of the other media type name another answer)."""
    kept = []
    for candidate in if_none_match.decode("latin-1").split(","):
        candidate = candidate.strip()
        if candidate == "*":
            kept.append(candidate)
        elif candidate.endswith(ETAG_SUFFIX + '"'):
            kept.append(candidate[: -len(ETAG_SUFFIX) - 1] + '"')
    return ", ".join(kept).encode("latin-1") if kept else None


class GraphQLOverHTTP:
    def __init__(self, app: ASGIApp, *, path: str, settings: Settings) -> None:
        self.app = app
        self.path = path
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        accept = None
        for name, value in scope["headers"]:
            if name == b"accept":
                accept = value.decode("latin-1")
        media = negotiate(accept)
        problem, allow = None, b"POST"
        if scope["method"] == "GET":
            problem = _get_problem(scope, self.settings)
        elif scope["method"] != "POST":
            problem, allow = _OTHER_METHOD, b"GET, POST"
        if problem is not None:
            status, body = problem
            headers = [
                (b"content-type", CONTENT_TYPES[JSON]),
                (b"content-length", str(len(body)).encode("latin-1")),
            ]
            if status == 405:
                headers.append((b"allow", allow))
            respond = self._respond(send, media)
            await respond({"type": "http.response.start", "status": status, "headers": headers})
            await respond({"type": "http.response.body", "body": body})
            return
        if media == GRAPHQL_RESPONSE:  # its answer's status and type set here, at the end
            _tags_as_the_app_knows_them(scope)
            await self.app(scope, receive, self._respond(send, media))
            return
        on_response_start(scope, _vary_by_accept)  # not a layer of sends for one header
        await self.app(scope, receive, send)

    def _respond(self, send: Send, media: str) -> Send:
        held: dict[str, Any] = {}

        async def respond(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                http_cache.vary(headers, b"Accept")
                if media == GRAPHQL_RESPONSE:
                    headers = [(k, _with_suffix(v) if k == b"etag" else v) for k, v in headers]
                    if any(k == b"content-type" and _is_json(v) for k, v in headers):
                        held["start"] = {**message, "headers": headers}  # the status may
                        held["body"] = b""  # depend on the body: held until it is complete
                        return
                await send({**message, "headers": headers})
                return
            if message["type"] == "http.response.body" and "start" in held:
                held["body"] += message.get("body", b"")
                if message.get("more_body", False):
                    return
                start = held.pop("start")
                status, body = _request_error(int(start["status"]), held.pop("body"))
                headers = [
                    (k, v)
                    for k, v in start["headers"]
                    if k not in (b"content-type", b"content-length")
                ]
                headers += [
                    (b"content-type", CONTENT_TYPES[GRAPHQL_RESPONSE]),
                    (b"content-length", str(len(body)).encode("latin-1")),
                ]
                await send({**start, "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        return respond


def _is_json(content_type: bytes) -> bool:
    return content_type.split(b";")[0].strip().lower() == b"application/json"


def _vary_by_accept(_scope: Scope, headers: list[tuple[bytes, bytes]]) -> None:
    """Answers differ by ``Accept`` (their media type): caches must know."""
    http_cache.vary(headers, b"Accept")


def _tags_as_the_app_knows_them(scope: Scope) -> None:
    """Rewrite the request's ``If-None-Match`` by ``_without_suffix``. In the scope itself,
    not a copy: what the layers inside put in it (``web.middleware.on_response_start``'s
    hooks, the database that answered) is read by those outside."""
    headers = []
    changed = False
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            changed = True
            value = _without_suffix(value)
            if value is None:
                continue
        headers.append((name, value))
    if changed:
        scope["headers"] = headers
