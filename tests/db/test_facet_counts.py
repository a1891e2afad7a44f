"""The facet counts the database keeps (migration 0016) equal the live counts after every write,
and facets and totals read from them answer exactly as counting the list does."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import facet_counts, facets
from db import models as m
from db.enums import WorkKind
from db.interchange.load import load_catalogs
from db.pagination import count_rows
from db.queries import Match, WorkFilter, works_query
from db.tokens import create_token
from seeds.synthetic import synthetic_catalog
from tests.support.curation import CREATE, DELETE, TAG, UNTAG, UPDATE, Curator
from tests.support.factories import build_catalog, wipe


async def _kept(session: AsyncSession) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    wc, tc = m.WorkCount, m.ThemeWorkCount
    works = set(await session.execute(select(wc.kind, wc.year, wc.works)))
    tags = set(await session.execute(select(tc.theme_id, tc.kind, tc.decade, tc.works)))
    return {tuple(r) for r in works}, {tuple(r) for r in tags}


async def _live(session: AsyncSession) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    w = m.Work
    year = func.coalesce(w.year, m.UNKNOWN_YEAR)
    works = await session.execute(select(w.kind, year, func.count()).group_by(w.kind, year))
    decade = func.coalesce((w.year // 10) * 10, m.UNKNOWN_YEAR)
    tags = await session.execute(
        select(m.WorkTheme.theme_id, w.kind, decade, func.count())
        .join(w, w.id == m.WorkTheme.work_id)
        .group_by(m.WorkTheme.theme_id, w.kind, decade)
    )
    return (
        {(WorkKind(k).value, int(y), int(n)) for k, y, n in works},
        {(int(t), WorkKind(k).value, int(d), int(n)) for t, k, d, n in tags},
    )


async def _assert_kept_is_live(session: AsyncSession) -> None:
    kept, live = await _kept(session), await _live(session)
    assert kept[0] == live[0]
    assert kept[1] == live[1]
    assert live[0] and live[1]  # the comparison compares something


async def test_the_kept_counts_follow_every_write_through_the_api(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await _assert_kept_is_live(session)  # the seeded catalog (migration's backfill, import)
    curator = Curator(client, await create_token(session, "root", "admin"))

    async def send(query: str, **fields: Any) -> Any:
        body = await curator(query, {"input": fields})
        assert "errors" not in body, body
        payload = next(iter(body["data"].values()))
        assert payload["userErrors"] == [], payload
        await _assert_kept_is_live(session)
        return payload

    work = (await send(CREATE, title="Counted", kind="FILM", year=1975))["work"]
    family = await send(TAG, slug=work["slug"], version=work["version"], theme="family")
    youth = await send(TAG, slug=work["slug"], version=family["work"]["version"], theme="youth")
    moved = await send(
        UPDATE, slug=work["slug"], version=youth["work"]["version"], kind="SERIES", year=1991
    )
    unknown = await send(UPDATE, slug=work["slug"], version=moved["work"]["version"], year=None)
    untagged = await send(
        UNTAG, slug=work["slug"], version=unknown["work"]["version"], theme="family"
    )
    await send(DELETE, slug=work["slug"], version=untagged["work"]["version"])
    # a seeded work with its tags, credits and everything else
    sea = (await curator('{ work(slug: "sea-of-blood") { version } }'))["data"]["work"]
    await send(DELETE, slug="sea-of-blood", version=sea["version"])


async def test_the_kept_counts_follow_bulk_writes_and_deletes(session: AsyncSession) -> None:
    await wipe(session)
    await _assert_kept_is_live_or_empty(session)
    built = await build_catalog(session, 30)
    await _assert_kept_is_live(session)
    await session.execute(m.Work.__table__.update().values(year=m.Work.year + 3))
    await _assert_kept_is_live(session)
    await session.execute(m.Work.__table__.delete().where(m.Work.id.in_(built.work_ids[::3])))
    await _assert_kept_is_live(session)
    await session.execute(
        m.WorkTheme.__table__.delete().where(m.WorkTheme.work_id.in_(built.work_ids[1::3]))
    )
    await _assert_kept_is_live(session)


async def _assert_kept_is_live_or_empty(session: AsyncSession) -> None:
    kept, live = await _kept(session), await _live(session)
    assert kept == live == (set(), set())


FILTERS = [
    None,
    WorkFilter(),
    WorkFilter(kind=WorkKind.FILM),
    WorkFilter(kinds=(WorkKind.FILM, WorkKind.SERIES)),
    WorkFilter(kind=WorkKind.FILM, kinds=(WorkKind.SERIES,)),
    WorkFilter(kinds=()),
    WorkFilter(year_from=1970, year_to=1989),
    WorkFilter(year_from=1975),
    WorkFilter(year_to=1994),
    WorkFilter(kind=WorkKind.SERIES, year_from=1960, year_to=2009),
    WorkFilter(theme="theme-1"),
    WorkFilter(themes=("theme-2",), themes_match=Match.ALL),
    WorkFilter(theme="theme-2", themes=("theme-2",)),
    WorkFilter(theme="theme-1", kind=WorkKind.FILM, year_from=1980, year_to=1999),
    WorkFilter(theme="theme-1", year_from=1985),
    WorkFilter(theme="no-such-theme"),
    WorkFilter(themes=("theme-1", "theme-2")),
    WorkFilter(has_disputes=False),
    WorkFilter(search="work"),
]


@pytest.mark.parametrize("work_filter", FILTERS, ids=repr)
async def test_facets_from_the_kept_counts_are_the_live_ones(
    session: AsyncSession, work_filter: WorkFilter | None
) -> None:
    await wipe(session)
    await build_catalog(session, 40)  # unknown years among them
    query = works_query(work_filter)
    live = (await facets.kinds_and_decades(session, query))[0]
    kept = await facet_counts.kinds_and_decades(session, work_filter)
    assert kept is None or (kept.kinds, kept.decades) == (live.kinds, live.decades)
    for limit in (0, 3, 100):
        live_themes = (await facets.top_themes(session, query, limit))[0]
        kept_themes = await facet_counts.top_themes(session, work_filter, limit)
        assert kept_themes is None or [(t.id, n) for t, n in kept_themes] == [
            (t.id, n) for t, n in live_themes
        ]
    assert await facet_counts.count_works(session, work_filter) == await count_rows(session, query)
    served = facet_counts.counted(work_filter) is not None
    assert served == (
        work_filter is None
        or (
            (work_filter.has_disputes, work_filter.search) == (None, None)
            and work_filter.themes not in [(), ("theme-1", "theme-2")]
        )
    )


async def test_whole_catalog_facets_read_the_kept_counts(session: AsyncSession) -> None:
    await wipe(session)
    await build_catalog(session, 10)
    # the live count would find these works; the kept counts, made up here, are what is read
    await session.execute(m.WorkCount.__table__.delete())
    await session.execute(m.WorkCount.__table__.insert().values(kind="FILM", year=1901, works=7))
    kept = await facet_counts.kinds_and_decades(session, None)
    assert kept is not None
    assert (kept.kinds, kept.decades) == ([(WorkKind.FILM, 7)], [(1900, 7)])


async def test_a_catalog_import_recounts_once_and_exactly(session: AsyncSession) -> None:
    """On PostgreSQL the import defers the triggers and recounts at the end
    (``facet_counts.deferred``); on SQLite the row triggers count as it writes."""
    document = synthetic_catalog(60, seed=11)
    await load_catalogs(session, [("synthetic", document)])
    await _assert_kept_is_live(session)
    document["works"][0]["year"] = 1901  # a changed work: updated, its tags rewritten
    document["works"][1]["kind"] = "SERIES" if document["works"][1]["kind"] == "FILM" else "FILM"
    await load_catalogs(session, [("synthetic", document)])
    await _assert_kept_is_live(session)
    setting = (
        await session.scalar(select(func.current_setting(facet_counts.DEFER_SETTING, True)))
        if session.get_bind().dialect.name == "postgresql"
        else "off"
    )
    assert setting in ("off", None)  # the rest of the transaction counts again
