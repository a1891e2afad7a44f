"""The app under test, reached over HTTP in-process: the one place tests build it.

    async with app_client(Settings(database_url=url, graphiql=False), sessions=sessions) as c:
        await c.get("/graphql")

``app_client`` takes the settings (and the engine or sessions to run on) or an app already
built with ``make_app`` when the test looks inside it (its state, its lifespan). Fixtures that
hold a client across an anyio portal open and close it themselves: ``asgi_client``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from settings import Settings
from web.app import create_app

BASE_URL = "http://nkcinema.test"


def make_app(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    sessions: async_sessionmaker[AsyncSession] | None = None,
) -> Starlette:
    """The app as ``nkcinema serve`` builds it: its own engine from the settings unless given
    an engine, or sessions (the test's transaction)."""
    return create_app(settings, engine=engine, sessions=sessions)


def asgi_client(
    app: Starlette, *, raise_app_exceptions: bool = True, **client_options: Any
) -> httpx.AsyncClient:
    """A client to ``app`` in-process, not yet opened. ``raise_app_exceptions=False`` turns an
    exception escaping the app into the 500 a server would send."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
    return httpx.AsyncClient(transport=transport, base_url=BASE_URL, **client_options)


@asynccontextmanager
async def app_client(
    app: Settings | Starlette,
    *,
    engine: AsyncEngine | None = None,
    sessions: async_sessionmaker[AsyncSession] | None = None,
    lifespan: bool = False,
) -> AsyncIterator[httpx.AsyncClient]:
    """An open client to the app built from these settings (or to this app). ``lifespan``
    runs the app's startup and shutdown around it, which dispose the engines the app made."""
    if isinstance(app, Settings):
        app = make_app(app, engine=engine, sessions=sessions)
    elif engine is not None or sessions is not None:
        raise TypeError("an app already built has its engine and sessions")
    async with AsyncExitStack() as stack:
        if lifespan:
            await stack.enter_async_context(app.router.lifespan_context(app))
        yield await stack.enter_async_context(asgi_client(app))
