"""Opaque connection cursors: the sort-key values of a row, tagged with the ordering.

A cursor from another list or another ``orderBy`` is rejected (code INVALID_CURSOR) rather
than silently misread.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from db.pagination import CursorValues, Ordering
from gql.errors import InvalidCursor

MAX_CURSOR_LENGTH = 2048


def encode_cursor(list_name: str, ordering: Ordering, values: CursorValues) -> str:
    payload = json.dumps([f"{list_name}|{ordering.signature}", list(values)], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode("utf-8")).decode("ascii")


def decode_cursor(cursor: str, list_name: str, ordering: Ordering, argument: str) -> CursorValues:
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError
        tag, values = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
    except (ValueError, TypeError, UnicodeError, binascii.Error):
        raise InvalidCursor(f"`{argument}` is not a valid cursor", argument=argument) from None
    if tag != f"{list_name}|{ordering.signature}" or not isinstance(values, list):
        raise InvalidCursor(
            f"`{argument}` is a cursor from another list or ordering; "
            "cursors only work with the list and orderBy that produced them",
            argument=argument,
        )
    if not ordering.accepts(values):
        raise InvalidCursor(f"`{argument}` is not a valid cursor", argument=argument)
    return tuple(_text_ok(v, argument) for v in values)


def _text_ok(value: Any, argument: str) -> Any:
    """Text a database can compare: no NUL (PostgreSQL refuses it) and no lone surrogate
    (JSON can spell ``"\\ud800"``; no driver can encode it)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidCursor(f"`{argument}` is not a valid cursor", argument=argument) from None
        if "\x00" in value:
            raise InvalidCursor(f"`{argument}` is not a valid cursor", argument=argument)
    return value
