"""The request's database: one session, used by one statement at a time, closed exactly once,
and a read retried once when its connection dropped (``RequestDatabase``).

    database = RequestDatabase(sessions())
    try:
        rows = await database.run(query_function, *args)  # query_function(session, *args)
    finally:
        await database.close()

GraphQL's loaders (``gql.loaders``), the compiled path and the serving layer all reach the
database through it. A request reading a replica (``db.replicas``) gives it a ``Fallback``:
the primary, which it moves to when it must (``to_primary``) or when the replica fails.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, SessionTransactionOrigin

from db.errors import causes

V = TypeVar("V")

logger = logging.getLogger("nkcinema.database")


PRIMARY = "primary"  # the name of the primary database (replicas: "replica-1", …)


class RequestFinished(Exception):
    """A resolver tried to reach the database after its request was answered."""


class Fallback(Protocol):
    """Where a request that reads a replica goes instead: the primary. ``to_primary`` is told
    why (``error``: the replica failed; None: the request must read the primary) and returns
    the primary's session factory."""

    def to_primary(self, error: BaseException | None) -> async_sessionmaker[AsyncSession]: ...


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

    On a replica (``fallback`` given), a read that fails for the database's sake
    (``is_database_failure``: the replica refuses or drops connections, is shutting down or
    starting up, or cancels a statement for a conflict with recovery) runs again on the
    primary under the same reader rule, failures to connect included, so a replica's failure
    never reaches the client. The replica's session is invalidated and every later statement
    reads the primary.
    """

    def __init__(
        self, session: AsyncSession, *, name: str = PRIMARY, fallback: Fallback | None = None
    ) -> None:
        self.session = session
        self.name = name  # the database it reads: "primary", "replica-1", …
        self.fallback = fallback
        self.lock = asyncio.Lock()
        self.closed = False
        self.wrote = False  # see the class docstring: a writer is never retried
        self._listen(session)

    def _listen(self, session: AsyncSession) -> None:
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

    def may_fall_back(self, error: BaseException) -> bool:
        """Whether a statement that raised ``error`` on a replica may run on the primary."""
        if self.fallback is None or self.wrote or not is_database_failure(error):
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
                except Exception as error:
                    if self.closed:  # nobody waits for a second try
                        raise
                    if self.may_fall_back(error):
                        logger.warning(
                            "%s failed; reading the primary instead: %r", self.name, error
                        )
                        await self._switch(error)
                    elif isinstance(error, DBAPIError) and self.may_retry(error):
                        logger.warning("connection lost; retrying a read once: %r", error)
                        await self.session.invalidate()
                    else:
                        raise
                return await fn(self.session, *args)

        task = asyncio.ensure_future(statement())
        task.add_done_callback(_consume_outcome)
        return await asyncio.shield(task)

    async def to_primary(self) -> None:
        """Read the primary from now on (a write, or a read that must see every write)."""
        if self.fallback is None:
            return
        async with self.lock:
            if self.fallback is not None and not self.closed:
                await self._switch(None)

    async def _switch(self, error: BaseException | None) -> None:
        """Leave the replica's session for a new one on the primary (under the lock)."""
        assert self.fallback is not None
        sessions = self.fallback.to_primary(error)
        self.fallback = None
        old, self.session = self.session, sessions()
        self.name = PRIMARY
        self._listen(self.session)
        try:
            if error is None:
                await old.close()  # a healthy replica: its connection goes back to its pool
            else:
                await old.invalidate()  # it may be dead: never back into the pool
        except Exception as closing:
            logger.debug("leaving a replica's session: %r", closing)

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


# What a hot standby cancels a query with when replaying the primary's changes would conflict
# with it (serialization failure, database dropped): the primary has no such conflict.
_RECOVERY_CONFLICTS = {"40001", "57P04"}


def is_database_failure(error: BaseException) -> bool:
    """Whether ``error`` says the database could not answer (``is_unreachable``, or a
    standby's recovery conflict) rather than anything about the statement: what a replica's
    reader retries on the primary."""
    return is_unreachable(error) or any(
        getattr(cause, "sqlstate", None) in _RECOVERY_CONFLICTS for cause in causes(error)
    )


def is_unreachable(error: BaseException) -> bool:
    """Whether ``error`` says the server itself is out of reach or going away (connection
    refused, reset or lost, a connect timeout, a server shutting down or starting up): its
    replica leaves rotation until a probe finds it well."""
    for cause in causes(error):
        sqlstate = getattr(cause, "sqlstate", None)
        if isinstance(sqlstate, str) and (
            sqlstate.startswith("08") or sqlstate in ("57P01", "57P02", "57P03")
        ):
            return True
        if isinstance(cause, (OSError, TimeoutError)) or type(cause).__name__ in _DROPPED:
            return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def _consume_outcome(task: asyncio.Future[Any]) -> None:
    """Mark a statement's outcome as seen, even when the resolver awaiting it was cancelled."""
    if not task.cancelled():
        task.exception()
