"""db.romanized_words: which Latin words search folds as romanized Korean."""

from __future__ import annotations

import pytest

from db.romanized_words import can_be_korean

KOREAN = [
    "pulgasari", "choe", "ikkyu", "sonyeonjangsu", "kkot", "panun", "chonyo", "cheonyeo",
    "nyohaksaengui", "chunhyangjon", "pibada", "hyolhae", "hyeolhae", "naega", "kim", "kil",
    "sheen", "tongil", "paektu", "cheollima",
]  # fmt: skip
ENGLISH = ["girl", "flower", "blood", "blod", "of", "traffic", "schoolgirls", "respected"]


@pytest.mark.parametrize("word", KOREAN)
def test_romanized_korean_words_can_be_korean(word: str) -> None:
    assert can_be_korean(word)


@pytest.mark.parametrize("word", ENGLISH)
def test_words_no_korean_syllables_make_cannot(word: str) -> None:
    assert not can_be_korean(word)


@pytest.mark.parametrize("word", KOREAN)
def test_a_fragment_of_a_korean_word_can_be_korean_too(word: str) -> None:
    """What an explorer types before finishing a word is folded as the word is."""
    for start in range(len(word)):
        for end in range(start + 1, len(word) + 1):
            assert can_be_korean(word[start:end]), word[start:end]


def test_only_lowercase_ascii_letters_can_be_korean() -> None:
    assert not can_be_korean("")
    assert not can_be_korean("1985")
    assert not can_be_korean("혈해")
