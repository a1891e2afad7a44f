"""Text keys derived from names and titles: slugs, sort keys and search keys.

Both databases compare these keys byte for byte, so ordering and matching are the same on
SQLite and PostgreSQL whatever their collations.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata

_APOSTROPHES = "'\u2019\u2018\u02bc\u02bb`\u00b4"
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def strip_diacritics(text: str) -> str:
    """Remove combining marks (ŏ -> o, ŭ -> u) but keep Hangul syllables whole."""
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", kept)


def slugify(text: str) -> str:
    """Lowercase ASCII; apostrophes dropped; every other run of non-alphanumerics -> one hyphen.

    >>> slugify("Choe Ik-kyu"), slugify("The Schoolgirl's Diary")
    ('choe-ik-kyu', 'the-schoolgirls-diary')
    """
    ascii_text = strip_diacritics(text).encode("ascii", "ignore").decode("ascii").lower()
    for apostrophe in _APOSTROPHES:
        ascii_text = ascii_text.replace(apostrophe, "")
    return _NON_ALNUM.sub("-", ascii_text).strip("-")


# The length of the sort-key columns (``title_key``, ``name_key``, ``work_title_key``).
SORT_KEY_LENGTH = 500


def sort_key(text: str) -> str:
    """The key titles and names sort by: case- and diacritic-insensitive, spacing folded.

    Case folding can lengthen a text (``ß`` -> ``ss``, ``ﬃ`` -> ``ffi``), so the key is cut to
    its column's ``SORT_KEY_LENGTH``. It only orders: two titles the same for their first 500
    folded characters tie, and ties are broken by id, as for equal titles. Limiting the titles
    instead would refuse valid ones.
    """
    return " ".join(strip_diacritics(text).casefold().split())[:SORT_KEY_LENGTH].rstrip()


# Romanization folding: McCune-Reischauer and Revised Romanization (and common informal
# spellings) of the same Korean name fold to one key. Applied to both the stored names and
# the query, so aggressive folding only widens matches; it never hides an exact one.
_WORD_VARIANTS = {
    "choi": "choe",
    "lee": "ri",
    "yi": "ri",
    "rhee": "ri",
    "i": "ri",
    "shin": "sin",
    "park": "pak",
    "bak": "pak",
}
_SEQUENCE_FOLDS = (
    ("eo", "o"),
    ("eu", "u"),
    ("sh", "s"),
    ("ch", "c"),
    ("j", "c"),
    ("g", "k"),
    ("d", "t"),
    ("b", "p"),
    ("l", "r"),
)
_REPEATS = re.compile(r"(.)\1+")
_WORD = re.compile(r"[^\W_]+")


def search_key(text: str) -> str:
    """Fold a name or a query into the romanization-insensitive key search matches on.

    Case, diacritics, apostrophes, hyphens and spacing disappear; MR/RR variants (k/g, t/d, p/b,
    ch/j, ŏ/eo, ŭ/eu, Choe/Choi, Ri/Yi/Lee) fold together; Hangul is kept as written.

    >>> search_key("Ch'oe Ik-kyu") == search_key("choi ik gyu") == search_key("Choe Ik-gyu")
    True
    """
    words = []
    for word in _WORD.findall(strip_diacritics(text).casefold().replace("'", "")):
        word = _WORD_VARIANTS.get(word, word)
        if word.endswith("y") and len(word) > 2:
            word = word[:-1] + "i"
        for old, new in _SEQUENCE_FOLDS:
            word = word.replace(old, new)
        words.append(word)
    return _REPEATS.sub(r"\1", "".join(words))


def search_document(names: list[str]) -> str:
    """The stored search text of a record: the keys of all its names, ``|``-delimited."""
    keys = [key for key in dict.fromkeys(search_key(name) for name in names) if key]
    return "|" + "|".join(keys) + "|" if keys else ""


def trigrams(key: str) -> set[str]:
    return {key[i : i + 3] for i in range(len(key) - 2)}


@functools.lru_cache(maxsize=256)
def _key_trigrams(key: str) -> frozenset[str]:
    """A query key's trigrams: queries repeat the same key for every candidate row."""
    return frozenset(trigrams(key))


def shared_trigrams_needed(count: int, threshold: float) -> int:
    """The fewest of a key's ``count`` trigrams a name must contain to reach ``threshold``."""
    return math.ceil(count * threshold - 1e-9)


def word_similarity(key: str, document: str) -> float:
    """How much of ``key`` some single name in a search document contains, by trigrams: the
    share of the key's trigrams found in the best-matching name (0 to 1). Close to
    PostgreSQL's ``word_similarity``; registered on SQLite connections for typo tolerance."""
    wanted = _key_trigrams(key)
    if not wanted:
        return 0.0
    if key in document:  # inside one name (keys hold no "|"): every trigram is there
        return 1.0
    return max(
        (len(wanted & trigrams(name)) / len(wanted) for name in document.split("|") if name),
        default=0.0,
    )


def resembles(key: str, document: str, threshold: float) -> bool:
    """Whether ``word_similarity(key, document) >= threshold``, cheaply for most documents: a
    name holds no more of the key's trigrams than the whole document does, so a document with
    too few of them is ruled out by substring tests before any name is split up."""
    wanted = _key_trigrams(key)
    if not wanted:
        return False
    if key in document:
        return True
    found = sum(1 for trigram in wanted if trigram in document)
    if found < shared_trigrams_needed(len(wanted), threshold):
        return False
    return word_similarity(key, document) >= threshold
