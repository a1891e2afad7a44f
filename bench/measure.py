"""Timing one workload: the API's latency over HTTP, statements per request, and the floor.

The floor is the request's heaviest SQL statement (the longest-running one while warming
up) re-executed directly through the same engine, with the same parameters, on a connection
held open: what the database alone needs for the request's main query. The ratio of the
API's p50 to the floor's p50 is what the application stack adds on top.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.statements import Statement, StatementRecorder
from bench.workloads import Workload, WorkloadError, post

WARMUP_ROUNDS = 2  # per variant, before timing; also where the statements are captured
FLOOR_WARMUP = 2  # per variant
MIN_REQUESTS = 10  # timed even past the time budget, so that p99 means something


@dataclass(frozen=True)
class Latency:
    p50_ms: float
    p99_ms: float
    mean_ms: float

    @classmethod
    def of(cls, seconds: list[float]) -> Latency:
        return cls(
            percentile(seconds, 50) * 1000,
            percentile(seconds, 99) * 1000,
            statistics.fmean(seconds) * 1000,
        )


@dataclass
class WorkloadResult:
    workload: Workload
    api: Latency
    floor: Latency
    statements_per_request: float
    requests: int
    floor_runs: int
    per_variant: list[tuple[float, float]] = field(default_factory=list)  # p50 ms: API, floor
    heaviest: list[Statement] = field(default_factory=list)  # per variant
    captured: list[Statement] = field(default_factory=list)  # each distinct SQL text once

    @property
    def requests_per_second(self) -> float:
        """Sequential: one request at a time, so the inverse of the mean latency."""
        return 1000 / self.api.mean_ms

    @property
    def ratio(self) -> float:
        return self.api.p50_ms / self.floor.p50_ms


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _median_ms(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1000 if seconds else math.nan


def _heaviest(runs: list[list[Statement]]) -> Statement:
    """The statement that took longest (median over runs, when every run issued the same
    statements), with the parameters of its last run."""
    if all(len(run) == len(runs[-1]) for run in runs):
        medians = [statistics.median(run[i].seconds for run in runs) for i in range(len(runs[-1]))]
        return runs[-1][medians.index(max(medians))]
    return max(runs[-1], key=lambda s: s.seconds)


async def _warm_up(
    client: httpx.AsyncClient, recorder: StatementRecorder, workload: Workload
) -> tuple[list[Statement], list[Statement]]:
    """Run every variant WARMUP_ROUNDS times: (heaviest statement per variant, each distinct
    statement text issued, first occurrence)."""
    heaviest: list[Statement] = []
    captured: dict[str, Statement] = {}
    for index in range(len(workload.variants)):
        runs = []
        for _ in range(WARMUP_ROUNDS):
            recorder.take()
            await post(client, workload.payload(index))
            runs.append(recorder.take())
        if not runs[-1]:
            raise WorkloadError(f"{workload.key} issued no SQL statement")
        heaviest.append(_heaviest(runs))
        for statement in runs[-1]:
            captured.setdefault(statement.sql, statement)
    return heaviest, list(captured.values())


def _within(index: int, started: float, budget: float) -> bool:
    return index < MIN_REQUESTS or time.perf_counter() - started < budget


async def _time_api(
    client: httpx.AsyncClient,
    recorder: StatementRecorder,
    workload: Workload,
    requests: int,
    budget: float,
) -> tuple[list[float], list[int]]:
    """Up to ``requests`` requests, stopping early once ``budget`` seconds are spent."""
    seconds: list[float] = []
    counts: list[int] = []
    began = time.perf_counter()
    for index in range(requests):
        if not _within(index, began, budget):
            break
        payload = workload.payload(index)
        recorder.take()
        started = time.perf_counter()
        response = await client.post("/graphql", json=payload)
        seconds.append(time.perf_counter() - started)
        counts.append(len(recorder.take()))
        if response.status_code != 200 or "errors" in response.json():
            raise WorkloadError(f"{workload.key}: {response.status_code} {response.text}")
    return seconds, counts


async def _time_floor(
    engine: AsyncEngine, statements: list[Statement], requests: int, budget: float
) -> list[float]:
    """Re-execute the statements in rotation, fetching every row, on one open connection."""
    seconds: list[float] = []
    async with engine.connect() as connection:
        for statement in statements * FLOOR_WARMUP:
            (await connection.exec_driver_sql(statement.sql, statement.parameters)).fetchall()
        began = time.perf_counter()
        for index in range(requests):
            if not _within(index, began, budget):
                break
            statement = statements[index % len(statements)]
            started = time.perf_counter()
            (await connection.exec_driver_sql(statement.sql, statement.parameters)).fetchall()
            seconds.append(time.perf_counter() - started)
        await connection.rollback()
    return seconds


async def measure(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    workload: Workload,
    requests: int,
    budget: float,
) -> WorkloadResult:
    """Time up to ``requests`` requests (at most ``budget`` seconds past the first
    MIN_REQUESTS), then as many executions of the floor, within the same budget."""
    with StatementRecorder(engine) as recorder:
        heaviest, captured = await _warm_up(client, recorder, workload)
        api_seconds, counts = await _time_api(client, recorder, workload, requests, budget)
    floor_seconds = await _time_floor(engine, heaviest, len(api_seconds), budget)
    return WorkloadResult(
        workload=workload,
        api=Latency.of(api_seconds),
        floor=Latency.of(floor_seconds),
        statements_per_request=statistics.fmean(counts),
        requests=len(api_seconds),
        floor_runs=len(floor_seconds),
        per_variant=[
            (
                _median_ms(api_seconds[v :: len(heaviest)]),
                _median_ms(floor_seconds[v :: len(heaviest)]),
            )
            for v in range(len(heaviest))
        ],
        heaviest=heaviest,
        captured=captured,
    )
