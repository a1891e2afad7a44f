"""The GraphQL view: Strawberry's ASGI app over the served schema (``gql.schema`` with the
database choice of ``web.routing`` and the caching extensions of ``web.caching``), one
database session per request (on its route's database), closed after it.

Around Strawberry it gives transport refusals as GraphQL errors with a code, keeps the
answers ``web.caching`` marked cacheable in the response cache, tags GET answers for HTTP
caches (``304`` when the client's copy is current) and serves our GraphiQL page.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from cross_web import HTTPException
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.extensions import SchemaExtension
from strawberry.http import GraphQLHTTPResponse

from db.replicas import ReplicaSet, Route
from gql import errors
from gql.context import Context
from gql.schema import CatalogSchema, catalog_schema
from settings import Settings
from web import http_cache
from web.caching import CACHEABLE, STORES, Stores, serving
from web.deadline import close_database
from web.encoding import encode, error_response
from web.graphiql import load_examples, render_page
from web.middleware import REQUEST_ID
from web.observing import Observation, database_used, page_served
from web.persisted import Admitted
from web.prepared import PreparedRequests
from web.response_cache import CATALOG_VERSION, ResponseCache
from web.routing import ROUTE, DatabaseChoice

_schemas: dict[tuple[bool, type[SchemaExtension] | None, bool, bool], CatalogSchema] = {}


def served_schema(
    observed: bool = True,
    tracing: type[SchemaExtension] | None = None,
    *,
    compiled: bool = True,
    keeps: bool = True,
) -> CatalogSchema:
    """What the view serves: the schema with its database choice (``web.routing``) and caches,
    registering persisted documents once their operation is admitted (``web.persisted``),
    noting each operation for the metrics and the fast lane's spans (``observed``:
    ``web.observing``), and within its trace span (``tracing``). ``compiled``: the compiled
    path may answer (``settings.compiled``); ``keeps``: there is a response cache or a store
    of prepared requests to keep answers into (``web.caching.serving``). Built once per
    combination (a schema takes a while to build)."""
    key = (observed, tracing, compiled, keeps)
    if key not in _schemas:
        chosen: tuple[type[SchemaExtension], ...] = (DatabaseChoice, Admitted, *serving(keeps))
        _schemas[key] = catalog_schema(
            serving=(*chosen, Observation) if observed else chosen,
            outermost=(tracing,) if tracing is not None else (),
            compiled=compiled,
        )
    return _schemas[key]


_DATABASE = "nkcinema.database"  # scope key: the request's RequestDatabase

TRANSPORT_CODES = {
    400: errors.BAD_REQUEST,
    404: errors.NOT_FOUND,
    405: errors.METHOD_NOT_ALLOWED,
    413: errors.REQUEST_TOO_LARGE,
    415: errors.UNSUPPORTED_MEDIA_TYPE,
}


class CatalogGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with one database session per request, closed after it."""

    def __init__(
        self,
        replicas: ReplicaSet,
        settings: Settings,
        *,
        graphql_path: str,
        graphiql_assets: str,
        examples: Path,
        tracing: type[SchemaExtension] | None = None,
    ) -> None:
        """``tracing``: the operations' span extension, while tracing is on."""
        self.responses = ResponseCache(
            settings.response_cache_entries, settings.response_cache_bytes
        )
        self.prepared = PreparedRequests(settings.prepared_requests if settings.compiled else 0)
        self.stores = Stores(self.responses, self.prepared)
        super().__init__(
            served_schema(
                settings.metrics or tracing is not None,
                tracing,
                compiled=settings.compiled,
                keeps=self.responses.enabled or self.prepared.enabled,
            ),
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=True,
        )
        self.replicas = replicas  # the request's database: its route's (web.routing)
        self.settings = settings
        self.graphql_path = graphql_path
        self.graphiql_assets = graphiql_assets
        self.examples = examples

    def encode_json(self, data: object) -> bytes:
        return encode(data)  # as the fast lane, so both paths give the same bytes

    async def render_graphql_ide(self, request: Request) -> Response:
        """Our GraphiQL page (assets served by this app, example tabs) in place of
        Strawberry's, which loads its scripts from a CDN."""
        page_served(request.scope)
        page = render_page(
            load_examples(self.examples / "operations"),
            endpoint=self.graphql_path,
            assets=self.graphiql_assets,
        )
        return HTMLResponse(page, headers={"Cache-Control": "no-cache"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # no subscriptions: nothing to serve over websockets
            await Response(status_code=404)(scope, receive, send)
            return
        scope[STORES] = self.stores
        route = scope.get(ROUTE)
        if not isinstance(route, Route):
            route = scope[ROUTE] = self.replicas.route(primary=True)
        database = scope[_DATABASE] = route.request_database()
        try:
            await super().__call__(scope, receive, self._keep_answer(scope, _json_refusals(send)))
        finally:
            if database.session.in_transaction():  # a statement ran
                database_used(scope, route.name)
            await close_database(database, scope)

    def _keep_answer(self, scope: Scope, send: Send) -> Send:
        """Keep the answer to a query web.caching marked cacheable, if it has no errors."""
        if not self.responses.enabled:
            return send
        status, chunks = 0, []

        async def keep(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                marked = scope.get(CACHEABLE)
                if not message.get("more_body", False) and status == 200 and marked:
                    answer = b"".join(chunks)
                    if b'"errors"' not in answer:
                        key, version = marked
                        self.responses.put(key, version, answer)
            await send(message)

        return keep

    async def get_sub_response(self, request: Request) -> Response:  # type: ignore[override]
        response = await super().get_sub_response(request)
        if request.method == "GET":  # web.caching tags cacheable answers
            response.headers["Cache-Control"] = http_cache.UNCACHEABLE
        return response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        if sub_response.status_code == 304:  # web.caching: the client's copy is current
            not_modified = Response(status_code=304)
            for name in ("etag", "cache-control"):
                if name in sub_response.headers:
                    not_modified.headers[name] = sub_response.headers[name]
            return not_modified
        response = super().create_response(response_data, sub_response)
        if "etag" in response.headers and (
            not isinstance(response_data, dict) or response_data.get("errors")
        ):  # errors may be passing (a timeout, an outage): never cache them
            del response.headers["etag"]
            response.headers["Cache-Control"] = http_cache.UNCACHEABLE
        return response

    def parse_json(self, data: str | bytes) -> Any:
        """Only a JSON object (or a list, for batches) is a request; anything else is a 400."""
        try:
            value = self.decode_json(data)
        except (ValueError, RecursionError) as error:  # bad JSON, bad UTF-8, absurd nesting
            raise HTTPException(400, "Unable to parse request body as JSON") from error
        if not isinstance(value, (dict, list)):
            raise HTTPException(400, "The request body must be a JSON object")
        if not _is_unicode(value):
            raise HTTPException(400, "The request holds text that is not valid Unicode")
        return value

    async def get_context(self, request: Any, response: Any) -> Context:
        scope = request.scope
        version = scope.get(CATALOG_VERSION)  # the fast lane may have read it
        return Context(
            request=request,
            response=response,
            database=scope[_DATABASE],
            settings=self.settings,
            request_id=scope.get(REQUEST_ID) or uuid.uuid4().hex,
            catalog_version=version if isinstance(version, int) else None,
        )


def _is_unicode(value: Any) -> bool:
    """Whether every string in a decoded JSON value is encodable text: JSON can spell lone
    UTF-16 surrogates (``"\\ud800"``), which no database accepts and UTF-8 cannot encode."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def _json_refusals(send: Send) -> Send:
    """Strawberry answers transport-level refusals (a body that is not JSON, a mutation over
    GET …) in plain text; clients get them as GraphQL errors with a code, like the rest."""
    held: dict[str, Any] = {}

    async def send_json(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = Headers(raw=message.get("headers", []))
            status = int(message["status"])
            if 400 <= status < 500 and headers.get("content-type", "").startswith("text/plain"):
                held["start"] = message
                return
        elif message["type"] == "http.response.body" and "start" in held:
            held["body"] = held.get("body", b"") + message.get("body", b"")
            if message.get("more_body", False):
                return
            start = held.pop("start")
            status = int(start["status"])
            reason = held.pop("body").decode("utf-8", "replace")
            code = TRANSPORT_CODES.get(status, errors.BAD_REQUEST)
            response = error_response(status, code, reason)
            await send({**start, "headers": response.raw_headers})
            await send({"type": "http.response.body", "body": response.body})
            return
        await send(message)

    return send_json
