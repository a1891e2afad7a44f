"""Statements with their own sources for a synthetic catalog (``factories.build_catalog``):
typed titles and names, each cited; a dispute per work that reports a person; relations with
their sources; credits with notes and episode ranges. Bulk inserts, a few statements."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db import models as m
from db.enums import CreditRole, Qualifier, RomanizationSystem, TitleKind, WorkRelationType
from tests.support.factories import Built

SOURCE_ID = 100_000  # build_catalog's one source


async def add_statements(session: AsyncSession, built: Built) -> None:
    works = (
        await session.execute(select(m.Work.id, m.Work.title).where(m.Work.id.in_(built.work_ids)))
    ).all()
    titles: list[dict[str, Any]] = []
    title_sources: list[dict[str, Any]] = []
    disputes: list[dict[str, Any]] = []
    relations: list[dict[str, Any]] = []
    relation_sources: list[dict[str, Any]] = []
    for i, (work_id, title) in enumerate(works):
        forms = [
            (title, TitleKind.MAIN, "en", "Latn", None, None),
            (f"작품 {i}", TitleKind.ORIGINAL, "ko", "Hang", None, Qualifier.PROBABLY),
            (f"Jakpum {i}", TitleKind.TRANSLITERATION, "ko", "Latn", RomanizationSystem.RR, None),
        ]
        for position, (text, kind, language, script, system, qualifier) in enumerate(forms):
            titles.append(
                {
                    "work_id": work_id,
                    "position": position,
                    "text": text,
                    "kind": kind,
                    "language": language,
                    "script": script,
                    "romanization": system,
                    "qualifier": qualifier,
                }
            )
            title_sources.append(
                {
                    "work_id": work_id,
                    "title_position": position,
                    "source_id": SOURCE_ID,
                    "position": 0,
                }
            )
        disputes.append(
            {
                "work_id": work_id,
                "position": 0,
                "field": "directors",
                "stated": "someone",
                "reported": "someone else",
                "source_id": SOURCE_ID,
                "note": None,
                "qualifier": Qualifier.SOMETIMES,
            }
        )
        if i:
            related = works[i - 1][0]
            relations.append(
                {
                    "work_id": work_id,
                    "related_work_id": related,
                    "type": WorkRelationType.EXTENDS,
                    "position": 0,
                }
            )
            relation_sources.append(
                {
                    "work_id": work_id,
                    "related_work_id": related,
                    "type": WorkRelationType.EXTENDS,
                    "source_id": SOURCE_ID,
                    "position": 0,
                }
            )
    await session.execute(insert(m.WorkTitle), titles)
    await session.execute(insert(m.WorkTitleSource), title_sources)
    await session.execute(insert(m.Dispute), disputes)
    if relations:  # a catalog of one work relates nothing
        await session.execute(insert(m.WorkRelation), relations)
        await session.execute(insert(m.WorkRelationSource), relation_sources)
    found = (
        await session.execute(
            select(m.Dispute.id, m.Dispute.work_id).where(m.Dispute.work_id.in_(built.work_ids))
        )
    ).all()
    director_of = dict(
        (
            await session.execute(
                select(m.Credit.work_id, m.Credit.person_id).where(
                    m.Credit.work_id.in_(built.work_ids), m.Credit.role == CreditRole.DIRECTOR
                )
            )
        ).all()
    )
    await session.execute(
        insert(m.DisputePerson),
        [
            {
                "dispute_id": dispute_id,
                "person_id": director_of[work_id],
                "role": CreditRole.DIRECTOR,
                "position": 0,
            }
            for dispute_id, work_id in found
        ],
    )
    names: list[dict[str, Any]] = []
    name_sources: list[dict[str, Any]] = []
    for person_id in built.director_ids:
        names.append(
            {
                "person_id": person_id,
                "position": 0,
                "text": f"감독 {person_id}",
                "kind": TitleKind.ORIGINAL,
                "language": "ko",
                "script": "Hang",
                "romanization": None,
                "qualifier": None,
            }
        )
        name_sources.append(
            {"person_id": person_id, "name_position": 0, "source_id": SOURCE_ID, "position": 0}
        )
    await session.execute(insert(m.PersonName), names)
    await session.execute(insert(m.PersonNameSource), name_sources)
    await session.execute(
        update(m.Credit)
        .where(m.Credit.work_id.in_(built.work_ids), m.Credit.role == CreditRole.WRITER)
        .values(note="Some episodes.", episodes_first=1, episodes_last=10)
    )
    await session.flush()
