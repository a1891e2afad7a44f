"""Response bodies: one encoder for every answer the serving layer gives (Strawberry's,
the fast lane's, the deadline's), so that every path gives the same bytes."""

from __future__ import annotations

import json
from typing import Any

import orjson
from starlette.responses import JSONResponse, Response
from starlette.types import Send

JSON_HEADERS = [(b"content-type", b"application/json")]


def encode(value: Any) -> bytes:
    """A response body: orjson (UTF-8, compact), or the standard library for what orjson
    refuses (integers beyond 64 bits)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


async def send_json(send: Send, body: bytes, *headers: tuple[bytes, bytes]) -> None:
    """Answer 200 with an encoded JSON ``body`` (and ``headers``) through ``send``."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                *JSON_HEADERS,
                (b"content-length", str(len(body)).encode("latin-1")),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def error_response(status: int, code: str, message: str, **extensions: Any) -> Response:
    """A transport-level refusal, shaped like a GraphQL error response."""
    body = {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}
    return JSONResponse(body, status_code=status)
