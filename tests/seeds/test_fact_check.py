"""Every finding of the reference file (``shared/reference/fact-check.md``) is served over
GraphQL, attributed exactly to the page(s) that state it; every agreement to the seed and the
references; and no reference is credited with a value this table does not give it.

Which page states a value was looked up in the pages themselves: where a work has two
addresses, a value is attributed to the one(s) that state it; a value the file lists with no
address (the "People" and "Other titles" sections), or that no listed page could be found
to state (a romanization on a Korean-language page, say), is attributed to the source
``fact-check``. The file's findings about parts, dated events, forms, audience and studios
are tested beside this, in ``test_fact_check_structure.py``.
"""

from __future__ import annotations

import pytest

from tests.support.findings import Finding, Records, check, served_pairs, table_pairs
from tests.support.graphql import GraphQL

SEED = "seed-document"
FC = "fact-check"
WP_FG, IMDB_FG = "wp-the-flower-girl", "imdb-tt0168937"
WP_SOB, WP_CHOE, IMDB_SD = "wp-sea-of-blood", "wp-choe-ik-gyu", "imdb-tt0862677"
WP_SD, WP_PUL = "wp-the-schoolgirls-diary", "wp-pulgasari"
FNC, MIFF = "nouveaucinema-the-tale-of-chun-hyang", "miff-24821"
NKS, N38 = "nks-1384", "38north-jlewis083012"
IMDB_TC, YNA = "imdb-tt4309644", "yna-akr20200217145100504"
DNK = "dailynk-mother-of-militaryfirst-chosun-mad"


def W(slug: str, what: str, value: str, *sources: str, **more: object) -> Finding:
    return Finding("work", slug, what, value, sources, **more)  # type: ignore[arg-type]


def P(slug: str, what: str, value: str, *sources: str, **more: object) -> Finding:
    return Finding("person", slug, what, value, sources, **more)  # type: ignore[arg-type]


FG, SOB, SD, PUL = "the-flower-girl", "sea-of-blood", "the-schoolgirls-diary", "pulgasari"
CH, CIS, TC = "the-tale-of-chun-hyang", "the-country-i-saw", "a-traffic-controller-on-crossroads"
BC, RM = "boy-commander", "the-respected-mother"

