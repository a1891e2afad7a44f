"""Search is served by trigram indexes: FTS5 on SQLite, pg_trgm GIN on PostgreSQL."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest
from sqlalchemy import Float, String, Text, bindparam, cast, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db import models as m
from db import search as s
from db.text import (
    key_length,
    names_section,
    resembles,
    search_document,
    search_key,
    shared_trigrams_needed,
    trigrams,
    word_similarity,
)
from tests.support.sql import query_plan


@pytest.mark.parametrize(
    "query", ["pulgasari", "flower girl", "최익규", "pulgasri", "혈해", "춘", "박학", "kim hyok"]
)
async def test_search_conditions_use_the_trigram_index(session: AsyncSession, query: str) -> None:
    """Hangul of one or two syllables too: FTS5's trigram index reads nothing for a pattern
    under three characters, so keys write each syllable three times (``db.text``)."""
    table = "people" if query in ("최익규", "박학") else "works"
    entity = m.Person if table == "people" else m.Work
    plan = await query_plan(session, select(entity.id).where(s.search_condition(table, query)))
    if session.get_bind().dialect.name == "sqlite":
        assert f"{table}_search VIRTUAL TABLE INDEX" in plan, plan
        if s.FUZZY_MIN_LENGTH <= key_length(search_key(query)) <= s.FUZZY_MAX_LENGTH:
            # typo candidates come from names alone (migration 0017), not names and prose
            assert f"{table}_search_names VIRTUAL TABLE INDEX" in plan, plan
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


async def test_the_names_index_follows_writes(session: AsyncSession) -> None:
    """SQLite's names-only index (migration 0017), kept by triggers, holds the names section
    of every document: after inserts, renames, a new synopsis and deletes, how many rows hold
    each trigram is what the documents' names say (its vocabulary against Python's count)."""
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite only: PostgreSQL reads the names section in SQL")
    works = [
        m.Work(slug=f"names-{i}", title=title, kind="FILM", synopsis=f"A zebra {title}.")
        for i, title in enumerate(["Zebra Crossing", "Quagga Crossing", "Okapi Meadow"])
    ]
    for work in works:
        work.search_text = search_document([work.title], [work.synopsis])
    session.add_all(works)
    await session.flush()
    works[0].title = "Zebu Crossing"
    works[0].search_text = search_document([works[0].title], [works[0].synopsis])
    works[1].synopsis = "A tapir."
    works[1].search_text = search_document([works[1].title], [works[1].synopsis])
    await session.delete(works[2])
    await session.flush()

    for table in s.SEARCHABLE_TABLES:
        documents = (await session.execute(text(f"SELECT search_text FROM {table}"))).scalars()
        expected = Counter(t for d in documents for t in trigrams(names_section(d)))
        vocabulary = await session.execute(
            text(f"SELECT term, doc FROM {table}_search_names_vocab")
        )
        assert {term: doc for term, doc in vocabulary} == dict(expected), table
    # a typo of the renamed title finds it; one of the deleted title, nothing
    zebu = select(m.Work.slug).where(s.search_condition("works", "zebu crosing"))
    assert "names-0" in (await session.execute(zebu)).scalars().all()
    okapi = select(m.Work.slug).where(s.search_condition("works", "okapi medow"))
    assert (await session.execute(okapi)).scalars().all() == []


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


async def test_typo_tolerance_finds_every_resembling_row(session: AsyncSession) -> None:
    """SQLite reads only the rows whose names hold one trigram of each group of the query's
    trigrams that names hold (its names-only index and vocabulary), PostgreSQL those holding
    one trigram of each pigeonhole group: exact pre-filters, so a fuzzy search finds on both
    what checking every row would. Half the rows have prose of the same letters, which holds
    the query's trigrams but is never compared (PostgreSQL skips the comparison for rows
    whose names hold too few trigrams)."""
    rng = random.Random(7)
    alphabet = "aeiokrst"
    names = {"".join(rng.choices(alphabet, k=rng.randint(5, 10))) for _ in range(300)}
    works = []
    for i, name in enumerate(sorted(names)):
        work = m.Work(slug=f"fuzz-{i}", title=name, kind="FILM")
        prose = "".join(rng.choices(alphabet, k=60)) if i % 2 else None
        work.search_text = search_document([name], [prose])
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
        expected = {  # a substring of the prose matches too (ranked as prose)
            i
            for i, doc in documents.items()
            if resembles(key, doc, s.FUZZY_THRESHOLD) or key in doc
        }
        assert found == expected, query
        checked += bool(expected)
    assert checked >= 10  # the queries did find rows, not just agree on none


async def test_a_fuzzy_query_of_unknown_trigrams_finds_nothing(session: AsyncSession) -> None:
    found = select(m.Work.id).where(s.search_condition("works", "qqqqqxxxxx"))
    assert (await session.execute(found)).scalars().all() == []


def compiled(text: str) -> tuple[str, dict[str, object]]:
    """A works search statement as compiled for PostgreSQL, and its parameters."""
    from sqlalchemy.dialects import postgresql

    statement = select(m.Work.id).where(s.search_condition("works", text))
    result = statement.compile(dialect=postgresql.asyncpg.dialect())
    return str(result), dict(result.params)


def test_on_postgresql_the_search_key_is_in_the_statement_not_a_parameter() -> None:
    """Prepared statements are cached per connection, and PostgreSQL may plan a cached one
    once for any parameter value (a generic plan that walks the title index for every key):
    the key is written into the statement, so each key is planned for what it matches."""
    rare, rare_params = compiled("Pulgasari")
    other, _ = compiled("flower girl")
    assert "LIKE '%purkasari%'" in rare, rare
    # the similarity written out for the key (s._typo_similarity_postgresql)
    similarity = "(strpos(n, 'pur') > 0)::integer + (strpos(n, 'urk') > 0)::integer"
    assert similarity in rare and "::double precision / 7) >= 0.6" in rare, rare
    # the names section holds enough of the key's trigrams before the similarity is computed
    names = "CASE WHEN split_part(works.search_text, '/', 1) LIKE '%"
    assert -1 < rare.find(names) < rare.find("strpos(n, "), rare
    assert "purkasari" not in {str(v).strip("%") for v in rare_params.values()}
    assert "'%flowergirl%'" in other and rare != other  # one statement per key
    assert compiled("Pulgasari")[0] == rare  # and the same one for the same key
    short, _ = compiled("혈해")  # below the fuzzy length (two letters): a substring match only
    assert "LIKE '%혈혈혈해해해%'" in short and "strpos" not in short, short
    with pytest.raises(ValueError):
        s._literal("x' OR 1=1 --")


def test_on_postgresql_typo_candidates_hold_one_trigram_of_each_group() -> None:
    """As SQLite's vocabulary pre-filter: a row resembling the key misses at most
    n - needed of its n trigrams, so its names hold one of every n - needed + 1 of them
    (pigeonhole): one of each group of that size, each a lookup in the names' trigram index.
    The groups are runs of the key's trigrams in its own order that together hold them all,
    so a row holding one word of a two-word key misses a group. pg_trgm's own ``<%`` scores
    an extent of the document and would find other rows."""
    names = "split_part(works.search_text, '/', 1)"
    group_pattern = re.escape(f"{names} LIKE '%") + r"\w+%'"
    for query in ("pulgasri", "the flower girls youth", "sonyonjangsoo", "flower girl"):
        sql, _ = compiled(query)
        key = search_key(query)
        spelled = list(dict.fromkeys(key[i : i + 3] for i in range(len(key) - 2)))
        size = len(spelled) - shared_trigrams_needed(len(spelled), s.FUZZY_THRESHOLD) + 1
        groups = [
            re.findall(r"'%(\w+)%'", group)
            for group in re.findall(rf"\(((?:{group_pattern}(?: OR )?)+)\)", sql)
        ]
        assert len(groups) == -(-len(spelled) // size), sql
        for group in groups:
            assert len(group) == size, sql
            first = spelled.index(group[0])
            assert group == spelled[first : first + size], (group, spelled)  # a run
        assert {g for group in groups for g in group} == set(spelled), sql
        assert "<%" not in sql
    flower_girl = compiled("flower girl")[0]
    # "flower" alone (flo, low, owe, wer) holds no trigram of the second run
    assert f"({names} LIKE '%erg%' OR {names} LIKE '%rgi%'" in flower_girl, flower_girl


async def test_both_databases_compute_the_same_similarity(session: AsyncSession) -> None:
    """PostgreSQL's nk_word_similarity (migration 0014) is db.text.word_similarity: the
    scores of typos, and so their order, are the same on both databases."""
    rng = random.Random(11)
    alphabet = "aeiokrst혈해"
    cases = [
        ("purkasri", "|purkasari|/purkasri/"),
        ("혈혈혈해해해", "|혈혈혈|해해해|"),
        ("ab", "|ab|"),
    ]
    for _ in range(60):
        key = "".join(rng.choices(alphabet, k=rng.randint(1, 8)))
        names = ["".join(rng.choices(alphabet, k=rng.randint(0, 10))) for _ in range(3)]
        prose = "".join(rng.choices(alphabet, k=rng.randint(0, 20)))
        cases.append((key, "|" + "|".join(names) + "|" + (f"/{prose}/" if prose else "")))
    for key, document in cases:
        found = await session.scalar(
            text(f"SELECT {s.SIMILARITY_FUNCTION}(:key, :document)"),
            {"key": key, "document": document},
        )
        assert found == word_similarity(key, document), (key, document)


async def test_on_postgresql_the_written_out_similarity_is_the_function(
    session: AsyncSession,
) -> None:
    """The root search and typo tolerance compute a candidate's similarity with the key's
    trigrams written into the statement (``db.search._typo_similarity_postgresql``), not by
    calling nk_word_similarity: the same value, to the last bit, for keys of three
    characters or more (typo tolerance's are five or more)."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite calls db.text.word_similarity")
    rng = random.Random(23)
    alphabet = "aeiokrst혈해"
    cases = [("purkasri", "|purkasari|/purkasri/"), ("혈혈혈해해해", "|혈혈혈|해해해|")]
    cases.append(("kim", ""))
    for _ in range(80):
        key = "".join(rng.choices(alphabet, k=rng.randint(3, 9)))
        names = ["".join(rng.choices(alphabet, k=rng.randint(0, 10))) for _ in range(3)]
        prose = "".join(rng.choices(alphabet, k=rng.randint(0, 20)))
        cases.append((key, "|" + "|".join(names) + "|" + (f"/{prose}/" if prose else "")))
    for key, document in cases:
        for bound in (False, True):  # the key written into the statement, or its parameters
            shape = s.KeyShape(True, True, len(trigrams(key)))
            given = s.key_parameters(key, shape)
            key_sql = s._Key.bound(shape) if bound else s._Key.with_values(key, shape)
            similarity = s._KeyCondition(
                key_sql, lambda k: s._typo_similarity_postgresql("d.search_text", k), Float()
            )
            inner = select(cast(bindparam("document", type_=String()), Text()).label("search_text"))
            statement = select(similarity).select_from(inner.subquery("d"))
            found = await session.scalar(
                statement, {"document": document, **(given if bound else {})}
            )
            assert found == word_similarity(key, document), (key, document, bound)


async def test_prose_ranks_below_every_name(session: AsyncSession) -> None:
    """A word of a synopsis (0.6) comes after names holding it (0.75 and up) and before
    similar spellings (under 0.5)."""
    named = m.Work(slug="kim-hyok-story", title="The Kim Hyok Story", kind="FILM")
    named.search_text = search_document([named.title])
    told = m.Work(slug="told", title="Aardvark", kind="FILM", synopsis="About Kim Hyok.")
    told.search_text = search_document([told.title], [told.synopsis])
    session.add_all([named, told])
    await session.flush()
    hits = await s.search(session, "kim hyok", 5, kinds=("work",))
    ids = [h.id for h in hits]
    assert ids.index(named.id) < ids.index(told.id)
    assert [h.score for h in hits if h.id in (named.id, told.id)] == [0.75, 0.6]


async def test_a_typo_never_scores_as_an_exact_match(session: AsyncSession) -> None:
    hits = await s.search(session, "sea of blod", 5)
    assert hits and hits[0].score < 0.5
    assert all(h.score < 1.0 for h in hits)


async def test_a_key_longer_than_a_name_is_matched_exactly_not_as_a_typo(
    session: AsyncSession,
) -> None:
    """Typo tolerance stops at a name's length: a 200-letter key would make most rows
    candidates, each scored (SECURITY.md), and no name resembles it."""
    long_key = "pulgasari" * 4  # 36 letters: holds Pulgasari's every trigram, names none
    assert key_length(long_key) > s.FUZZY_MAX_LENGTH
    found = (
        await session.execute(select(m.Work.id).where(s.search_condition("works", long_key)))
    ).all()
    assert found == []
    typo = "pulgasary"  # within a name's length: still found as a typo
    found = (
        (await session.execute(select(m.Work.slug).where(s.search_condition("works", typo))))
        .scalars()
        .all()
    )
    assert "pulgasari" in found


async def test_typos_come_only_after_the_rows_holding_the_key(session: AsyncSession) -> None:
    """A page the rows holding the key fill has no typo (SQLite reads the typos only while
    those rows do not fill it, ``db.search._typos_sqlite``; PostgreSQL's ranks are gated
    alike); a longer page has the typos after them."""
    holding = [
        m.Work(slug=f"zanzibar-okapi-{i}", title=f"Zanzibar Okapi {i}", kind="FILM")
        for i in range(3)
    ]
    typo = m.Work(slug="zanzibar-okapx", title="Zanzibar Okapx", kind="FILM")
    for work in (*holding, typo):
        work.search_text = search_document([work.title])
    session.add_all([*holding, typo])
    await session.flush()
    full = await s.search(session, "zanzibar okapi", 3, kinds=("work",))
    assert [h.id for h in full] == [w.id for w in holding]
    longer = await s.search(session, "zanzibar okapi", 4, kinds=("work",))
    assert [h.id for h in longer] == [*(w.id for w in holding), typo.id]
    assert longer[-1].score < 0.5 <= min(h.score for h in longer[:3])
