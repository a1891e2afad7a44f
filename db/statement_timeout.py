"""A time limit on every SQL statement, enforced by the database.

PostgreSQL has ``statement_timeout`` (set per connection by ``db.engine``). SQLite has no such
setting; this module gives it one: a progress handler, called every few thousand virtual
machine steps, interrupts the statement once it has run longer than the limit (SQLite then
raises "interrupted" and the statement's work is undone). The deadline is set before each
statement and cleared after it (SQLAlchemy's aiosqlite adapter fetches a statement's rows
before ``after_cursor_execute``, so fetching is covered too).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only

PROGRESS_STEPS = 10_000  # VM instructions between checks: a few hundred µs
_DEADLINE = "nkcinema.statement_deadline"


def is_statement_timeout(error: BaseException) -> bool:
    """Whether a driver error says the database stopped a statement for taking too long."""
    name = type(error).__name__
    text = str(error)
    # SQLSTATE 57014 (asyncpg's QueryCanceledError): the server's own timeout, or a cancel
    # this app's driver sent when its deadline (command_timeout) passed, which the server
    # reports as "user request" (SQLAlchemy passes it on under a generic name).
    if name == "QueryCanceledError" or any(
        f"canceling statement due to {why}" in text for why in ("statement timeout", "user request")
    ):
        return True
    return name == "OperationalError" and "interrupted" in text


def limit_sqlite_statements(engine: AsyncEngine, seconds: float) -> None:
    """Interrupt any statement on ``engine``'s SQLite connections that runs over ``seconds``."""

    @event.listens_for(engine.sync_engine, "connect")
    def _install(dbapi_connection: Any, record: Any) -> None:
        state: dict[str, float | None] = {"deadline": None, "seconds": seconds}
        record.info[_DEADLINE] = state

        def check() -> int:
            deadline = state["deadline"]
            return 1 if deadline is not None and time.monotonic() > deadline else 0

        await_only(dbapi_connection.driver_connection.set_progress_handler(check, PROGRESS_STEPS))

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _start(connection: Any, *_args: Any) -> None:
        state = connection.connection.info.get(_DEADLINE)
        if state is not None:
            state["deadline"] = time.monotonic() + seconds

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def _stop(connection: Any, *_args: Any) -> None:
        state = connection.connection.info.get(_DEADLINE)
        if state is not None:
            state["deadline"] = None

    @event.listens_for(engine.sync_engine, "handle_error")
    def _clear(context: Any) -> None:
        try:
            state = context.connection.connection.info.get(_DEADLINE)
        except Exception:  # no connection (any more): nothing to clear
            return
        if state is not None:
            state["deadline"] = None


@contextlib.contextmanager
def sqlite_deadline(info: Mapping[str, Any]) -> Iterator[None]:
    """The limit for a statement run on a pooled SQLite connection's driver directly, outside
    SQLAlchemy's cursor events (``info``: the pooled connection's ``info``)."""
    state = info.get(_DEADLINE)
    if state is None:
        yield
        return
    state["deadline"] = time.monotonic() + state["seconds"]
    try:
        yield
    finally:
        state["deadline"] = None
