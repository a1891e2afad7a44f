"""db.text: slugs, sort keys and the romanization-insensitive search keys."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from db.text import (
    SLUG_PATTERN,
    key_length,
    literal_key,
    names_section,
    resembles,
    search_document,
    search_key,
    slugify,
    sort_key,
    strip_diacritics,
    word_similarity,
)

# -- slugify ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Choe Ik-kyu", "choe-ik-kyu"),
        ("The Schoolgirl's Diary", "the-schoolgirls-diary"),
        ("The Schoolgirl\u2019s Diary", "the-schoolgirls-diary"),  # right single quote
        ("The Schoolgirl\u2018s Diary", "the-schoolgirls-diary"),  # left single quote
        ("Ch\u02bcoe Ik-kyu", "choe-ik-kyu"),  # modifier letter apostrophe
        ("Ch`oe Ik-kyu", "choe-ik-kyu"),
        ("Ch\u00b4oe Ik-kyu", "choe-ik-kyu"),  # acute accent used as an apostrophe
        ("Ch'ŏllima", "chollima"),
        ("Kkot P'anŭn Ch'ŏnyŏ", "kkot-panun-chonyo"),
        ("Han Nyŏhaksaengŭi Ilgi", "han-nyohaksaengui-ilgi"),
        ("ŎŬ", "ou"),
        ("Sea  of -- Blood!!!", "sea-of-blood"),
        ("A / B & C", "a-b-c"),
        ("  --Sea of Blood--  ", "sea-of-blood"),
        ("...Pulgasari?!", "pulgasari"),
        ("Boy Commander (2006)", "boy-commander-2006"),
        ("UPPER lower MiXeD", "upper-lower-mixed"),
        ("snake_case_title", "snake-case-title"),
        ("꽃파는 처녀", ""),
        ("피바다", ""),
        ("", ""),
        ("!!! ??? ...", ""),
        ("The Flower Girl 꽃파는 처녀", "the-flower-girl"),
        ("꽃파는 Flower 처녀 Girl", "flower-girl"),
    ],
)
def test_slugify(text: str, slug: str) -> None:
    assert slugify(text) == slug


@pytest.mark.parametrize(
    "text",
    [
        "Choe Ik-kyu",
        "The Schoolgirl\u2019s Diary",
        "  --Kkot P'anŭn Ch'ŏnyŏ--  ",
        "A Traffic Controller on Crossroads",
        "Boy Commander (2006)",
    ],
)
def test_slugify_output_is_a_slug_and_is_stable(text: str) -> None:
    slug = slugify(text)
    assert SLUG_PATTERN.match(slug)
    assert slugify(slug) == slug


@pytest.mark.parametrize(
    "slug",
    ["sea-of-blood", "a", "2006", "boy-commander-2006", "the-flower-girls-youth"],
)
def test_slug_pattern_accepts(slug: str) -> None:
    assert SLUG_PATTERN.match(slug)


@pytest.mark.parametrize(
    "slug",
    [
        "",
        "-sea",
        "sea-",
        "sea--of-blood",
        "Sea-of-blood",
        "sea of blood",
        "sea_of_blood",
        "schoolgirl's-diary",
        "ŏ",
        "꽃",
        "sea.of.blood",
    ],
)
def test_slug_pattern_rejects(slug: str) -> None:
    assert SLUG_PATTERN.match(slug) is None


# -- sort_key ----------------------------------------------------------------------------------


def test_strip_diacritics_keeps_hangul_whole() -> None:
    assert strip_diacritics("Ch'ŏnyŏ ŭi") == "Ch'onyo ui"
    assert strip_diacritics("꽃파는 처녀") == "꽃파는 처녀"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("The Flower Girl", "the flower girl"),
        ("THE FLOWER GIRL", "the flower girl"),
        ("  The   Flower\tGirl \n", "the flower girl"),
        ("Kkot P'anŭn Ch'ŏnyŏ", "kkot p'anun ch'onyo"),
        ("Ŏ", "o"),
    ],
)
def test_sort_key_folds_case_diacritics_and_spacing(a: str, b: str) -> None:
    assert sort_key(a) == sort_key(b) == b


def test_sort_key_keeps_punctuation_and_hangul() -> None:
    assert sort_key("The Schoolgirl's Diary") == "the schoolgirl's diary"
    assert sort_key("꽃파는  처녀") == "꽃파는 처녀"


def test_sort_key_orders_titles_case_and_accent_insensitively() -> None:
    titles = ["sea of Blood", "Ŏrini", "Boy Commander", "a Traffic Controller", "Pulgasari"]
    assert sorted(titles, key=sort_key) == [
        "a Traffic Controller",
        "Boy Commander",
        "Ŏrini",
        "Pulgasari",
        "sea of Blood",
    ]


# -- search_key --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "variants",
    [
        [
            "Choe Ik-kyu",
            "choe ik gyu",
            "Ch'oe Ik-kyu",
            "Ch\u2019oe Ik-kyu",
            "choi ik kyu",
            "CHOE IKKYU",
        ],
        ["bulgasari", "pulgasary", "Pulgasari", "Pulgasari!"],
        ["Shin Sang-ok", "Sin Sang-ok", "Sin Sangok", "shin sang ok"],
        ["Pak Hak", "Park Hak", "Bak Hak"],
        ["Ri Yong-bok", "Lee Yong-bok", "Yi Yong-bok", "Rhee Yong-bok", "I Yong-bok"],
        ["Kim Jong-chul", "Kim Chong-chul", "kim jongchul"],
        ["Ch'ŏllima", "Cheollima", "Chollima"],
        ["Kkot P'anŭn Ch'ŏnyŏ", "Kkot Paneun Cheonyeo"],
        ["Sea of Blood", "sea  of  blood", "SEA-OF-BLOOD"],
    ],
)
def test_search_key_folds_romanization_variants(variants: list[str]) -> None:
    keys = {search_key(v) for v in variants}
    assert len(keys) == 1, {v: search_key(v) for v in variants}
    assert keys != {""}


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Choe Ik-kyu", "Kim Ki-nam"),
        ("Pulgasari", "Pibada"),
        ("Sea of Blood", "Sea of Flowers"),
        ("꽃파는 처녀", "피바다"),
    ],
)
def test_search_key_keeps_different_names_apart(a: str, b: str) -> None:
    assert search_key(a) != search_key(b)


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("chunhyang", "The Tale of Chun Hyang"),
        ("Chun-hyang", "The Tale of Chun Hyang"),
        ("tale", "The Tale of Chun Hyang"),
        ("꽃파는", "꽃파는 처녀"),
        ("처녀", "꽃파는 처녀"),
        ("ik gyu", "Choe Ik-kyu"),
        ("bulgasari", "Pulgasari (1985)"),
        ("schoolgirls", "The Schoolgirl's Diary"),
    ],
)
def test_search_key_of_a_query_is_a_substring_of_the_name_key(query: str, name: str) -> None:
    assert search_key(query)
    assert search_key(query) in search_key(name)


def test_search_key_drops_case_punctuation_and_spacing_but_keeps_hangul() -> None:
    assert search_key("꽃파는 처녀") == "꽃꽃꽃파파파는는는처처처녀녀녀"  # each syllable thrice
    assert search_key("!! -- ''") == ""
    assert search_key("") == ""
    key = search_key("The Schoolgirl's Diary")
    assert key == key.lower()
    assert not set(key) & set(" '-_|")


def test_search_key_does_not_match_unrelated_query() -> None:
    assert search_key("flower") not in search_key("The Tale of Chun Hyang")
    assert search_key("피바다") not in search_key("꽃파는 처녀")


@pytest.mark.parametrize(
    ("word", "name"),
    [("girl", "Kim Kil-in"), ("blood", "Sea of Blod"), ("sea of blod", "Sea of Blood")],
)
def test_english_words_are_not_folded_as_romanized_korean(word: str, name: str) -> None:
    """``girl`` folded (g -> k, l -> r) was inside Kim Kil-in's key; ``blod`` folded (doubled
    letters as one) was ``blood``'s key, so a typo scored as an exact match."""
    assert search_key(word) not in search_key(name)
    assert literal_key("Flower Girl") == search_key("Flower Girl") == "flowergirl"


