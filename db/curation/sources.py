"""New sources that statements and disputes can cite. The ``curator-`` keys are reserved:
those sources stand for curators' own statements and are made for them
(``db.curation.common.curator_source``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import models as m
from db import rules
from db.curation.common import checked_text, record
from db.curation.outcome import RESERVED, SLUG_TAKEN, Outcome, UserError
from db.tokens import CURATOR_KEY_PREFIX


async def _source(session: AsyncSession, key: str) -> int | None:
    found = await session.scalar(select(m.Source.id).where(m.Source.key == key))
    return int(found) if found is not None else None


async def create_source(
    session: AsyncSession, actor: str, key: str, title: str, url: str | None
) -> Outcome:
    errors: list[UserError] = []
    checked_key = checked_text(errors, "key", key, rules.SOURCE_KEY)
    if checked_key is not None and checked_key.casefold().startswith(CURATOR_KEY_PREFIX):
        errors.append(
            UserError(
                ("input", "key"),
                RESERVED,
                f"keys starting {CURATOR_KEY_PREFIX!r} are the curators' own sources, made for "
                "them",
            )
        )
    elif checked_key is not None and await _source(session, checked_key) is not None:
        errors.append(UserError(("input", "key"), SLUG_TAKEN, f"a source has key {key!r}"))
    checked_title = checked_text(errors, "title", title, rules.NAME)
    if url is not None:
        url = checked_text(errors, "url", url, rules.URL)
    if errors or checked_key is None or checked_title is None:
        return Outcome(errors=errors)
    key, title = checked_key, checked_title
    source = m.Source(key=key, title=title, url=url)
    session.add(source)
    await session.flush()
    after = {"key": key, "title": title, "url": url}
    await record(session, actor, "createSource", key, None, None, after, subject_type="source")
    return Outcome(record=source)
