"""Text keys derived from names and titles: slugs, sort keys and search keys.

Both databases compare these keys byte for byte, so ordering and matching are the same on
SQLite and PostgreSQL whatever their collations.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Iterable

from db.romanization import romanize
from db.romanized_words import can_be_korean

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
# the query, and only to words that can be romanized Korean (``db.romanized_words``): an
# English word is kept as written, so ``girl`` does not fold into Kim Kil-in's key and a typo
# (``blod``) does not fold into the word it misspells (``blood``).
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
# Hangul syllables are written three times in a key: a fragment of one or two syllables is
# then a pattern of three characters or more, which SQLite's FTS5 trigram index can look up
# (it reads nothing for shorter ones), and pg_trgm's index likewise. A run of repeated
# syllables stays a whole number of syllables long, so a tripled fragment matches a tripled
# name exactly when the fragment is inside the name.
_HANGUL_SYLLABLE = re.compile("([\uac00-\ud7a3])")


@functools.lru_cache(maxsize=65536)
def _folded_word(word: str) -> str | None:
    """The folded form of a word that can be romanized Korean; None for any other word."""
    if word in _WORD_VARIANTS:
        word = _WORD_VARIANTS[word]
    else:
        if word.endswith("y") and len(word) > 2:  # Pulgasary, Kyongy (informal -y for -i)
            word = word[:-1] + "i"
        # doubled letters are one once folded, so they are one here too (Pulgasarri)
        if not can_be_korean(_REPEATS.sub(r"\1", word)):
            return None
    for old, new in _SEQUENCE_FOLDS:
        word = word.replace(old, new)
    return word


def search_key(text: str, *, fold: bool = True) -> str:
    """Fold a name or a query into the romanization-insensitive key search matches on.

    Case, diacritics, apostrophes, hyphens and spacing disappear; in words that can be
    romanized Korean, MR/RR variants (k/g, t/d, p/b, ch/j, ŏ/eo, ŭ/eu, Choe/Choi, Ri/Yi/Lee)
    fold together and doubled letters are one; other words are kept as written; Hangul is
    kept, each syllable written three times (``_HANGUL_SYLLABLE``).

    >>> search_key("Ch'oe Ik-kyu") == search_key("choi ik gyu") == search_key("Choe Ik-gyu")
    True
    >>> search_key("girl") != search_key("kil")
    True

    With ``fold=False``, the key as written (``literal_key``).
    """
    pieces: list[str] = []
    run: list[str] = []  # consecutive Korean words: "Kkot P'anŭn" folds as "Kkotpanun" does

    def close_run() -> None:
        if run:
            pieces.append(_REPEATS.sub(r"\1", "".join(run)))
            run.clear()

    for word in _WORD.findall(strip_diacritics(text).casefold().replace("'", "")):
        folded = _folded_word(word) if fold else None
        if folded is None:
            close_run()
            pieces.append(word)
        else:
            run.append(folded)
    close_run()
    return _HANGUL_SYLLABLE.sub(r"\1\1\1", "".join(pieces))


def literal_key(text: str) -> str:
    """A name's key without romanization folding: documents hold it beside the folded key, so
    a query that is not romanized Korean, a misspelling above all (``pulgasri``), is compared
    with the name as written (``pulgasari``), not with its folded key (``purkasari``)."""
    return search_key(text, fold=False)


def key_length(key: str) -> int:
    """How many letters a key stands for: each Hangul syllable once."""
    return len(key) - 2 * len(_HANGUL_SYLLABLE.findall(key)) // 3


NAMES_END = "|"
TEXTS_MARK = "/"


def search_document(names: Iterable[str], texts: Iterable[str | None] = ()) -> str:
    """The stored search text of a record: the keys of all its names and of the romanizations
    of its Hangul ones (``db.romanization``: generated RR and MR forms, so ``naega bon nara``
    finds 내가 본 나라), then the same unfolded (``literal_key``), ``|``-delimited; then the
    keys of its prose (synopsis, biography, notes), ``/``-delimited, which search ranks below
    any name.

    >>> search_document(["Park Hak"], ["A director."])
    '|pakhak|parkhak|/adirector/'
    """
    given = [name for name in names if name]
    forms = [*given, *(form for name in given for form in romanize(name).values())]
    every = [*(search_key(form) for form in forms), *(literal_key(form) for form in forms)]
    keys = [key for key in dict.fromkeys(every) if key]
    document = "|" + "|".join(keys) + "|" if keys else ""
    prose = [key for key in dict.fromkeys(search_key(t) for t in texts if t) if key]
    if prose:
        document += TEXTS_MARK + TEXTS_MARK.join(prose) + TEXTS_MARK
    return document


def names_section(document: str) -> str:
    """The part of a search document that holds names (before any prose)."""
    return document.split(TEXTS_MARK, 1)[0]


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
    share of the key's trigrams found in the best-matching name (0 to 1); prose is not
    compared (a long synopsis holds most trigrams of any word). Registered on SQLite
    connections, and the same function in SQL on PostgreSQL (``nk_word_similarity``,
    migration 0014), so both databases score a typo alike."""
    wanted = _key_trigrams(key)
    if not wanted:
        return 0.0
    names = names_section(document)
    if key in names:  # inside one name (keys hold no "|"): every trigram is there
        return 1.0
    return max(
        (len(wanted & trigrams(name)) / len(wanted) for name in names.split("|") if name),
        default=0.0,
    )


def resembles(key: str, document: str, threshold: float) -> bool:
    """Whether ``word_similarity(key, document) >= threshold``, cheaply for most documents: a
    name holds no more of the key's trigrams than the whole document does, so a document with
    too few of them is ruled out by substring tests before any name is split up."""
    wanted = _key_trigrams(key)
    if not wanted:
        return False
    names = names_section(document)
    if key in names:
        return True
    found = sum(1 for trigram in wanted if trigram in names)
    if found < shared_trigrams_needed(len(wanted), threshold):
        return False
    return word_similarity(key, names) >= threshold
