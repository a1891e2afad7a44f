"""Hangul romanized automatically, in Revised Romanization (RR) and McCune-Reischauer (MR).

The forms come from ko-pron (a port of Wiktionary's ko-pron module, which applies Korean's
sound changes: 혈해 → RR "hyeolhae", MR "hyŏrhae"). They are *generated*: search keys and
reading aids marked as such wherever they are shown, never statements of a source. A
reference's own romanization ("Ch'oe Ik-kyu") is a statement and is kept as the reference
gives it.
"""

from __future__ import annotations

import functools
import re
from importlib.metadata import version

from ko_pron import romanise

SYSTEMS = ("RR", "MR")
GENERATOR = f"ko-pron {version('ko-pron')}"

_HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")
# What ko-pron reads: Hangul syllables and jamo, spaces and apostrophes; anything else
# (Latin letters, digits, punctuation) splits the text into runs romanized one by one.
_RUN = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3' ]+")


def has_hangul(text: str) -> bool:
    return _HANGUL.search(text) is not None


@functools.lru_cache(maxsize=4096)
def romanize(text: str) -> dict[str, str]:
    """``{"RR": …, "MR": …}`` for text holding Hangul (other characters kept as they are),
    ``{}`` for text without any."""
    if not has_hangul(text):
        return {}
    return {system: _romanize(text, system.lower()) for system in SYSTEMS}


def _romanize(text: str, system: str) -> str:
    def one(run: re.Match[str]) -> str:
        words = run.group(0)
        if not has_hangul(words):
            return words
        lead = words[: len(words) - len(words.lstrip(" "))]
        tail = words[len(words.rstrip(" ")) :]
        return lead + str(romanise(words.strip(" "), system)) + tail

    return _RUN.sub(one, text)


_PERSONAL_NAME = re.compile("[\uac00-\ud7a3]{2,4}")


@functools.lru_cache(maxsize=4096)
def romanize_name(text: str) -> dict[str, str]:
    """A person's Hangul name as both systems write names: the family name (the first
    syllable) apart, the given name's syllables romanized one by one and hyphenated, each
    part capitalised (최익규 → RR "Choe Ik-gyu", MR "Ch'oe Ik-kyu"; 윤룡규 → "Yun Ryong-gyu",
    where the sound changes across syllables give "yullyonggyu"). Anything that is not a
    name of two to four syllables is romanized as text (``romanize``)."""
    if not _PERSONAL_NAME.fullmatch(text):
        return romanize(text)
    family, given = text[0], text[1:]
    return {
        system: f"{_part(family, system)} " + "-".join(_part(s, system) for s in given).capitalize()
        for system in SYSTEMS
    }


def _part(syllable: str, system: str) -> str:
    romanized = str(romanise(syllable, system.lower()))
    return romanized[:1].upper() + romanized[1:]
