"""Hangul romanized by ko-pron: text with Korean's sound changes, names as names are written."""

from __future__ import annotations

import pytest

from db.romanization import has_hangul, romanize, romanize_name


@pytest.mark.parametrize(
    ("text", "rr", "mr"),
    [
        ("피바다", "pibada", "p'ibada"),
        ("혈해", "hyeolhae", "hyŏrhae"),  # ㄹ + ㅎ: the sound change, not the letters
        ("내가 본 나라", "naega bon nara", "naega pon nara"),
        ("Sea of 혈해 (1969)", "Sea of hyeolhae (1969)", "Sea of hyŏrhae (1969)"),
    ],
)
def test_text_is_romanized_with_its_sound_changes(text: str, rr: str, mr: str) -> None:
    assert romanize(text) == {"RR": rr, "MR": mr}


def test_text_without_hangul_has_no_romanization() -> None:
    assert romanize("Pulgasari") == {}
    assert not has_hangul("Pulgasari") and has_hangul("불가사리")


@pytest.mark.parametrize(
    ("name", "rr", "mr"),
    [
        ("최익규", "Choe Ik-gyu", "Ch'oe Ik-kyu"),  # the spellings the references give
        ("윤룡규", "Yun Ryong-gyu", "Yun Ryong-kyu"),  # not "yullyonggyu": no change across
        ("박학", "Bak Hak", "Pak Hak"),
    ],
)
def test_a_name_is_written_family_name_first_given_name_hyphenated(
    name: str, rr: str, mr: str
) -> None:
    assert romanize_name(name) == {"RR": rr, "MR": mr}


def test_what_is_not_a_personal_name_is_romanized_as_text() -> None:
    assert romanize_name("위대한 선군조선의 어머님") == romanize("위대한 선군조선의 어머님")