FINDINGS = [
    # -- The Flower Girl: agrees (film, 1972, Choe Ik-gyu); co-director Pak Hak -------------
    W(FG, "title", "꽃파는 처녀", WP_FG, kind="ORIGINAL"),
    W(FG, "title", "Kkot P'anŭn Ch'ŏnyŏ", WP_FG),
    W(FG, "kind", "FILM", SEED, WP_FG, IMDB_FG),
    W(FG, "year", "1972", SEED, WP_FG, IMDB_FG),
    W(FG, "credit", "choe-ik-kyu DIRECTOR", SEED, WP_FG, IMDB_FG),
    W(FG, "credit", "pak-hak DIRECTOR", WP_FG, IMDB_FG),
    W(FG, "title", "Kotpanun Chonio", FC),
    # -- Sea of Blood: year (1969; some say 1968) and director disputed ----------------------
    W(SOB, "title", "피바다", WP_SOB, kind="ORIGINAL"),
    W(SOB, "title", "P'ibada", WP_SOB),
    W(SOB, "title", "Pibada", WP_SOB),
    W(SOB, "title", "혈해", WP_SOB, kind="ALTERNATIVE"),
    W(SOB, "dispute", "year=1969", WP_SOB, note="1971 is the premiere of the opera"),
    W(SOB, "dispute", "year=1968", WP_CHOE, qualifier="SOMETIMES"),
    W(
        SOB,
        "dispute",
        "directors=Choe Ik-gyu",
        WP_CHOE,
        reported_people=("choe-ik-kyu DIRECTOR",),
    ),
    P("choe-ik-kyu", "reported", "sea-of-blood DIRECTOR", WP_CHOE),
    # -- The Schoolgirl's Diary: director agrees --------------------------------------------
    W(SD, "title", "한 녀학생의 일기", WP_SD, kind="ORIGINAL"),
    W(SD, "title", "Han Nyŏhaksaengŭi Ilgi", WP_SD),
    W(SD, "credit", "jang-in-hak DIRECTOR", SEED, WP_SD),
    W(SD, "title", "A Schoolgirl's Diary", FC),
    W(SD, "title", "The Journal of a Schoolgirl", WP_SD),
    # -- Pulgasari: 1985 agrees; Chong Gon-jo, who holds the screen credit ------------------
    W(PUL, "title", "불가사리", WP_PUL, kind="ORIGINAL"),
    W(PUL, "title", "Pulgasari", SEED, kind="MAIN"),
    W(PUL, "title", "Bulgasari", WP_PUL),
    W(PUL, "year", "1985", SEED, WP_PUL),
    W(PUL, "credit", "shin-sang-ok DIRECTOR", SEED, WP_PUL),
    W(PUL, "credit", "chong-gon-jo DIRECTOR", WP_PUL, note="screen credit"),
    W(PUL, "title", "Pulgasary", FC),
    # -- The Tale of Chun Hyang: film, 1980 agree; directors disputed -----------------------
    W(CH, "title", "춘향전", FC, kind="ORIGINAL"),
    W(CH, "title", "Ch'unhyangjŏn", FC),
    W(CH, "kind", "FILM", SEED, FNC, MIFF),
    W(CH, "year", "1980", SEED, FNC, MIFF),
    W(
        CH,
        "dispute",
        "directors=Yu Won-jun, Yun Ryong-gyu",
        FNC,
        note="Hong Kil-dong (1986)",
        reported_people=("yu-won-jun DIRECTOR", "yun-ryong-gyu DIRECTOR"),
    ),
    P("yu-won-jun", "name", "Yu Won-jun", FNC, kind="MAIN"),
    P("yu-won-jun", "reported", "the-tale-of-chun-hyang DIRECTOR", FNC),
    P("yun-ryong-gyu", "name", "Yun Ryong-gyu", FNC, kind="MAIN"),
    P("yun-ryong-gyu", "name", "윤룡규", FC, kind="ORIGINAL"),
    P("yun-ryong-gyu", "reported", "the-tale-of-chun-hyang DIRECTOR", FNC),
    # -- The Country I Saw: a five-part film; 1988 or 1987; director 박정주 --------------------
    W(CIS, "title", "내가 본 나라", NKS, kind="ORIGINAL"),
    W(CIS, "dispute", "kind=FILM", NKS, note="five-part"),
    W(CIS, "dispute", "year=1988", NKS, qualifier="SOMETIMES", note="1987 by others"),
    W(CIS, "year", "1987", SEED, N38),
    W(CIS, "dispute", "directors=박정주", NKS, reported_people=("pak-jong-ju DIRECTOR",)),
    P("pak-jong-ju", "name", "박정주", NKS, kind="ORIGINAL"),
    P("pak-jong-ju", "reported", "the-country-i-saw DIRECTOR", NKS),
    # -- A Traffic Controller on Crossroads: a 1986 feature film, probably 네거리 초병 --------
    W(TC, "title", "네거리 초병", FC, kind="ORIGINAL", qualifier="PROBABLY"),
    W(TC, "dispute", "kind=FILM", IMDB_TC, note="director was not found"),
    W(TC, "dispute", "year=1986", IMDB_TC),
    # -- Boy Commander / Boy General ---------------------------------------------------------
    W(BC, "title", "소년장수", YNA, kind="ORIGINAL"),
    W(BC, "title", "Sonyeonjangsu", FC),
    W(BC, "title", "Boy General", FC),
    W(
        BC,
        "dispute",
        "year=1982–1997 (episodes 1–50); 2015–2019 (episodes 51–100)",
        YNA,
        note="animated TV series",
    ),
    W(
        BC,
        "dispute",
        "directors=Kim Jun-ok (production lead)",
        YNA,
        reported_people=("kim-jun-ok PRODUCTION_LEAD",),
    ),
    W(BC, "credit", "kim-jun-ok PRODUCTION_LEAD", YNA),
    W(BC, "credit", "ri-yong-chun WRITER", YNA, episodes="51-100"),
    P("kim-jun-ok", "name", "Kim Jun-ok", FC, kind="MAIN"),
    P("kim-jun-ok", "name", "김준옥", YNA, kind="ORIGINAL"),
    P("kim-jun-ok", "reported", "boy-commander PRODUCTION_LEAD", YNA),
    P("ri-yong-chun", "name", "Ri Yong-chun", FC, kind="MAIN"),
    P("ri-yong-chun", "name", "리영춘", YNA, kind="ORIGINAL"),
    W(BC, "title", "The Boy General", FC),
    W(BC, "title", "Young Commander", FC),
    # -- The Respected Mother: closest match, a 2011 documentary about Ko Yong-hui ----------
    W(RM, "title", "위대한 선군조선의 어머님", FC, kind="ORIGINAL", qualifier="UNCONFIRMED"),
    W(
        RM,
        "title",
        "The Mother of Great Military-first Chosun",
        DNK,
        kind="TRANSLATION",
        qualifier="UNCONFIRMED",
    ),
    W(RM, "dispute", "kind=FILM", DNK, qualifier="UNCONFIRMED", note="documentary"),
    W(RM, "dispute", "year=2011", DNK, qualifier="UNCONFIRMED", note="leaked in 2012"),
    W(RM, "dispute", "directors=no director credited", DNK, qualifier="UNCONFIRMED"),
    W(RM, "credit", "ko-yong-hui SUBJECT", DNK, qualifier="UNCONFIRMED"),
    P("ko-yong-hui", "name", "Ko Yong-hui", FC, kind="MAIN"),
    P("ko-yong-hui", "name", "Koh Young Hee", DNK, kind="ALTERNATIVE"),
    # -- People ----------------------------------------------------------------------------
    P("choe-ik-kyu", "name", "최익규", WP_CHOE, kind="ORIGINAL"),
    P("choe-ik-kyu", "name", "Choe Ik-gyu", WP_CHOE),
    P("choe-ik-kyu", "name", "Ch'oe Ik-kyu", WP_CHOE),
    P("choe-ik-kyu", "name", "Choi Ik Kyu", FC),
    P("choe-ik-kyu", "name", "Ik-gyu Choe", IMDB_SD),
    P("shin-sang-ok", "name", "신상옥", FC, kind="ORIGINAL"),
    P("shin-sang-ok", "name", "Sin Sang-ok", FC),
    P("shin-sang-ok", "name", "Sin Sangok", FC),
    P("shin-sang-ok", "name", "Simon Sheen", FC),
    P("pak-hak", "name", "Pak Hak", WP_FG, kind="MAIN"),
    P("pak-hak", "name", "박학", FC, kind="ORIGINAL"),
    P("pak-hak", "name", "Hak Pak", FC),
    P("chong-gon-jo", "name", "Chong Gon-jo", WP_PUL, kind="MAIN"),
    P("chong-gon-jo", "name", "정건조", WP_PUL, kind="ORIGINAL"),
    P("jang-in-hak", "name", "Jang In-hak", SEED, WP_SD, kind="MAIN"),
    P("jang-in-hak", "name", "In Hak Jang", IMDB_SD),
]

