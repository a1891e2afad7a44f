"""Whether a Latin word can be romanized Korean: the guard of search's romanization folding.

Folding MR and RR spellings together (k/g, t/d, l/r, doubled letters …) is right for Korean
names and wrong for English words: folded, ``girl`` becomes ``kir`` and matches Kim Kil-in,
and ``blod`` becomes ``blood``'s key, so a typo scores as an exact match. ``db.text`` folds a
word only if it can be read as a run of romanized Korean syllables (initial consonant, vowel,
final consonant, in McCune-Reischauer, Revised Romanization or common informal spellings).
``girl``, ``flower`` and ``blood`` cannot (no Korean syllable ends in ``r`` or starts with
``fl`` or ``bl``); ``Pulgasari``, ``Ch'oe``, ``Sonyeonjangsu`` and ``Ik-kyu`` can.

A word may start inside a syllable and end inside one, so a fragment of a Korean word (what
an explorer types before finishing it) is folded as the whole word is.
"""

from __future__ import annotations

import functools
import itertools

# Apostrophes are dropped before a word gets here (Ch'oe -> choe), diacritics too (ŏ -> o).
INITIALS = (
    "", "g", "kk", "k", "n", "d", "tt", "t", "r", "l", "m", "b", "pp", "p", "s", "ss", "sh",
    "j", "jj", "ch", "tch", "h",
)  # fmt: skip
VOWELS = (
    "a", "ae", "ya", "yae", "eo", "o", "e", "ye", "yeo", "yo", "wa", "wae", "oe", "u", "wo",
    "weo", "we", "wi", "yu", "eu", "ui", "eui", "i", "oo", "ee",
)  # fmt: skip
FINALS = ("", "k", "n", "t", "l", "m", "p", "ng")

SYLLABLES = frozenset(i + v + f for i, v, f in itertools.product(INITIALS, VOWELS, FINALS))
_LONGEST = max(map(len, SYLLABLES))
# where a word may start and end: inside a syllable (a fragment) or at its edge
_SUFFIXES = frozenset(s[i:] for s in SYLLABLES for i in range(len(s)))
_PREFIXES = frozenset(s[:i] for s in SYLLABLES for i in range(len(s) + 1))


@functools.lru_cache(maxsize=65536)
def can_be_korean(word: str) -> bool:
    """Whether ``word`` (lowercase ASCII letters) reads as a fragment of romanized Korean: the
    end of a syllable, whole syllables, then the start of one."""
    if not word or not word.isascii() or not word.isalpha():
        return False
    # reachable[i]: word[:i] is a syllable's end followed by whole syllables
    reachable = [False] * (len(word) + 1)
    for end in range(1, min(len(word), _LONGEST) + 1):
        reachable[end] = word[:end] in _SUFFIXES
    for start in range(1, len(word)):
        if not reachable[start]:
            continue
        for end in range(start + 1, min(len(word), start + _LONGEST) + 1):
            if word[start:end] in SYLLABLES:
                reachable[end] = True
    return any(reachable[i] and word[i:] in _PREFIXES for i in range(len(word) + 1)) or (
        word in _PREFIXES
    )
