"""External identifiers of works and people (IMDb, Wikidata): their validation, their URLs
and the batch queries that read them.

An identifier's shape depends on its system and on what it names: IMDb titles are
``tt`` + 7 or 8 digits and IMDb names ``nm`` + 7 or 8 digits; Wikidata items are ``Q`` + a
number, for works and people alike. A record has at most one identifier per system, and an
identifier names at most one record (the tables' keys enforce both).
"""

from __future__ import annotations

import enum
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import models as m
from db.enums import ExternalSystem


class Owner(enum.StrEnum):
    """What an identifier names."""

    WORK = "work"
    PERSON = "person"


_WIKIDATA = (re.compile(r"Q[1-9][0-9]{0,38}"), "Q followed by a number, e.g. Q42")
_PATTERNS: dict[tuple[ExternalSystem, Owner], tuple[re.Pattern[str], str]] = {
    (ExternalSystem.IMDB, Owner.WORK): (
        re.compile(r"tt[0-9]{7,8}"),
        "tt followed by 7 or 8 digits, e.g. tt0168937",
    ),
    (ExternalSystem.IMDB, Owner.PERSON): (
        re.compile(r"nm[0-9]{7,8}"),
        "nm followed by 7 or 8 digits, e.g. nm0000001",
    ),
    (ExternalSystem.WIKIDATA, Owner.WORK): _WIKIDATA,
    (ExternalSystem.WIKIDATA, Owner.PERSON): _WIKIDATA,
}
_URLS: dict[tuple[ExternalSystem, Owner], str] = {
    (ExternalSystem.IMDB, Owner.WORK): "https://www.imdb.com/title/{}",
    (ExternalSystem.IMDB, Owner.PERSON): "https://www.imdb.com/name/{}",
    (ExternalSystem.WIKIDATA, Owner.WORK): "https://www.wikidata.org/wiki/{}",
    (ExternalSystem.WIKIDATA, Owner.PERSON): "https://www.wikidata.org/wiki/{}",
}


def external_id_problem(system: ExternalSystem, value: str, owner: Owner) -> str | None:
    """Why ``value`` is not a valid ``system`` identifier of a ``owner`` (None if it is)."""
    pattern, expected = _PATTERNS[(system, owner)]
    if len(value) > m.EXTERNAL_ID_LENGTH or not pattern.fullmatch(value):
        return f"{value!r} is not a valid {system} identifier of a {owner} (expected {expected})"
    return None


def external_url(system: ExternalSystem, value: str, owner: Owner) -> str:
    """The identifier's page, e.g. https://www.imdb.com/title/tt0168937."""
    return _URLS[(system, owner)].format(value)


@dataclass(frozen=True)
class ExternalIdRow:
    system: ExternalSystem
    value: str


ExternalKey = tuple[ExternalSystem, str]


def _table(owner: Owner) -> tuple[Any, Any]:
    if owner == Owner.WORK:
        return m.WorkExternalId, m.WorkExternalId.work_id
    return m.PersonExternalId, m.PersonExternalId.person_id


async def _external_ids(
    session: AsyncSession, owner: Owner, ids: Sequence[int]
) -> list[list[ExternalIdRow]]:
    table, parent = _table(owner)
    rows = await session.execute(
        select(parent, table.system, table.value)
        .where(parent.in_(ids))
        .order_by(parent, table.system)
    )
    grouped: defaultdict[int, list[ExternalIdRow]] = defaultdict(list)
    for parent_id, system, value in rows:
        grouped[parent_id].append(ExternalIdRow(system, value))
    return [grouped.get(i, []) for i in ids]


async def external_ids_of_works(
    session: AsyncSession, work_ids: Sequence[int]
) -> list[list[ExternalIdRow]]:
    """Each work's identifiers, ordered by system; one statement for all works."""
    return await _external_ids(session, Owner.WORK, work_ids)


async def external_ids_of_people(
    session: AsyncSession, person_ids: Sequence[int]
) -> list[list[ExternalIdRow]]:
    """Each person's identifiers, ordered by system; one statement for all people."""
    return await _external_ids(session, Owner.PERSON, person_ids)


async def _by_external_id(
    session: AsyncSession, owner: Owner, keys: Sequence[ExternalKey]
) -> list[Any]:
    table, parent = _table(owner)
    entity = m.Work if owner == Owner.WORK else m.Person
    values: defaultdict[ExternalSystem, set[str]] = defaultdict(set)
    for system, value in keys:
        values[system].add(value)
    if not values:
        return []
    rows = await session.execute(
        select(table.system, table.value, entity)
        .join(entity, entity.id == parent)
        .where(
            or_(
                *(
                    and_(table.system == system, table.value.in_(sorted(wanted)))
                    for system, wanted in values.items()
                )
            )
        )
    )
    found = {(system, value): record for system, value, record in rows}
    return [found.get(key) for key in keys]


async def works_by_external_id(
    session: AsyncSession, keys: Sequence[ExternalKey]
) -> list[m.Work | None]:
    """The work each (system, value) names, or None; one statement for all keys."""
    return await _by_external_id(session, Owner.WORK, keys)


async def people_by_external_id(
    session: AsyncSession, keys: Sequence[ExternalKey]
) -> list[m.Person | None]:
    """The person each (system, value) names, or None; one statement for all keys."""
    return await _by_external_id(session, Owner.PERSON, keys)
