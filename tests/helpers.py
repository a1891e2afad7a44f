"""Test helpers: run GraphQL over HTTP (failing on errors), count SQL statements, read
query plans."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

_TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@dataclass
class GraphQL:
    """Runs operations against the real ASGI app over HTTP."""

    client: httpx.AsyncClient

    async def response(
        self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any
    ) -> httpx.Response:
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        return await self.client.post("/graphql", json=payload, **kwargs)

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        """The operation's data; fails the test if the response has any error."""
        response = await self.response(query, variables)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, json.dumps(body["errors"], indent=2, ensure_ascii=False)
        return body["data"]

    async def errors(self, query: str, variables: dict[str, Any] | None = None) -> list[Any]:
        """The operation's errors; fails the test if there are none or the server broke."""
        response = await self.response(query, variables)
        assert response.status_code in (200, 400), response.text
        body = response.json()
        assert body.get("errors"), f"expected errors, got {body}"
        for error in body["errors"]:
            assert "code" in error.get("extensions", {}), error
            assert "Traceback" not in json.dumps(error), error
        return list(body["errors"])

    async def error_codes(self, query: str, variables: dict[str, Any] | None = None) -> list[str]:
        return [e["extensions"]["code"] for e in await self.errors(query, variables)]


@dataclass
class StatementCounter:
    """Counts the SQL statements (not transaction control) an engine executes."""

    engine: AsyncEngine
    statements: list[str] = field(default_factory=list)

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(_TRANSACTION_CONTROL):
            self.statements.append(statement)

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine.sync_engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_exc: Any) -> None:
        event.remove(self.engine.sync_engine, "before_cursor_execute", self._record)

    def reset(self) -> None:
        self.statements.clear()

    @property
    def count(self) -> int:
        return len(self.statements)


async def query_plan(session: AsyncSession, statement: Any) -> str:
    """The plan the session's database makes for ``statement`` (values inlined): SQLite's
    ``EXPLAIN QUERY PLAN`` lines, or PostgreSQL's ``EXPLAIN`` with sequential scans off (the
    test tables are tiny: ask for the index)."""
    bind = session.get_bind()
    compiled = statement.compile(dialect=bind.dialect, compile_kwargs={"literal_binds": True})
    if bind.dialect.name == "sqlite":
        rows = await session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
        return "\n".join(str(r[-1]) for r in rows)
    await session.execute(text("SET LOCAL enable_seqscan = off"))
    rows = await session.execute(text(f"EXPLAIN {compiled}"))
    return "\n".join(r[0] for r in rows)
