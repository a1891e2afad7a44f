"""The benchmark's catalog (``bench.catalog``): the seed generator's, loaded as ``nkcinema seed``
loads it; its row counts and rankings are what the database holds once it is loaded."""

from __future__ import annotations

from sqlalchemy import func, select, table

from bench import databases
from bench.catalog import build_catalog
from db import models as m
from db.engine import create_engine
from db.interchange.format import dump_catalog
from seeds.synthetic import synthetic_catalog

WORKS = 300


def test_the_catalog_is_the_seed_generators() -> None:
    catalog = build_catalog(WORKS, seed=5)
    assert dump_catalog(catalog.document) == dump_catalog(synthetic_catalog(WORKS, 5))
    assert catalog.works == WORKS
    assert catalog.work_slugs == [w["slug"] for w in catalog.document["works"]]


def test_the_rankings_are_by_works_most_first() -> None:
    catalog = build_catalog(WORKS)
    for ranking in (catalog.directors_by_works, catalog.themes_by_works):
        counts = [n for _, n in ranking]
        assert counts == sorted(counts, reverse=True)
        assert len({slug for slug, _ in ranking}) == len(ranking)
    directed = sum(
        1 for w in catalog.document["works"] for c in w["credits"] if c["role"] == "DIRECTOR"
    )
    assert sum(n for _, n in catalog.directors_by_works) == directed


async def test_loading_writes_the_counted_rows_and_the_ranked_works(
    migrated_database: str,
) -> None:
    catalog = build_catalog(WORKS)
    engine = create_engine(migrated_database)
    try:
        await databases.load(engine, catalog)
        async with engine.connect() as connection:
            for name, expected in catalog.counts().items():
                count = select(func.count()).select_from(table(name))
                assert (await connection.scalar(count), name) == (expected, name)
            slug, works = catalog.directors_by_works[0]
            directed = (
                select(func.count())
                .select_from(m.Credit)
                .join(m.Person, m.Person.id == m.Credit.person_id)
                .where(m.Person.slug == slug, m.Credit.role == "DIRECTOR")
            )
            assert await connection.scalar(directed) == works
    finally:
        await engine.dispose()
