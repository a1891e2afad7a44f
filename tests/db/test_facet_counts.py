"""The facet counts the database keeps (migrations 0016 and 0019) equal the live counts after
every write, and facets and totals read from them answer exactly as counting the list does."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, tuple_
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
from tests.support.facet_counts import assert_kept_is_live, kept_counts, live_counts
from tests.support.factories import build_catalog, wipe


async def test_the_kept_counts_follow_every_write_through_the_api(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await assert_kept_is_live(session)  # the seeded catalog (migration's backfill, import)
    curator = Curator(client, await create_token(session, "root", "admin"))

    async def send(query: str, **fields: Any) -> Any:
        body = await curator(query, {"input": fields})
        assert "errors" not in body, body
        payload = next(iter(body["data"].values()))
        assert payload["userErrors"] == [], payload
        await assert_kept_is_live(session)
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
    await assert_kept_is_live(session)
    await session.execute(m.Work.__table__.update().values(year=m.Work.year + 3))
    await assert_kept_is_live(session)
    await session.execute(m.Work.__table__.delete().where(m.Work.id.in_(built.work_ids[::3])))
    await assert_kept_is_live(session)
    await session.execute(
        m.WorkTheme.__table__.delete().where(m.WorkTheme.work_id.in_(built.work_ids[1::3]))
    )
    await assert_kept_is_live(session)


async def _tags(session: AsyncSession) -> set[tuple[int, int]]:
    wt = m.WorkTheme
    return {(int(w), int(t)) for w, t in await session.execute(select(wt.work_id, wt.theme_id))}


@pytest.mark.parametrize("seed", range(3))
async def test_the_kept_counts_follow_random_writes_of_tags_and_works(
    session: AsyncSession, seed: int
) -> None:
    """Statements writing many tags of many works at once (each trigger's transition table
    holds several works, several tags of one work), moving tags to another theme or work,
    renumbering them, and deleting works with their tags: after each, the kept counts are a
    recount."""
    rng = random.Random(seed)
    await wipe(session)
    built = await build_catalog(session, 16)
    works, themes = list(built.work_ids), list(built.theme_ids)
    wt = m.WorkTheme.__table__
    position = 100  # positions no tag has
    for step in range(24):
        tags = sorted(await _tags(session))
        untagged = [(w, t) for w in works for t in themes if (w, t) not in tags]
        operation = step % 6 if step < 12 else rng.randrange(6)
        if operation == 0 and untagged:  # tag: several works, several tags of some
            rows = rng.sample(untagged, min(len(untagged), rng.randint(1, 9)))
            await session.execute(
                wt.insert(),
                [
                    {"work_id": w, "theme_id": t, "position": position + i}
                    for i, (w, t) in enumerate(rows)
                ],
            )
            position += len(rows)
        elif operation == 1 and tags:  # untag: several tags, all of a work's at times
            gone = rng.sample(tags, min(len(tags), rng.randint(1, 9)))
            await session.execute(wt.delete().where(tuple_(wt.c.work_id, wt.c.theme_id).in_(gone)))
        elif operation == 2 and untagged:  # a tag moved to another theme of its work
            w, t = rng.choice(untagged)
            if old := [o for (x, o) in tags if x == w]:
                await session.execute(
                    wt.update()
                    .where(wt.c.work_id == w, wt.c.theme_id == rng.choice(old))
                    .values(theme_id=t)
                )
        elif operation == 3 and untagged:  # a tag moved to another work
            w, t = rng.choice(untagged)
            if owners := [x for (x, o) in tags if o == t and x != w]:
                await session.execute(
                    wt.update()
                    .where(wt.c.work_id == rng.choice(owners), wt.c.theme_id == t)
                    .values(work_id=w)
                )
        elif operation == 4:  # positions alone, and a work's kind and year
            some = rng.sample(works, min(len(works), 5))
            await session.execute(
                wt.update().where(wt.c.work_id.in_(some)).values(position=wt.c.position + 1000)
            )
            await session.execute(
                m.Work.__table__.update()
                .where(m.Work.id.in_(some))
                .values(year=m.Work.year + 7, kind=WorkKind.SERIES)
            )
        elif operation == 5 and len(works) > 8:  # works deleted with their tags
            gone_works = rng.sample(works, 2)
            await session.execute(m.Work.__table__.delete().where(m.Work.id.in_(gone_works)))
            works = [w for w in works if w not in gone_works]
        kept, live = await kept_counts(session), await live_counts(session)
        assert kept == live, (step, operation)
    assert (await live_counts(session))[2]  # the comparison compared something


async def _assert_kept_is_live_or_empty(session: AsyncSession) -> None:
    kept, live = await kept_counts(session), await live_counts(session)
    assert kept == live == (set(), set(), set())


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


ONE_THEME = FILTERS[10:13] + FILTERS[15:16]  # one theme, nothing else (an unknown one too)


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
    one_theme = work_filter in ONE_THEME  # and nothing else: read from theme_pair_counts
    assert one_theme <= (await facet_counts.top_themes(session, work_filter, 3) is not None)
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


async def test_one_themes_top_themes_read_the_kept_pairs(session: AsyncSession) -> None:
    await wipe(session)
    built = await build_catalog(session, 10)
    first, other = built.theme_ids[:2]
    slug = await session.scalar(select(m.Theme.slug).where(m.Theme.id == first))
    # the live count would find other themes; the kept pairs, made up here, are what is read
    await session.execute(m.ThemePairCount.__table__.delete())
    await session.execute(
        m.ThemePairCount.__table__.insert(),
        [
            {"theme_id": first, "other_id": other, "works": 5},
            {"theme_id": first, "other_id": first, "works": 9},
            {"theme_id": other, "other_id": first, "works": 4},
        ],
    )
    kept = await facet_counts.top_themes(session, WorkFilter(theme=slug), 10)
    assert kept is not None
    assert [(t.id, n) for t, n in kept] == [(first, 9), (other, 5)]
    # with another condition, the pairs cannot tell: counted live
    assert await facet_counts.top_themes(session, WorkFilter(theme=slug, year_to=1999), 10) is None


async def test_a_catalog_import_recounts_once_and_exactly(session: AsyncSession) -> None:
    """On PostgreSQL the import defers the triggers and recounts at the end
    (``facet_counts.deferred``); on SQLite the row triggers count as it writes."""
    document = synthetic_catalog(60, seed=11)
    await load_catalogs(session, [("synthetic", document)])
    await assert_kept_is_live(session)
    document["works"][0]["year"] = 1901  # a changed work: updated, its tags rewritten
    document["works"][1]["kind"] = "SERIES" if document["works"][1]["kind"] == "FILM" else "FILM"
    await load_catalogs(session, [("synthetic", document)])
    await assert_kept_is_live(session)
    setting = (
        await session.scalar(select(func.current_setting(facet_counts.DEFER_SETTING, True)))
        if session.get_bind().dialect.name == "postgresql"
        else "off"
    )
    assert setting in ("off", None)  # the rest of the transaction counts again
