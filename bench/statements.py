"""Records the SQL statements an engine executes: text, parameters and time taken."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
Parameters = tuple[Any, ...] | dict[str, Any]


@dataclass(frozen=True)
class Statement:
    """One statement as the driver received it (placeholders and all) and its parameters."""

    sql: str
    parameters: Parameters
    seconds: float


@dataclass
class StatementRecorder:
    """While entered, keeps every statement but transaction control (``take`` empties it).

    The time of a statement runs from ``before_cursor_execute`` to ``after_cursor_execute``;
    both drivers' SQLAlchemy adapters fetch the rows inside that span.
    """

    engine: AsyncEngine
    statements: list[Statement] = field(default_factory=list)
    _started: float = 0.0

    def _before(self, *_args: Any) -> None:
        self._started = time.perf_counter()

    def _after(
        self,
        _conn: Any,
        _cursor: Any,
        statement: str,
        parameters: Any,
        _context: Any,
        executemany: bool,
    ) -> None:
        elapsed = time.perf_counter() - self._started
        if executemany or statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            return
        params = dict(parameters) if isinstance(parameters, dict) else tuple(parameters or ())
        self.statements.append(Statement(statement, params, elapsed))

    def __enter__(self) -> StatementRecorder:
        event.listen(self.engine.sync_engine, "before_cursor_execute", self._before)
        event.listen(self.engine.sync_engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine.sync_engine, "before_cursor_execute", self._before)
        event.remove(self.engine.sync_engine, "after_cursor_execute", self._after)

    def take(self) -> list[Statement]:
        taken, self.statements = self.statements, []
        return taken
