"""Fixtures: a migrated, seeded catalog on the backend under test (SQLite by default,
PostgreSQL when TEST_DATABASE_URL is set), a per-test transaction rolled back afterwards, and
the real ASGI app reached over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bench.replication import Replication, unavailable_reason
from cli import migrate
from db.engine import create_engine
from settings import Settings
from tests.support.client import app_client
from tests.support.databases import IN_CI, Databases, backend_name, migrate_and_seed
from tests.support.graphql import GraphQL
from tests.support.live import Server, serve
from tests.support.sql import StatementCounter


def pytest_report_header() -> str:
    return f"nkcinema backend under test: {backend_name()}"


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    dbs = Databases(tmp_path_factory.mktemp("databases"))
    reason = dbs.unavailable_reason()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"{reason} (CI must run the PostgreSQL tests)", pytrace=False)
        pytest.skip(reason)
    yield dbs
    dbs.drop_all()


@pytest.fixture(scope="session")
def replication() -> Iterator[Replication]:
    """A PostgreSQL primary of its own, migrated and seeded with the bundled catalog, and a
    streaming replica of it, caught up (bench/replication.py).

    Only in the PostgreSQL run of the suite: the servers come from PostgreSQL's binaries, not
    from TEST_DATABASE_URL, so the SQLite run would only repeat the same tests (it skips them,
    under CI too). Where the binaries are missing they skip, or fail under CI."""
    if backend_name() != "postgresql":
        pytest.skip(
            "read replicas are tested in the PostgreSQL run (TEST_DATABASE_URL set): the "
            "tests start a primary and a replica of their own, which this run would repeat"
        )
    reason = unavailable_reason()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"{reason} (CI must run the read-replica tests)", pytrace=False)
        pytest.skip(reason)
    with Replication.started() as pair:
        migrate_and_seed(pair.primary.url)
        asyncio.run(pair.caught_up())
        yield pair


@pytest.fixture
def empty_database(databases: Databases) -> str:
    """The URL of a new, empty database (no tables)."""
    return databases.create()


@pytest.fixture
def migrated_database(empty_database: str) -> str:
    migrate(empty_database)
    return empty_database


@pytest.fixture(scope="session")
def catalog_url(databases: Databases) -> str:
    """A database migrated to head and seeded with the bundled catalog (shared, read-mostly)."""
    return databases.create_seeded()


@pytest.fixture(scope="session")
def live_server(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``nkcinema serve`` on a free port over its own seeded catalog, with GraphiQL and the
    example frontend on: for end-to-end tests from outside the process (a browser, a client)."""
    with serve(
        databases.create_seeded(),
        tmp_path_factory.mktemp("live"),
        "live",
        NKCINEMA_GRAPHIQL="1",
        NKCINEMA_EXAMPLES="1",
    ) as server:
        yield server


@pytest.fixture(scope="session")
async def engine(catalog_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(catalog_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection inside a transaction that is rolled back after the test."""
    async with engine.connect() as conn:
        transaction = await conn.begin()
        yield conn
        if transaction.is_active:
            await transaction.rollback()


@pytest.fixture
def sessions(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    """Sessions joined to the test's transaction: their commits become savepoints."""
    return async_sessionmaker(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        autoflush=False,
    )


@pytest.fixture
async def session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessions() as s:
        yield s


@pytest.fixture
def settings(catalog_url: str) -> Settings:
    return Settings(database_url=catalog_url)


@pytest.fixture
async def client(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(settings, sessions=sessions) as c:
        yield c


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GraphQL:
    return GraphQL(client)


@pytest.fixture
def statements(engine: AsyncEngine) -> Iterator[StatementCounter]:
    with StatementCounter(engine) as counter:
        yield counter
