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
