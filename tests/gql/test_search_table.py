"""Searches explorers type, each with the record it must find first (issue #22's table).

Romanization variants (MR, RR, hyphenless, informal), Hangul fragments of one to three
syllables, English words, words of synopses, biographies and notes, typos, and the people
only the references name. Each runs over GraphQL on the backend under test; on PostgreSQL
the whole table also runs on a SQLite copy of the catalog, and both must answer the same
hits in the same order with the same scores and matched names.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cli import _run, migrate
from db.engine import create_engine, session_factory
from seeds import seed
from settings import Settings
from tests.support.client import app_client
from tests.support.databases import backend_name
from tests.support.graphql import GraphQL


@dataclass(frozen=True)
class Row:
    query: str
    kind: str  # "Work" | "Person" | "Theme"
    slug: str
    typo: bool = False  # then it must score below an exact match (and below any prose)
    titles: bool = False  # found by a typed title (Work.titles) only


R = Row
TABLE = (
    # romanization variants: MR, RR, hyphenless, informal, generated forms of Hangul titles
    R("choi ik kyu", "Person", "choe-ik-kyu"),
    R("Ch'oe Ik-kyu", "Person", "choe-ik-kyu"),
    R("choe ikgyu", "Person", "choe-ik-kyu"),
    R("bulgasari", "Work", "pulgasari"),
    R("pulgasary", "Work", "pulgasari"),
    R("kkot paneun cheonyeo", "Work", "the-flower-girl"),
    R("Kkot P'anŭn Ch'ŏnyŏ", "Work", "the-flower-girl"),
    R("sonyeonjangsu", "Work", "boy-commander"),
    R("chunhyangjeon", "Work", "the-tale-of-chun-hyang"),
    R("han nyeohaksaengui ilgi", "Work", "the-schoolgirls-diary"),
    R("naega bon nara", "Work", "the-country-i-saw"),
    R("naega pon nara", "Work", "the-country-i-saw"),
    R("hyeolhae", "Work", "sea-of-blood"),
    R("shin sang ok", "Person", "shin-sang-ok"),
    R("park hak", "Person", "pak-hak"),
    R("lee yong bok", "Person", "ri-yong-bok"),
    # Hangul fragments of one to three syllables
    R("혈해", "Work", "sea-of-blood"),
    R("박학", "Person", "pak-hak"),
    R("춘향", "Work", "the-tale-of-chun-hyang"),
    R("춘", "Work", "the-tale-of-chun-hyang"),
    R("꽃파는", "Work", "the-flower-girl"),
    R("처녀", "Work", "the-flower-girl"),
    R("소년", "Work", "boy-commander"),
    R("내가 본", "Work", "the-country-i-saw"),
    R("정건조", "Person", "chong-gon-jo"),
    # English words (not folded as if they were romanized Korean)
    R("girl", "Work", "the-flower-girl"),
    R("flower girl", "Work", "the-flower-girl"),
    R("boy general", "Work", "boy-commander"),
    R("traffic", "Work", "a-traffic-controller-on-crossroads"),
    R("schoolgirl", "Work", "the-schoolgirls-diary"),
    R("respected mother", "Work", "the-respected-mother"),
    # words of synopses, biographies and notes
    R("kim hyok", "Work", "boy-commander"),
    R("opera", "Work", "sea-of-blood"),
    R("kidnapped", "Person", "shin-sang-ok"),
    R("folk tale", "Work", "the-tale-of-chun-hyang"),
    R("brother of kim jong un", "Person", "kim-jong-chul"),
    # typos
    R("sea of blod", "Work", "sea-of-blood", typo=True),
    R("pulgasri", "Work", "pulgasari", typo=True),
    R("flowr girl", "Work", "the-flower-girl", typo=True),
    R("chunhyng", "Work", "the-tale-of-chun-hyang", typo=True),
    R("schoolgirl diery", "Work", "the-schoolgirls-diary", typo=True),
    # people only the references name (records #22 adds from the reference file)
    R("Yun Ryong-gyu", "Person", "yun-ryong-gyu"),
    R("윤룡규", "Person", "yun-ryong-gyu"),
    R("Pak Jong-ju", "Person", "pak-jong-ju"),
    R("박정주", "Person", "pak-jong-ju"),
    R("Ko Yong-hui", "Person", "ko-yong-hui"),
    R("Kim Jun-ok", "Person", "kim-jun-ok"),
    R("Yu Won-jun", "Person", "yu-won-jun"),
    R("Ri Yong-chun", "Person", "ri-yong-chun"),
    R("koh young hee", "Person", "ko-yong-hui"),
    # titles only the references give (typed titles #22 adds): Hangul, its generated RR form
    R("네거리 초병", "Work", "a-traffic-controller-on-crossroads", titles=True),
    R("negeori chobyeong", "Work", "a-traffic-controller-on-crossroads", titles=True),
    R("선군조선", "Work", "the-respected-mother", titles=True),
)

HITS = """query($q: String!) {
  searchHits(query: $q, first: 10) {
    score matchedText
    node { __typename ... on Work { slug } ... on Person { slug } ... on Theme { slug } }
  }
}"""


def _hits(data: Any) -> list[tuple[str, str, float, str]]:
    return [
        (h["node"]["__typename"], h["node"]["slug"], h["score"], h["matchedText"])
        for h in data["searchHits"]
    ]


def test_the_table_is_big_enough_and_covers_every_kind_of_search() -> None:
    assert len(TABLE) >= 30
    assert len({row.query for row in TABLE}) == len(TABLE)
    assert sum(row.typo for row in TABLE) >= 3


@pytest.mark.parametrize("row", TABLE, ids=[row.query for row in TABLE])
async def test_the_right_record_comes_first(gql: GraphQL, row: Row) -> None:
    hits = _hits(await gql(HITS, {"q": row.query}))
    assert hits, f"{row.query!r} finds nothing"
    kind, slug, score, _ = hits[0]
    assert (kind, slug) == (row.kind, row.slug), hits
    scores = [hit[2] for hit in hits]
    assert scores == sorted(scores, reverse=True)
    if row.typo:
        assert score < 0.5, hits  # a similar spelling never scores as an exact match


async def test_an_english_word_is_not_folded_into_a_korean_name(gql: GraphQL) -> None:
    """``girl`` folded as romanized Korean (g -> k, l -> r) was Kim Kil-in's ``kir``."""
    hits = _hits(await gql(HITS, {"q": "girl"}))
    assert ("Person", "kim-kil-in") not in [(kind, slug) for kind, slug, _, _ in hits]


# -- the same answers on both databases --------------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The bundled catalog on SQLite, beside the PostgreSQL one under test."""
    if backend_name() != "postgresql":
        pytest.skip("compares PostgreSQL with SQLite: run the suite with TEST_DATABASE_URL")
    path: Path = tmp_path_factory.mktemp("sqlite-catalog") / "catalog.db"
    url = f"sqlite:///{path}"
    migrate(url)
    _run(lambda engine: seed(session_factory(engine)), url)
    yield url


@pytest.fixture
async def sqlite_gql(sqlite_catalog: str) -> AsyncIterator[GraphQL]:
    engine = create_engine(sqlite_catalog)
    try:
        sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        settings = Settings(database_url=sqlite_catalog)
        async with app_client(settings, engine=engine, sessions=sessions) as c:
            yield GraphQL(c)
    finally:
        await engine.dispose()


async def test_sqlite_and_postgresql_answer_the_table_alike(
    gql: GraphQL, sqlite_gql: GraphQL
) -> None:
    for row in TABLE:
        on_postgresql = _hits(await gql(HITS, {"q": row.query}))
        on_sqlite = _hits(await sqlite_gql(HITS, {"q": row.query}))
        assert on_postgresql == on_sqlite, row.query
