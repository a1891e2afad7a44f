"""Search is served by trigram indexes: FTS5 on SQLite, pg_trgm GIN on PostgreSQL."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import models as m
from db import search as s
from db.text import resembles, search_document, search_key, word_similarity
from tests.support.sql import query_plan


@pytest.mark.parametrize("query", ["pulgasari", "flower girl", "최익규", "pulgasri"])
async def test_search_conditions_use_the_trigram_index(session: AsyncSession, query: str) -> None:
    table = "people" if query == "최익규" else "works"
    entity = m.Person if table == "people" else m.Work
    plan = await query_plan(session, select(entity.id).where(s.search_condition(table, query)))
    if session.get_bind().dialect.name == "sqlite":
        assert f"{table}_search VIRTUAL TABLE INDEX" in plan, plan
        # no walk over the base table of any kind (a covering index scan is a walk too)
        walks = [ln for ln in plan.splitlines() if ln.strip().split()[:2] == ["SCAN", table]]
        assert not walks, plan
    else:
        assert f"ix_{table}_search_text_trgm" in plan, plan


async def test_the_search_index_follows_writes(session: AsyncSession) -> None:
    """Inserting, renaming and deleting records keeps the index in step (SQLite triggers)."""
    work = m.Work(slug="zebra-crossing", title="Zebra Crossing", kind="FILM")
    work.search_text = search_document([work.title])
    session.add(work)
    await session.flush()
    found = select(m.Work.slug).where(s.search_condition("works", "zebra"))
    assert (await session.execute(found)).scalars().all() == ["zebra-crossing"]
    work.title = "Quagga Crossing"
    work.search_text = search_document([work.title])
    await session.flush()
    assert (await session.execute(found)).scalars().all() == []
    renamed = select(m.Work.slug).where(s.search_condition("works", "quagga"))
    assert (await session.execute(renamed)).scalars().all() == ["zebra-crossing"]
    await session.delete(work)
    await session.flush()
    assert (await session.execute(renamed)).scalars().all() == []


async def test_ranked_search_orders_whole_names_first(session: AsyncSession) -> None:
    hits = await s.search(session, "the flower girl", 5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].score == 1.0


def test_word_similarity_measures_the_best_name() -> None:
    assert word_similarity("purkasri", "|purkasari|") == pytest.approx(4 / 6)
    assert word_similarity("purkasri", "|x|purkasari|") == pytest.approx(4 / 6)
    assert word_similarity("ab", "|ab|") == 0.0  # too short to have trigrams
    assert word_similarity("zzzzz", "|purkasari|") == 0.0


@pytest.mark.parametrize(
    ("query", "names", "expected"),
    [
        ("pulgasari", ["Pulgasari", "Bulgasari"], "Pulgasari"),
        ("bulga", ["Pulgasari", "불가사리"], "Pulgasari"),
        ("불가", ["Pulgasari", "불가사리"], "불가사리"),
        ("choi ik kyu", ["Choe Ik-kyu", "Choi Ik Kyu"], "Choe Ik-kyu"),
        ("kotpanun", ["The Flower Girl", "꽃파는 처녀", "Kotpanun Chonio"], "Kotpanun Chonio"),
        ("pulgasri", ["Pulgasari"], "Pulgasari"),
    ],
)
def test_best_name(query: str, names: list[str], expected: str) -> None:
    assert s.best_name(query, names) == expected


async def test_typo_tolerance_on_sqlite_finds_every_resembling_row(session: AsyncSession) -> None:
    """SQLite reads only the rows holding one of the query's rarest trigrams (its search
    vocabulary): an exact pre-filter, so a fuzzy search finds what checking every row would."""
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("the vocabulary pre-filter is SQLite's; PostgreSQL matches with pg_trgm's <%")
    rng = random.Random(7)
    alphabet = "aeiokrst"
    names = {"".join(rng.choices(alphabet, k=rng.randint(5, 10))) for _ in range(300)}
    works = []
    for i, name in enumerate(sorted(names)):
        work = m.Work(slug=f"fuzz-{i}", title=name, kind="FILM")
        work.search_text = search_document([name])
        works.append(work)
    session.add_all(works)
    await session.flush()
    documents = {w.id: w.search_text for w in works}
    checked = 0
    for _ in range(150):
        query = "".join(rng.choices(alphabet, k=rng.randint(5, 8)))
        key = search_key(query)
        if len(key) < s.FUZZY_MIN_LENGTH:
            continue
        found = set(
            (
                await session.execute(
                    select(m.Work.id).where(
                        m.Work.id.in_(documents), s.search_condition("works", query)
                    )
                )
            ).scalars()
        )
        expected = {i for i, doc in documents.items() if resembles(key, doc, s.FUZZY_THRESHOLD)}
        assert found == expected, query
        checked += bool(expected)
    assert checked >= 10  # the queries did find rows, not just agree on none


async def test_a_fuzzy_query_of_unknown_trigrams_finds_nothing(session: AsyncSession) -> None:
    found = select(m.Work.id).where(s.search_condition("works", "qqqqqxxxxx"))
    assert (await session.execute(found)).scalars().all() == []


def test_on_postgresql_the_search_key_is_in_the_statement_not_a_parameter() -> None:
    """Prepared statements are cached per connection, and PostgreSQL may plan a cached one
    once for any parameter value (a generic plan that walks the title index for every key):
    the key is written into the statement, so each key is planned for what it matches."""
    from sqlalchemy.dialects import postgresql

    def compiled(text: str) -> tuple[str, dict[str, object]]:
        statement = select(m.Work.id).where(s.search_condition("works", text))
        result = statement.compile(dialect=postgresql.asyncpg.dialect())
        return str(result), dict(result.params)

    rare, rare_params = compiled("Pulgasari")
    other, _ = compiled("flower girl")
    assert "LIKE '%purkasari%'" in rare and "'purkasari' <% works.search_text" in rare, rare
    assert "purkasari" not in {str(v).strip("%") for v in rare_params.values()}
    assert "'frowerkir'" in other and rare != other  # one statement per key
    assert compiled("Pulgasari")[0] == rare  # and the same one for the same key
    short, _ = compiled("혈해")  # below the fuzzy length: a substring match only
    assert "LIKE '%혈해%'" in short and "<%" not in short, short
    with pytest.raises(ValueError):
        s._literal("x' OR 1=1 --")
