"""Relay global IDs: opaque base64 of ``Type:databaseId``; they round-trip through ``node``."""

from __future__ import annotations

import base64
import binascii

from gql.errors import InvalidId

NODE_TYPES = ("Work", "Person", "Theme", "Studio")
MAX_DATABASE_ID = 2**31 - 1  # ids are INTEGER columns: a larger number names no row


def to_global_id(type_name: str, db_id: int) -> str:
    return base64.b64encode(f"{type_name}:{db_id}".encode()).decode("ascii")


def from_global_id(global_id: str) -> tuple[str, int]:
    """Decode a global ID; raise InvalidId (code INVALID_ID) if it is not one of ours."""
    try:
        if len(global_id) > 100:
            raise ValueError
        decoded = base64.b64decode(global_id.encode("ascii"), validate=True).decode("utf-8")
        type_name, _, raw = decoded.partition(":")
        db_id = int(raw)
        if type_name not in NODE_TYPES or not raw.isdigit() or not 0 < db_id <= MAX_DATABASE_ID:
            raise ValueError
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidId(f"{global_id[:100]!r} is not a valid node ID") from None
    return type_name, db_id
