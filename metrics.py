"""The service's Prometheus metrics (``prometheus-client``), served at ``/metrics``.

The families (their names are an interface: dashboards and alerts use them):

- ``nkcinema_requests_total{operation,outcome,code}``: GraphQL requests answered, by
  operation name, outcome (``ok``, ``partial``: data with errors, ``error``: no data) and the
  first error's code (``none`` when there is no error).
- ``nkcinema_request_duration_seconds{operation}``: how long they took (a histogram).
- ``nkcinema_executions_total{path}``: how each operation that ran was answered: ``compiled``
  (one SQL statement per root field), ``resolver`` (Strawberry's resolvers) or ``cached``
  (the response cache, or a ``304`` from the entity tag, without executing).
- ``nkcinema_request_cost``: the cost (``extensions.cost``) of each operation that executed (a
  histogram; cached answers cost nothing).
- ``nkcinema_db_pool_connections{database,state}``: pooled connections ``in_use`` and requests
  ``waiting`` for one, per database (``primary``, ``replica-1`` …).
- ``nkcinema_db_requests_total{database}``: requests a database answered.
- ``nkcinema_replica_lag_seconds{database}``: each replica's replay lag, as last measured.

Operation names come from clients: only names GraphQL allows (and at most
``MAX_OPERATION_NAMES`` distinct ones per process) become label values, so that no client can
grow the metrics without bound; the rest count as ``(other)``. Requests with no operation (a
refused body, a document that does not parse) count as ``(none)``, unnamed operations as
``(anonymous)``.

**Cheap on the hot path**: a request's updates (its count, duration, path, cost and database)
are added up in plain dictionaries (``_Pending``), under one lock, once, and written into
prometheus-client's values by ``flush``: before every exposition, and within
``FLUSH_SECONDS`` of the first update since the last flush (a timer on the event loop; with no
loop running, at once), and when the worker stops. prometheus-client takes a lock and a check
per update, and a histogram walks its buckets; that was a tenth of a fast-lane answer's own
work. With several workers each of those updates is also a write into a shared file: written
through at once, they added a fifth to a fast-lane answer's bytecodes. The pools' connections
in use are not counted per checkout at all: each pool is read when the values are written
(``watch_pool``), so a request's two checkouts and checkins cost the metrics nothing.

**Several workers**: ``prometheus-client``'s multiprocess mode. With
``PROMETHEUS_MULTIPROC_DIR`` set (``nkcinema serve --workers N`` sets it to a fresh directory
when it is unset: ``worker_directory``) each worker writes its values to files there and
``/metrics``, whichever worker answers it, adds them up: counters and histograms over every
worker that ever ran, the pool gauges over the live ones, the replica lag as the largest any
live worker measured. The variable must be set before ``prometheus_client`` is first
imported (it picks its value store then): uvicorn's workers are fresh processes.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

NO_OPERATION = "(none)"
ANONYMOUS = "(anonymous)"
OTHER = "(other)"
NO_CODE = "none"
MAX_OPERATION_NAMES = 200  # distinct operation names labelled per process; then "(other)"
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")  # a GraphQL name, at most 64 characters

# Latency: a cached answer takes about a millisecond, a search tens of them, the deadline 10 s.
DURATION_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip
# Cost: a work by slug costs a few units, a page of 100 a few hundred, the limit is 25,000.
COST_BUCKETS = (1, 5, 10, 50, 100, 500, 1000, 2500, 5000, 10000, 25000, 100000)

REQUESTS = Counter(
    "nkcinema_requests",
    "GraphQL requests answered, by operation name, outcome and first error code.",
    ("operation", "outcome", "code"),
)
DURATION = Histogram(
    "nkcinema_request_duration_seconds",
    "Time to answer a GraphQL request, by operation name.",
    ("operation",),
    buckets=DURATION_BUCKETS,
)
EXECUTIONS = Counter(
    "nkcinema_executions",
    "Operations answered, by path: compiled, resolver or cached.",
    ("path",),
)
COST = Histogram(
    "nkcinema_request_cost",
    "The cost (extensions.cost) of each operation that executed.",
    buckets=COST_BUCKETS,
)
POOL = Gauge(
    "nkcinema_db_pool_connections",
    "Pooled database connections in use, and requests waiting for one, per database.",
    ("database", "state"),
    multiprocess_mode="livesum",
)
DATABASE_REQUESTS = Counter(
    "nkcinema_db_requests",
    "Requests a database answered (primary, replica-1, ...).",
    ("database",),
)
REPLICA_LAG = Gauge(
    "nkcinema_replica_lag_seconds",
    "A replica's replay lag behind the primary, as last measured.",
    ("database",),
    multiprocess_mode="livemax",
)

_names: set[str] = set()  # the operation names labelled so far in this process
# Each metric's child per label values: prometheus-client's labels() checks and locks on
# every call (6 calls a request, the largest share of the metrics' cost on a fast-lane
# answer); the values are bounded (operation names above, codes, paths, databases).
_children: dict[tuple[object, tuple[str, ...]], Any] = {}


def _child(metric: Any, *values: str) -> Any:
    try:
        return _children[(metric, values)]
    except KeyError:
        child = _children[(metric, values)] = metric.labels(*values)
        return child


def operation_label(name: str | None, *, known: bool = True) -> str:
    """The label value of an operation: its name if GraphQL allows it and the process has
    not labelled ``MAX_OPERATION_NAMES`` others; ``known=False``: no operation was found."""
    if not known:
        return NO_OPERATION
    if not name:
        return ANONYMOUS
    if name in _names:
        return name
    if len(_names) >= MAX_OPERATION_NAMES or not _NAME.fullmatch(name):
        return OTHER
    _names.add(name)
    return name


# At most this long between an update and its values being written. With several workers,
# /metrics in one worker finds the requests another has answered once that one has written
# them: within this interval (a scrape every 15 s or so sees them all).
FLUSH_SECONDS = 0.5


class _Pending:
    """Updates not yet written into prometheus-client's values: per child, the increments of
    counters and gauges and, for histograms, the observations' count per bucket and sum."""

    def __init__(self) -> None:
        self.lock = threading.Lock()  # /metrics flushes from a thread of its own
        self.increments: dict[Any, float] = {}
        self.buckets: dict[Any, list[float]] = {}  # child -> [count per bucket..., sum]
        self.loop: asyncio.AbstractEventLoop | None = None  # where a flush is scheduled

    def schedule(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a command, a test's own code): written at once
            flush()
            return
        if self.loop is not loop:
            self.loop = loop
            loop.call_later(FLUSH_SECONDS, _flush_scheduled, loop)


_pending = _Pending()


def _flush_scheduled(loop: asyncio.AbstractEventLoop) -> None:
    with _pending.lock:
        if _pending.loop is loop:
            _pending.loop = None
    flush()


def flush() -> None:
    """Write every update made so far into prometheus-client's values."""
    with _pending.lock:
        increments, _pending.increments = _pending.increments, {}
        buckets, _pending.buckets = _pending.buckets, {}
    for child, amount in increments.items():
        if amount:
            child.inc(amount)
    for child, counts in buckets.items():
        for index, count in enumerate(counts[:-1]):
            if count:
                child._buckets[index].inc(count)
        child._sum.inc(counts[-1])
    _write_pools()


def _written() -> None:
    """After an update: written within the flush interval (scheduled here when no running
    loop's timer will)."""
    loop = _pending.loop
    if loop is None or loop.is_closed():
        _pending.schedule()


def _increment(child: Any, amount: float = 1) -> None:
    with _pending.lock:
        increments = _pending.increments
        increments[child] = increments.get(child, 0) + amount
    _written()


def _add_observation(child: Any, bounds: tuple[float, ...], value: float) -> None:
    """(With the lock held.)"""
    counts = _pending.buckets.get(child)
    if counts is None:
        counts = _pending.buckets[child] = [0.0] * (len(bounds) + 1)
    counts[bisect.bisect_left(bounds, value)] += 1
    counts[-1] += value


_DURATION_BOUNDS = (*DURATION_BUCKETS, float("inf"))
_COST_BOUNDS = (*COST_BUCKETS, float("inf"))


def request_answered(
    operation: str,
    outcome: str,
    code: str | None,
    seconds: float,
    path: str | None = None,
    cost: int | None = None,
    database: str | None = None,
) -> None:
    """A GraphQL request was answered (``operation``: a label from ``operation_label``), if it
    ran, by ``path`` (``compiled``, ``resolver``, ``cached``) at ``cost`` (not costed when
    cached), and if a statement ran, from ``database``
    (``nkcinema_db_requests_total``): one update of the pending values."""
    labels = (operation, outcome, code, path, database)
    children = _answered.get(labels)
    if children is None:
        children = _answered_children(labels)
    requests, duration, executions, used = children
    with _pending.lock:
        increments = _pending.increments
        increments[requests] = increments.get(requests, 0) + 1
        _add_observation(duration, _DURATION_BOUNDS, seconds)
        if executions is not None:
            increments[executions] = increments.get(executions, 0) + 1
            if cost is not None and path != "cached":
                _add_observation(COST, _COST_BOUNDS, cost)
        if used is not None:
            increments[used] = increments.get(used, 0) + 1
    _written()


# request_answered's children per combination of its labels: one lookup a request, not four.
_answered: dict[tuple[Any, ...], tuple[Any, Any, Any, Any]] = {}
MAX_ANSWERED_COMBINATIONS = 10_000  # then forgotten and found again (the children stay)


def _answered_children(labels: tuple[Any, ...]) -> tuple[Any, Any, Any, Any]:
    operation, outcome, code, path, database = labels
    children = (
        _child(REQUESTS, operation, outcome, code or NO_CODE),
        _child(DURATION, operation),
        None if path is None else _child(EXECUTIONS, path),
        None if database is None else _child(DATABASE_REQUESTS, database),
    )
    if len(_answered) >= MAX_ANSWERED_COMBINATIONS:
        _answered.clear()
    _answered[labels] = children
    return children


def replica_lag(name: str, seconds: float) -> None:
    """The replay lag just measured on replica ``name``."""
    _child(REPLICA_LAG, name).set(seconds)


# Per database, how to read each of its pools' connections in use (None: the pool is gone).
_pools: dict[str, list[Callable[[], int | None]]] = {}
_pools_lock = threading.Lock()


def watch_pool(database: str, in_use: Callable[[], int | None]) -> None:
    """Count a pool of ``database`` (``primary``, ``replica-1`` …) in its connections in use:
    ``in_use`` is read whenever the values are written, and the pools of one database added
    up. Its series are shown from the start."""
    with _pools_lock:
        _pools.setdefault(database, []).append(in_use)
    pool_waiting(database, 0)
    _child(POOL, database, "in_use").set(_pools_in_use(database))


def _pools_in_use(database: str) -> int:
    """(With ``_pools_lock`` held.) Forgets the pools that are gone."""
    total, live = 0, []
    for read in _pools.get(database, ()):
        count = read()
        if count is not None:
            total += count
            live.append(read)
    _pools[database] = live
    return total


def _write_pools() -> None:
    with _pools_lock:
        for database in list(_pools):
            _child(POOL, database, "in_use").set(_pools_in_use(database))


def pool_waiting(database: str, change: int) -> None:
    _increment(_child(POOL, database, "waiting"), change)


def is_multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_DIR))


def exposition() -> bytes:
    """The metrics in Prometheus's text format: this process's, or with several workers
    (``PROMETHEUS_MULTIPROC_DIR``) every worker's added up."""
    flush()
    if is_multiprocess():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


@contextlib.contextmanager
def worker_directory(workers: int) -> Iterator[str | None]:
    """With several workers and no ``PROMETHEUS_MULTIPROC_DIR``: a fresh directory for their
    metrics, named in the environment (which the workers inherit) and removed afterwards.
    Yields the directory in use (None: one process, nothing to add up)."""
    given = os.environ.get(MULTIPROC_DIR)
    if given or workers <= 1:
        yield given or None
        return
    directory = tempfile.mkdtemp(prefix="nkcinema-metrics-")
    os.environ[MULTIPROC_DIR] = directory
    try:
        yield directory
    finally:
        os.environ.pop(MULTIPROC_DIR, None)
        shutil.rmtree(directory, ignore_errors=True)


def worker_exited(pid: int) -> None:
    """Drop a worker's live gauges (pool connections, replica lag) once it has exited."""
    flush()
    if is_multiprocess():
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
