"""Write races as answers: which database errors a concurrent writer can cause, and what each
tells the client (the one place that maps them).

SQLite runs one writer at a time (``BEGIN IMMEDIATE``), so a write's own checks (slug free,
version current, person present) still hold when it writes. PostgreSQL runs writers
concurrently: two transactions can both pass their checks and then collide on a unique key
(two works given one slug, two credits at one position), on a foreign key (a person deleted
while credited), or in a deadlock. The database refuses the second — nothing is half-written —
and this module says what that refusal means:

* a unique key a slug or source key guards → ``SLUG_TAKEN``;
* any other unique or primary key (a credit's, a tag's, a dispute's position: the record
  changed meanwhile) → ``CONFLICT``;
* a foreign key, when the write inserted or updated a row → ``NOT_FOUND`` (what it refers to
  was deleted meanwhile); when it deleted one → ``REFERENCED`` (something refers to it now);
* a serialisation failure or deadlock → ``CONFLICT``.

A writer that hits one of these runs again once its transaction is rolled back
(``gql.mutations._run``): by then the other writer has committed, so the write's own checks
usually give the precise answer (``SLUG_TAKEN`` naming the slug, ``CONFLICT`` with the new
version); the answers here are for a writer that collides every time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError

from db.errors import causes

SLUG_TAKEN = "SLUG_TAKEN"
CONFLICT = "CONFLICT"
NOT_FOUND = "NOT_FOUND"
REFERENCED = "REFERENCED"

# SQLSTATEs (PostgreSQL) of the failures a concurrent writer causes
_UNIQUE, _FOREIGN_KEY = "23505", "23503"
_RETRYABLE = {"40001": "serialisation failure", "40P01": "deadlock"}

# Unique keys that guard a name a client chooses: PostgreSQL reports the constraint's name,
# SQLite the columns (``UNIQUE constraint failed: works.slug``).
_NAMED_KEYS: dict[str, tuple[str, str]] = {
    "uq_works_slug": ("slug", "a work has this slug"),
    "works.slug": ("slug", "a work has this slug"),
    "uq_people_slug": ("slug", "a person has this slug"),
    "people.slug": ("slug", "a person has this slug"),
    "uq_themes_slug": ("slug", "a theme has this slug"),
    "themes.slug": ("slug", "a theme has this slug"),
    "uq_sources_key": ("key", "a source has this key"),
    "sources.key": ("key", "a source has this key"),
}

# What a foreign key's referenced row is, as the input field that names it.
_REFERRED_FIELD = {
    "fk_credits_person_id_people": "person",
    "fk_work_themes_theme_id_themes": "theme",
    "fk_work_relations_related_work_id_works": "work",
}
_REFERRED_TABLE_FIELD = {"works": "slug", "people": "slug", "themes": "slug", "sources": "source"}


@dataclass(frozen=True)
class Race:
    """What a write that lost a race is told: the input field, the code, the message."""

    field: tuple[str, ...]
    code: str
    message: str


@dataclass(frozen=True)
class _Failure:
    kind: str  # "unique" | "foreign_key" | "retryable"
    key: str | None  # the constraint's name (PostgreSQL) or columns (SQLite), when known


def _failure(error: BaseException) -> _Failure | None:
    chain = list(causes(error))
    # asyncpg's own exception names the constraint; SQLAlchemy's wrapper of it has the state
    names = [getattr(c, "constraint_name", None) for c in chain]
    constraint = next((n for n in names if isinstance(n, str)), None)
    for cause in chain:
        sqlstate = getattr(cause, "sqlstate", None)
        if isinstance(sqlstate, str):  # PostgreSQL's
            if sqlstate == _UNIQUE:
                return _Failure("unique", constraint)
            if sqlstate == _FOREIGN_KEY:
                return _Failure("foreign_key", constraint)
            if sqlstate in _RETRYABLE:
                return _Failure("retryable", _RETRYABLE[sqlstate])
        name = getattr(cause, "sqlite_errorname", None)
        if isinstance(name, str):  # sqlite3's exception
            if name in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"):
                found = re.search(r"constraint failed: (.+)$", str(cause))
                return _Failure("unique", found.group(1).strip() if found else None)
            if name == "SQLITE_CONSTRAINT_FOREIGNKEY":
                return _Failure("foreign_key", None)
    return None


def is_taken(error: BaseException, key: str) -> bool:
    """Whether ``error`` is a collision on the unique key of ``key`` (``"works.slug"``)."""
    failure = _failure(error) if isinstance(error, DBAPIError) else None
    if failure is None or failure.kind != "unique":
        return False
    table, _, column = key.partition(".")
    return failure.key in (key, f"uq_{table}_{column}")


def _deleting(error: DBAPIError) -> bool:
    return (error.statement or "").lstrip().upper().startswith("DELETE")


def answer(error: BaseException) -> Race | None:
    """The answer for a write that failed with ``error``; None if no race causes it."""
    failure = _failure(error) if isinstance(error, DBAPIError) else None
    if failure is None or not isinstance(error, DBAPIError):
        return None
    if failure.kind == "unique":
        if failure.key in _NAMED_KEYS:
            field, what = _NAMED_KEYS[failure.key]
            return Race(("input", field), SLUG_TAKEN, f"{what} now (taken meanwhile)")
        return Race(("input", "version"), CONFLICT, "the record changed meanwhile: read it again")
    if failure.kind == "foreign_key":
        if _deleting(error):
            return Race(
                ("input", "slug"),
                REFERENCED,
                "something was made to refer to it meanwhile: read it again",
            )
        key = failure.key or ""
        referred = _REFERRED_FIELD.get(key) or _REFERRED_TABLE_FIELD.get(key.rsplit("_", 1)[-1])
        return Race(
            ("input", referred) if referred else ("input",),
            NOT_FOUND,
            "what this refers to was deleted meanwhile: read it again",
        )
    return Race(("input",), CONFLICT, f"another write got in the way ({failure.key}): try again")