@given(
    query=st.text(alphabet="가나다혈해춘향", min_size=1, max_size=4),
    name=st.text(alphabet="가나다혈해춘향", min_size=1, max_size=8),
)
def test_a_hangul_key_is_inside_a_name_key_exactly_when_the_text_is(query: str, name: str) -> None:
    """Tripled syllables keep substring matching exact, whatever the fragment's length."""
    assert (search_key(query) in search_key(name)) == (query in name)
    assert key_length(search_key(query)) == len(query)


# -- search_document ---------------------------------------------------------------------------


def test_search_document_is_pipe_delimited_keys() -> None:
    """Folded keys, then the generated romanizations of Hangul names, then the keys as
    written (where folding changed them)."""
    assert search_document(["Sea of Blood", "피바다"]) == (
        f"|{search_key('Sea of Blood')}|{search_key('피바다')}|{search_key('pibada')}|pibada|"
    )
    assert search_document(["피바다"]) == "|피피피바바바다다다|pipata|pibada|"


def test_search_document_drops_duplicate_and_empty_keys_keeping_order() -> None:
    names = ["Choe Ik-kyu", "!!!", "Kim Ki-nam", "choi ik gyu", "", "Ch'oe Ik-kyu"]
    document = search_document(names)
    assert document == (
        f"|{search_key('Choe Ik-kyu')}|{search_key('Kim Ki-nam')}|choeikkyu|choiikgyu|"
    )


