"""The machinery every curation write shares: checked text, cited and curator sources, free
slugs, field attribution and the audit ``record`` (which also bumps the catalog version, so
cached answers and ETags change with the catalog)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db import models as m
from db import races, rules
from db.catalog_version import bump_catalog_version
from db.curation.outcome import NOT_FOUND, SLUG_TAKEN, UserError
from db.tokens import curator_source_key


def rowcount(result: Any) -> int:
    """Rows an UPDATE or DELETE matched (the version check is in its WHERE)."""
    return int(result.rowcount)


def checked_text(
    errors: list[UserError], name: str, value: str | None, rule: rules.Rule
) -> str | None:
    """``value`` normalised by ``rule`` (``db.rules``), or None with the problem in ``errors``."""
    if value is None:
        return None
    checked = rule(value)
    if isinstance(checked, rules.Problem):
        errors.append(UserError(("input", name), checked.code, f"{name} {checked.message}"))
        return None
    return checked


async def cited_source(
    session: AsyncSession, key: str | None, errors: list[UserError]
) -> int | None:
    """The id of the source a write cites (None if it cites none), or NOT_FOUND in ``errors``."""
    if key is None:
        return None
    source_id = await session.scalar(select(m.Source.id).where(m.Source.key == key))
    if source_id is None:
        errors.append(UserError(("input", "source"), NOT_FOUND, f"no source with key {key!r}"))
    return source_id


async def curator_source(session: AsyncSession, actor: str) -> tuple[int, str]:
    """The source standing for a curator's own statements (a write that cites no source):
    ``curator-<name>``, created on the curator's first such write."""
    key = curator_source_key(actor)
    found = await session.scalar(select(m.Source.id).where(m.Source.key == key))
    if found is None:
        # Insert-or-get: a curator's first writes may run at once (PostgreSQL); the one that
        # inserts second waits for the first and inserts nothing, then reads the first's row.
        dialect = session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        title = f"Curator {actor} (statements made through the API)"[: m.TEXT_LENGTH]
        await session.execute(
            insert(m.Source)
            .values(key=key, title=title)
            .on_conflict_do_nothing(index_elements=[m.Source.key])
        )
        found = (await session.execute(select(m.Source.id).where(m.Source.key == key))).scalar_one()
    return int(found), key


async def update_versioned(
    session: AsyncSession, entity: Any, row_id: int, version: int, values: dict[str, Any]
) -> bool:
    """Write ``values`` to the row and give it its next version, if it is still at
    ``version``; whether it was (else another writer got there first, between the caller's
    read and this write: the check is in the UPDATE itself, so only one of them wins)."""
    updated = await session.execute(
        update(entity)
        .where(entity.id == row_id, entity.version == version)
        .values(**values, version=entity.version + 1)
        .execution_options(synchronize_session=False)
    )
    return rowcount(updated) == 1


async def delete_versioned(session: AsyncSession, entity: Any, row_id: int, version: int) -> bool:
    """Delete the row if it is still at ``version``; whether it was (``update_versioned``)."""
    deleted = await session.execute(
        delete(entity)
        .where(entity.id == row_id, entity.version == version)
        .execution_options(synchronize_session=False)
    )
    return rowcount(deleted) == 1


async def check_new_slug(
    session: AsyncSession, entity: Any, slug: str, taken: str, errors: list[UserError]
) -> None:
    """The slug a create names must be valid and no other record's of ``entity`` (else the
    problem, or ``taken`` as the message, in ``errors``)."""
    if isinstance(problem := rules.SLUG(slug), rules.Problem):
        errors.append(UserError(("input", "slug"), problem.code, f"slug {problem.message}"))
    elif await session.scalar(select(entity.id).where(entity.slug == slug)) is not None:
        errors.append(UserError(("input", "slug"), SLUG_TAKEN, taken))


async def add_new(
    session: AsyncSession, entity: Any, slug: str | None, base: str, make: Callable[[str], Any]
) -> Any:
    """Add ``make(slug)``: under the ``slug`` given (``check_new_slug``), or with none under
    the first free one made from ``base`` (``add_with_free_slug``)."""
    if slug is None:
        return await add_with_free_slug(session, entity, base, make)
    row = make(slug)
    session.add(row)
    await session.flush()
    return row


SLUG_ATTEMPTS = 50


