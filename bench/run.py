"""One database's run: migrate, load, analyze, then measure every workload through the app."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from bench import databases
from bench.catalog import Catalog
from bench.measure import WorkloadResult, measure
from bench.plans import Plan, explain_all
from bench.workloads import build_workloads
from db.engine import create_engine, session_factory
from settings import Settings
from web.app import create_app

DATABASES = ("sqlite", "postgresql")
LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@dataclass
class DatabaseResult:
    name: str
    version: str = ""
    revision: str = ""
    migrate_seconds: float = 0.0
    load_seconds: float = 0.0
    analyze_seconds: float = 0.0
    workloads: list[tuple[WorkloadResult, list[Plan]]] = field(default_factory=list)
    skipped: str | None = None  # why the database was not measured
    failed: bool = False

    @property
    def label(self) -> str:
        return LABELS.get(self.name, self.name)


def throwaway_database(name: str, postgres_url: str) -> contextlib.AbstractAsyncContextManager[str]:
    if name == "sqlite":
        return databases.sqlite_database()
    return databases.postgresql_database(postgres_url)


@contextlib.asynccontextmanager
async def _client(url: str, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """The real app (as the tests build it) on an engine we own, in-process over ASGI."""
    # Without the response cache: the timed requests repeat the warm-up's, and would all be hits.
    settings = Settings(database_url=url, response_cache_entries=0)
    app = create_app(settings, sessions=session_factory(engine))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        yield client


async def bench_database(
    name: str,
    url: str,
    catalog: Catalog,
    requests: int,
    budget: float,
    say: Callable[[str], None],
) -> DatabaseResult:
    result = DatabaseResult(name)
    started = time.perf_counter()
    await databases.migrate_database(url)
    result.migrate_seconds = time.perf_counter() - started
    engine = create_engine(url)
    try:
        result.version = await databases.server_version(engine)
        result.revision = await databases.schema_revision(engine)
        say(f"{result.label} {result.version}: migrated to {result.revision}")
        result.load_seconds = await databases.load(engine, catalog)
        say(
            f"  loaded {catalog.works:,} works ({sum(catalog.counts().values()):,} rows) "
            f"in {result.load_seconds:.1f} s"
        )
        result.analyze_seconds = await databases.analyze(engine)
        say(f"  analyzed in {result.analyze_seconds:.1f} s")
        async with _client(url, engine) as client:
            for workload in await build_workloads(client, catalog):
                measured = await measure(client, engine, workload, requests, budget)
                plans = await explain_all(engine, measured.captured)
                result.workloads.append((measured, plans))
                scans = sum(len(p.full_scans) for p in plans)
                walks = sum(len(p.index_walks) for p in plans)
                say(
                    f"  {workload.key}: {measured.requests} requests, "
                    f"p50 {measured.api.p50_ms:.2f} ms, "
                    f"p99 {measured.api.p99_ms:.2f} ms, "
                    f"{measured.requests_per_second:.0f} req/s, "
                    f"{measured.statements_per_request:.2f} statements, "
                    f"floor {measured.floor.p50_ms:.2f} ms (x{measured.ratio:.1f})"
                    + (f", {scans} full-scan plan lines" if scans else "")
                    + (f", {walks} index-walk plan lines" if walks else "")
                )
    finally:
        await engine.dispose()
    return result