# Every record a reference says something about: the reverse check reads them all.
RECORDS = sorted({(f.record, f.slug) for f in FINDINGS})


@pytest.fixture
def records(gql: GraphQL) -> Records:
    return Records(gql)


def test_the_table_names_each_finding_once() -> None:
    assert len({f.id for f in FINDINGS}) == len(FINDINGS)


@pytest.mark.parametrize("finding", FINDINGS, ids=lambda f: f.id)
async def test_the_finding_is_served_with_exactly_its_sources(
    gql: GraphQL, records: Records, finding: Finding
) -> None:
    assert await check(gql, finding, records) == []


async def test_no_reference_is_credited_with_a_value_the_table_does_not_give_it(
    gql: GraphQL, records: Records
) -> None:
    served: set[tuple[str, str, str, str, str]] = set()
    for record, slug in RECORDS:
        served |= served_pairs(record, await records.get(record, slug))
    assert served - table_pairs(FINDINGS) == set()


# Pages found by looking the references up, beyond the file's addresses (studios, dates);
# tests/seeds/test_fact_check_structure.py checks what each of them states.
LOOKED_UP = {
    "nkeconomy-2435",
    "pyongyang-travel-the-country-i-saw-part-1",
    "wilsoncenter-the-schoolgirls-diary",
    "wp-korean-art-film-studio",
}


async def test_every_source_of_the_reference_file_is_cited(gql: GraphQL) -> None:
    """The file's "Where these came from" addresses, and the file itself: each states
    something the catalog serves."""
    cited = {key for f in FINDINGS for key in f.sources}
    data = await gql("{ works(first: 100) { nodes { sources { key url } } } }")
    listed = {s["key"] for w in data["works"]["nodes"] for s in w["sources"] if s["url"]}
    assert listed - LOOKED_UP <= cited
    assert FC in cited