async def add_with_free_slug(
    session: AsyncSession, entity: Any, base: str, make: Callable[[str], Any]
) -> Any:
    """Add ``make(slug)`` under the first free slug made from ``base`` (``free_slug``).

    A concurrent writer may take that slug between the look-up and the insert (PostgreSQL
    runs writers at once): the insert, in a savepoint, then fails alone and the next free
    slug is looked up, so racing writers that asked for no slug all succeed, each under its
    own. Every retry follows another writer's commit, so this ends; ``SLUG_ATTEMPTS`` bounds
    it all the same (then the collision is the caller's race to answer)."""
    for attempt in range(1, SLUG_ATTEMPTS + 1):
        row = make(await free_slug(session, entity, base))
        try:
            async with session.begin_nested():
                session.add(row)
                await session.flush()
        except IntegrityError as error:
            if attempt == SLUG_ATTEMPTS or not races.is_taken(
                error, f"{entity.__tablename__}.slug"
            ):
                raise
            continue
        return row
    raise AssertionError("unreachable")  # the last attempt returned or raised


async def free_slug(session: AsyncSession, entity: Any, base: str) -> str:
    """``base``, or ``base-2``, ``base-3`` … whichever no record of ``entity`` has; a long
    ``base`` is first cut at a word boundary, so that even suffixed it fits the slug column."""
    base = rules.bounded_slug(base)
    taken = set(
        await session.scalars(
            select(entity.slug).where((entity.slug == base) | entity.slug.like(f"{base}-%"))
        )
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


async def next_position(session: AsyncSession, column: Any, where: Any) -> int:
    """The position after the last of the rows ``where`` selects (0 for none): lists keep
    positions 0 … n-1, and what is added goes last."""
    found = await session.scalar(select(func.coalesce(func.max(column) + 1, 0)).where(where))
    return int(found or 0)


async def add_last(session: AsyncSession, entity: Any, **values: Any) -> None:
    """Add a row of a work's list (``entity``: credits, tags, relations, disputes) after the
    work's last (``next_position``)."""
    of_work = entity.work_id == values["work_id"]
    position = await next_position(session, entity.position, of_work)
    session.add(entity(**values, position=position))
    await session.flush()


@dataclass(frozen=True)
class Sources:
    """Where a kind of record keeps its sources: which source states each field
    (``field_sources``) and the sources it cites, in order (``cited``); ``owner`` names the
    column of both that holds the record's id."""

    field_sources: Any
    cited: Any
    owner: str


async def attribute(
    session: AsyncSession, where: Sources, owner_id: int, fields: list[str], source_id: int | None
) -> None:
    """``fields`` of the record are now stated by ``source_id``, which the record then cites
    (if it did not already); with no source, by no source at all."""
    if not fields:
        return
    stated = where.field_sources
    await session.execute(
        delete(stated).where(getattr(stated, where.owner) == owner_id, stated.field.in_(fields))
    )
    if source_id is not None:
        for field in fields:
            session.add(
                stated(**{where.owner: owner_id}, field=field, source_id=source_id, position=0)
            )
        cited = where.cited
        of_record = getattr(cited, where.owner) == owner_id
        if (
            await session.scalar(
                select(cited.source_id).where(of_record, cited.source_id == source_id)
            )
            is None
        ):
            position = await next_position(session, cited.position, of_record)
            session.add(cited(**{where.owner: owner_id}, source_id=source_id, position=position))
    await session.flush()


async def attributed_to(
    session: AsyncSession, where: Sources, owner_id: int, fields: list[str], source_id: int
) -> bool:
    """Whether each of ``fields`` of the record is attributed to ``source_id`` alone (then
    citing it again would change nothing)."""
    if not fields:
        return True
    stated = where.field_sources
    query = select(stated.field, stated.source_id).where(getattr(stated, where.owner) == owner_id)
    rows = set((await session.execute(query)).all())
    wanted = {(f, source_id) for f in fields}
    return {row for row in rows if row[0] in fields} == wanted


async def record(
    session: AsyncSession,
    actor: str,
    operation: str,
    slug: str,
    source: str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    subject_type: str = "work",
) -> None:
    """One entry of the audit trail (``Query.changes``), and a new catalog version."""
    session.add(
        m.Change(
            at=datetime.now(UTC),
            actor=actor,
            operation=operation,
            subject_type=subject_type,
            subject_slug=slug,
            source_key=source,
            before=json.dumps(before, ensure_ascii=False) if before is not None else None,
            after=json.dumps(after, ensure_ascii=False) if after is not None else None,
        )
    )
    await session.flush()
    await bump_catalog_version(session)