def test_search_document_puts_prose_after_the_names() -> None:
    document = search_document(["Boy Commander"], ["A boy named Kim Hyok.", None, ""])
    assert document.startswith(f"|{search_key('Boy Commander')}|")
    assert document.endswith(f"/{search_key('A boy named Kim Hyok.')}/")
    assert search_key("kim hyok") not in names_section(document)
    assert search_document([], ["Brother of Kim Jong-un."]).startswith("/")


def test_search_document_holds_generated_romanizations_of_hangul_names() -> None:
    document = search_document(["The Country I Saw", "내가 본 나라"])
    assert f"|{search_key('naega bon nara')}|" in document  # RR
    assert f"|{search_key('naega pon nara')}|" in document  # MR (the same key once folded)


def test_search_document_of_nothing_is_empty() -> None:
    assert search_document([]) == ""
    assert search_document(["", "!!", "   "]) == ""


def test_search_document_delimiters_anchor_whole_keys() -> None:
    """``|key|`` in the document matches a whole name, a bare key any part of one."""
    document = search_document(["The Tale of Chun Hyang", "Ch'unhyangjŏn"])
    assert f"|{search_key('chunhyangjon')}|" in document
    assert f"|{search_key('chunhyang')}|" not in document
    assert search_key("chunhyang") in document


@given(
    key=st.text(alphabet="abkor", min_size=5, max_size=9),
    names=st.lists(st.text(alphabet="abkor", min_size=1, max_size=12), min_size=1, max_size=4),
    threshold=st.sampled_from([0.3, 0.5, 0.6, 0.8]),
)
def test_resembles_is_word_similarity_at_a_threshold(
    key: str, names: list[str], threshold: float
) -> None:
    document = "|" + "|".join(names) + "|"
    assert resembles(key, document, threshold) == (word_similarity(key, document) >= threshold)


def test_word_similarity_compares_names_not_prose() -> None:
    document = "|purkasari|/afantasifirmwitharkakasri/"
    assert word_similarity("kakasri", document) < 0.6
    assert not resembles("kakasri", document, 0.6)
    assert word_similarity("purkasari", document) == 1.0
