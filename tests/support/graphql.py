"""GraphQL over HTTP against the app under test: the operation's data, failing the test on
any error, or the errors it must have."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx


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
