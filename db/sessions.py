"""The request's database: one session, used by one statement at a time, closed exactly once,
and a read retried once when its connection dropped (``RequestDatabase``).

    database = RequestDatabase(sessions())
    try:
        rows = await database.run(query_function, *args)  # query_function(session, *args)
    finally:
        await database.close()

GraphQL's loaders (``gql.loaders``), the compiled path and the serving layer all reach the
database through it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, SessionTransactionOrigin

from db.errors import causes

V = TypeVar("V")

logger = logging.getLogger("nkcinema.database")


class RequestFinished(Exception):
    """A resolver tried to reach the database after its request was answered."""


class RequestDatabase:
    """The request's session, used by one statement at a time and closed exactly once.

    Statements run shielded from cancellation: GraphQL execution cancels sibling resolvers
    when a non-null field fails, and a query cancelled half-way would leave its connection
    unusable. A statement that has started finishes; ``close`` waits for it.

    A read is retried once when its connection dropped. The exact rule: ``run(fn, ...)``
    calls ``fn`` a second time (and never a third) when the first call raised a
    ``DBAPIError`` whose connection SQLAlchemy found dead (``connection_invalidated``, or
    asyncpg's ``ConnectionDoesNotExistError`` in its causes) and the session is still a
    reader: since the request began it has not flushed, has not run any statement through
    ``Session.execute`` that is not a SELECT (INSERT/UPDATE/DELETE, DDL and ``text()`` all
    count as writes), has not begun an explicit transaction or savepoint (``begin()``,
    ``begin_nested()``), and holds no pending changes (new, dirty or deleted objects). Before
    the second call the session is invalidated: the dead connection is discarded and the
    objects loaded so far are detached, keeping what they loaded (every relationship is
    ``lazy="raise"``, so nothing loads implicitly); the second call checks out a fresh,
    pinged connection in a new transaction. Statements run on ``session.connection()``
    directly are not seen: write code must use ``Session.execute`` or ``begin()``.
    Failures to connect at all (the database is down) are not retried: they are already
    fast, and a retry would double a connect timeout. Nor is anything once the request is
    answered (``close`` was called).
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.lock = asyncio.Lock()
        self.closed = False
        self.wrote = False  # see the class docstring: a writer is never retried
        sync_session = session.sync_session
        event.listen(sync_session, "do_orm_execute", self._on_execute)
        event.listen(sync_session, "after_flush", self._on_flush)
        event.listen(sync_session, "after_transaction_create", self._on_transaction)

    def _on_execute(self, state: ORMExecuteState) -> None:
        if not state.is_select:
            self.wrote = True

    def _on_flush(self, *_args: Any) -> None:
        self.wrote = True

    def _on_transaction(self, _session: Session, transaction: SessionTransaction) -> None:
        if transaction.origin in _EXPLICIT_TRANSACTIONS:
            self.wrote = True

    def may_retry(self, error: BaseException) -> bool:
        """Whether a statement that raised ``error`` may run again (the class's rule)."""
        if not is_dropped_connection(error) or self.wrote:
            return False
        session = self.session
        return not (session.new or session.dirty or session.deleted)

    async def run(self, fn: Callable[..., Awaitable[V]], *args: Any) -> V:
        async def statement() -> V:
            async with self.lock:
                if self.closed:
                    raise RequestFinished
                try:
                    return await fn(self.session, *args)
                except DBAPIError as error:
                    if self.closed or not self.may_retry(error):  # closed: nobody waits
                        raise
                    logger.warning("connection lost; retrying a read once: %r", error)
                    await self.session.invalidate()
                return await fn(self.session, *args)

        task = asyncio.ensure_future(statement())
        task.add_done_callback(_consume_outcome)
        return await asyncio.shield(task)

    async def close(self) -> None:
        self.closed = True  # statements not yet started will not start
        async with self.lock:  # the one in flight, if any, finishes first
            try:
                await self.session.close()
            except DBAPIError as error:
                # Rolling back failed: the connection died after the request's last
                # statement (the server rolls back what a dead connection left). The answer
                # has been given; discard the connection instead of failing the request.
                logger.warning("closing a request's session: %r", error)
                await self.session.invalidate()


_EXPLICIT_TRANSACTIONS = (SessionTransactionOrigin.BEGIN, SessionTransactionOrigin.BEGIN_NESTED)
# asyncpg's "the connection was lost" errors, by name so that importing the driver stays optional.
_DROPPED = {"ConnectionDoesNotExistError"}


def is_dropped_connection(error: BaseException) -> bool:
    """Whether a statement failed because its (established) connection was lost."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return any(type(cause).__name__ in _DROPPED for cause in causes(error))


def _consume_outcome(task: asyncio.Future[Any]) -> None:
    """Mark a statement's outcome as seen, even when the resolver awaiting it was cancelled."""
    if not task.cancelled():
        task.exception()
