"""What every curation write answers: the record as it now is, or the user errors (and then
nothing was written); the stable codes those errors carry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from db import races, rules

REQUIRED = rules.REQUIRED
TOO_LONG = rules.TOO_LONG
INVALID_SLUG = rules.INVALID_SLUG
INVALID_URL = rules.INVALID_URL
OUT_OF_RANGE = "OUT_OF_RANGE"
SLUG_TAKEN = "SLUG_TAKEN"
NOT_FOUND = "NOT_FOUND"
DUPLICATE = "DUPLICATE"
CONFLICT = "CONFLICT"
REFERENCED = "REFERENCED"
RESERVED = "RESERVED"
SELF_RELATION = "SELF_RELATION"
INVALID_ORDER = "INVALID_ORDER"


@dataclass(frozen=True)
class UserError:
    """What is wrong with one input field (``field`` is its path in the input)."""

    field: tuple[str, ...]
    code: str
    message: str


@dataclass
class Outcome:
    """``record``: the row written (for a deletion, the row as it was); ``errors``: why
    nothing was written. One of the two is empty, except for a no-op update, which answers
    the record unchanged."""

    record: Any = None
    errors: list[UserError] = field(default_factory=list)


def race_error(error: BaseException) -> UserError | None:
    """The user error for a write that lost a race with another (``db.races``), or None if
    ``error`` is no such failure."""
    race = races.answer(error)
    return UserError(race.field, race.code, race.message) if race is not None else None


def still_referenced(message: str) -> UserError:
    """The answer to deleting a record that others still refer to (``message`` says which)."""
    return UserError(("input", "slug"), REFERENCED, message)


def changed_meanwhile() -> UserError:
    """The answer when the version check in an UPDATE or DELETE matched no row: another
    writer committed between this write's read and its write."""
    return UserError(("input", "version"), CONFLICT, "the work changed meanwhile: read it again")
