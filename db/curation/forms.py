"""A write that changes a record's title or name (original or not) restates its typed forms
(``work_titles`` / ``person_names``, issue #22) in the same transaction: the MAIN form, and
the unqualified ORIGINAL one, are the record's own title or name, now stated by the write's
source. So the forms never contradict the record, and an export still loads back
(``db.interchange.format`` checks it). A record with no stated forms keeps none: the API
reads its forms off its fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db import models as m
from db.enums import TitleKind


@dataclass(frozen=True)
class Forms:
    """Where a kind of record keeps its forms: the form table, the table citing each form's
    sources, the owner's column (in both) and the form's key column in the citations."""

    form: Any
    link: Any
    owner: str
    key: str


WORK_TITLES = Forms(m.WorkTitle, m.WorkTitleSource, "work_id", "title_position")
PERSON_NAMES = Forms(m.PersonName, m.PersonNameSource, "person_id", "name_position")


async def restate_forms(
    session: AsyncSession,
    where: Forms,
    owner_id: int,
    texts: dict[TitleKind, str | None],
    source_id: int | None,
) -> None:
    """The record's MAIN / ORIGINAL text is now ``texts[kind]`` (None or "": no such form),
    stated by ``source_id`` (or by no source: the form is then dropped, a form being a
    statement)."""
    form, link = where.form, where.link
    of_owner = getattr(form, where.owner) == owner_id
    if await session.scalar(select(func.count()).select_from(form).where(of_owner)) == 0:
        return
    for kind, text in texts.items():
        condition = of_owner & (form.kind == kind)
        if kind is TitleKind.ORIGINAL:
            condition = condition & form.qualifier.is_(None)
        current = (await session.execute(select(form).where(condition))).scalars().first()
        if current is not None and current.text == text:
            continue
        if current is not None:
            position = current.position
            await session.execute(
                delete(link).where(
                    getattr(link, where.owner) == owner_id, getattr(link, where.key) == position
                )
            )
            if not text or source_id is None:
                await session.execute(delete(form).where(of_owner, form.position == position))
                continue
            await session.execute(
                update(form).where(of_owner, form.position == position).values(text=text)
            )
        else:
            if not text or source_id is None:
                continue
            last = await session.scalar(select(func.max(form.position)).where(of_owner))
            position = (last or 0) + 1
            await session.execute(
                form.__table__.insert().values(
                    **{where.owner: owner_id}, position=position, text=text, kind=kind
                )
            )
        await session.execute(
            link.__table__.insert().values(
                **{where.owner: owner_id, where.key: position},
                source_id=source_id,
                position=0,
            )
        )
    await session.flush()
