"""The ASGI application: GraphQL (and GraphiQL) at /graphql, /healthz and /readyz.

``create_app()`` reads the settings from the environment (uvicorn calls it as a factory);
tests pass their own settings and session factory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL

from db.engine import engine_from_settings, session_factory
from gql.context import Context
from gql.schema import schema
from settings import Settings, load_settings

logger = logging.getLogger("nkcinema")

READINESS_TIMEOUT_SECONDS = 2.0
_SESSION_KEY = "nkcinema.session"


class CatalogGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with one database session per request, closed after it."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=True,
        )
        self.sessions = sessions
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # no subscriptions: nothing to serve over websockets
            await Response(status_code=404)(scope, receive, send)
            return
        async with self.sessions() as session:
            scope[_SESSION_KEY] = session
            await super().__call__(scope, receive, send)

    async def get_context(self, request: Any, response: Any) -> Context:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        request_id = "".join(c for c in request_id if c.isalnum() or c in "-_")[:64] or "-"
        response.headers["X-Request-ID"] = request_id
        return Context(
            request=request,
            response=response,
            session=request.scope[_SESSION_KEY],
            settings=self.settings,
            request_id=request_id,
        )


def create_app(
    settings: Settings | None = None,
    *,
    engine: AsyncEngine | None = None,
    sessions: async_sessionmaker[AsyncSession] | None = None,
) -> Starlette:
    settings = settings or load_settings()
    owned_engine = None
    if sessions is None:
        if engine is None:
            engine = owned_engine = engine_from_settings(settings)
        sessions = session_factory(engine)

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> Response:
        try:
            async with asyncio.timeout(READINESS_TIMEOUT_SECONDS), sessions() as session:
                await session.execute(text("SELECT 1"))
        except Exception as error:  # any failure means "not ready"; the reason goes to the log
            logger.warning("readiness check failed: %r", error)
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ready"})

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        if owned_engine is not None:
            await owned_engine.dispose()

    graphql = CatalogGraphQL(sessions, settings)
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
