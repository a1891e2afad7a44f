"""Synthetic catalogs: ``nkcinema seed --synthetic N [--seed S]``.

``synthetic_catalog(works, seed)`` builds a deterministic, realistic interchange document
(``nkcinema-catalog/1``, see ``shared/contract/catalog-format.md``) of ``works`` works, loaded
through the same path as any catalog file (``db.interchange.load.load_catalogs``) or written out
as one (``--output``). The same ``works`` and ``seed`` give the same document, byte for byte
once dumped, whatever the process (no hash-ordered iteration anywhere).

Shape: about N/2 people (half with a Hangul name, some with other spellings of it), 300
themes, 1-3 directors and 0-8 other credits per work (writers, actors, composers,
producers, ...; actors and writers drawn with a popularity skew), 1-5 themes per work (theme
popularity falls off as 1/rank), a skewed works-per-director distribution (a dozen directors
with 100+ works at N = 100,000, most with a handful), years 1945-2020 with about 5% unknown,
titles from word lists (so searches hit), Hangul original titles on about 40% of works and
Hangul titles alone on 5%, alternative titles on about 20%, a synopsis on about a third, and
a few sequels and remakes (``related``). Every record cites one source, ``synthetic``.

Records are built compactly (optional keys that would be empty are left out, as the format
allows), so a 100,000-work catalog stays a few hundred megabytes in memory.
"""

from __future__ import annotations

import functools
import itertools
import random
from collections.abc import Callable
from typing import Any

from db import text
from db.interchange.format import FORMAT
from db.interchange.load import paused_gc

SOURCE_KEY = "synthetic"
THEME_COUNT = 300
PEOPLE_PER_WORK = 0.5
MIN_PEOPLE = 10
YEAR_FIRST, YEAR_LAST, YEAR_MODE = 1945, 2020, 1978
UNKNOWN_YEAR_SHARE = 0.05
ALTERNATIVE_TITLE_SHARE = 0.20
ORIGINAL_TITLE_SHARE = 0.40
HANGUL_TITLE_SHARE = 0.05
SYNOPSIS_SHARE = 0.30
SERIES_SHARE = 0.20
RELATED_SHARE = 0.02
HANGUL_NAME_SHARE = 0.5
ALTERNATIVE_NAME_SHARE = 0.15
# How many directors a work has (1, 2 or 3) and how many other credits (0 to 8), by weight.
DIRECTOR_WEIGHTS = (70, 22, 8)
OTHER_CREDIT_WEIGHTS = (6, 10, 14, 16, 16, 14, 11, 8, 5)
THEMES_PER_WORK = (1, 5)
# Works of the most prolific directors at 100,000 works (scaled with the catalog's size).
PROLIFIC_CAREERS = (620, 480, 390, 320, 270, 230, 200, 175, 155, 140, 125, 115, 105)
MIN_PROLIFIC_CAREER = 3
REGULAR_CAREER_MAX = 90
PROGRESS_EVERY = 5_000

NOUNS = (
    "Flower", "Blood", "Sea", "Girl", "Mountain", "River", "Star", "Song", "Destiny", "Family",
    "Village", "Soldier", "Mother", "Road", "Fire", "Spring", "Dawn", "Bell", "Field", "Train",
    "Daughter", "Heart", "Sun", "Snow", "Wind", "Forest", "Bridge", "Harvest", "Factory", "Ship",
)  # fmt: skip
ADJECTIVES = (
    "Red", "Eternal", "Blue", "Young", "Burning", "Distant", "Golden", "Silent", "Brave",
    "Crimson", "Hidden", "Last", "First", "Great", "Free",
)  # fmt: skip
PLACES = (
    "Pyongyang", "Kaesong", "Wonsan", "Hamhung", "the Taedong", "Mount Paektu", "Kumgang",
    "Nampo", "Sinuiju", "Chongjin", "the East Sea", "the Front",
)  # fmt: skip
KOREAN_TITLES = (
    "Chunhyang", "Pulgasari", "Arirang", "Hong Kil-dong", "Sim Chong", "Ryonhwa", "Pibada",
    "Onjong", "Tongil", "Kkotpanun Chonyo",
)  # fmt: skip
# Revised Romanization (and informal) spellings of the words above, for alternative titles.
KOREAN_VARIANTS = {
    "Chunhyang": "Chun Hyang Jeon",
    "Pulgasari": "Bulgasari",
    "Hong Kil-dong": "Hong Gil-dong",
    "Sim Chong": "Shim Cheong",
    "Pibada": "Pi Pada",
    "Kkotpanun Chonyo": "Kkot Paneun Cheonyeo",
}
HANGUL_WORDS = (
    "꽃", "처녀", "피바다", "산", "바다", "별", "노래", "운명", "가족", "마을", "어머니", "길",
    "불", "봄", "새벽", "춘향전", "불가사리", "아리랑", "평양", "조국", "청춘", "병사",
)  # fmt: skip
HANGUL_PHRASES = ("꽃 파는 처녀", "피바다", "춘향전", "불가사리", "한 자위단원의 운명")

SURNAMES = (
    ("Kim", "김"), ("Ri", "리"), ("Pak", "박"), ("Choe", "최"), ("Jong", "정"), ("Kang", "강"),
    ("Han", "한"), ("O", "오"), ("Yun", "윤"), ("Jang", "장"), ("Hong", "홍"), ("Ryu", "류"),
    ("Sin", "신"), ("Chon", "전"), ("Ko", "고"), ("Mun", "문"), ("Paek", "백"), ("Om", "엄"),
)  # fmt: skip
SYLLABLES = (
    ("ik", "익"), ("kyu", "규"), ("hak", "학"), ("sin", "신"), ("chol", "철"), ("min", "민"),
    ("song", "성"), ("hui", "희"), ("yong", "영"), ("gil", "길"), ("nam", "남"), ("su", "수"),
    ("ok", "옥"), ("chun", "춘"), ("hyang", "향"), ("il", "일"), ("gwang", "광"),
    ("myong", "명"), ("jin", "진"), ("ho", "호"),
)  # fmt: skip
# Spellings other sources use for the surnames (Revised Romanization and Western habit).
SURNAME_VARIANTS = {"Choe": "Choi", "Ri": "Lee", "Pak": "Park", "Sin": "Shin", "Jong": "Chong"}

THEME_QUALITIES = (
    "Revolutionary", "Rural", "Urban", "Historical", "Wartime", "Postwar", "Modern", "Heroic",
    "Tragic", "Comic", "Socialist", "Colonial", "Domestic", "Musical", "Maritime",
)  # fmt: skip
THEME_SUBJECTS = (
    "revolution", "sacrifice", "resistance", "family", "reunification", "labour", "love",
    "youth", "war", "loyalty", "harvest", "education", "science", "sport", "the sea",
    "childhood", "memory", "duty", "friendship", "betrayal",
)  # fmt: skip
SYNOPSIS_OPENINGS = (
    "A {adjective} tale of {subject} in {place}.",
    "In {place}, a {noun} becomes a test of {subject}.",
    "{subject_cap} and {other} in {place} after the war.",
    "The story of a {noun}, of {subject} and of {other}.",
)
SYNOPSIS_CLOSINGS = (
    "",
    " Filmed on location.",
    " Based on a stage play.",
    " Released in two parts.",
    " Adapted from a novel.",
)
# Other credits by weight: most are actors, then writers, composers, producers, the rest.
OTHER_ROLES = ("ACTOR", "WRITER", "COMPOSER", "PRODUCER", "OTHER")
OTHER_ROLE_WEIGHTS = (60, 16, 10, 9, 5)
RELATION_TYPES = ("SEQUEL_OF", "REMAKES", "ADAPTS", "PART_OF")

slugify = functools.cache(text.slugify)

Document = dict[str, Any]
Progress = Callable[[int, int], None]


def source_record(seed: int) -> Document:
    return {"key": SOURCE_KEY, "title": f"Synthetic catalog (seed {seed})", "url": None}


def synthetic_catalog(works: int, seed: int = 1, *, progress: Progress | None = None) -> Document:
    """A catalog of ``works`` works as an interchange document; the same ``works`` and ``seed``
    give the same document. ``progress(done, total)`` is called as works are generated."""
    if works < 0:
        raise ValueError("the number of works must not be negative")
    rng = random.Random(seed)
    with paused_gc():
        themes = _themes()
        people = _people(rng, max(round(works * PEOPLE_PER_WORK), MIN_PEOPLE))
        document: Document = {
            "format": FORMAT,
            "sources": [source_record(seed)],
            "themes": themes,
            "people": people,
            "works": _works(rng, works, people, [t["slug"] for t in themes], progress),
        }
    return document


def _themes() -> list[Document]:
    themes = []
    for subject, quality in itertools.product(THEME_SUBJECTS, THEME_QUALITIES):
        name = f"{quality} {subject}"
        themes.append(
            {
                "slug": slugify(name),
                "name": name,
                "description": f"Works about {subject}, {quality.lower()} in setting or tone.",
            }
        )
    return themes[:THEME_COUNT]


def _people(rng: random.Random, count: int) -> list[Document]:
    """People: half with a Hangul name, some with another spelling of their name."""
    people: list[Document] = []
    for number in range(1, count + 1):
        (surname, hangul_surname), (a, ha), (b, hb) = (
            rng.choice(SURNAMES),
            rng.choice(SYLLABLES),
            rng.choice(SYLLABLES),
        )
        name = f"{surname} {a.capitalize()}-{b}"
        person: Document = {"slug": f"{slugify(name)}-{number}", "name": name}
        if rng.random() < HANGUL_NAME_SHARE:
            person["originalName"] = f"{hangul_surname}{ha}{hb}"
        if rng.random() < ALTERNATIVE_NAME_SHARE:
            person["alternativeNames"] = [
                f"{SURNAME_VARIANTS.get(surname, surname)} {a.capitalize()}{b}"
            ]
        person["sources"] = [SOURCE_KEY]
        people.append(person)
    return people


def _director_careers(rng: random.Random, works: int, slots: int, people: int) -> list[int]:
    """Director indexes (into the people), one per director credit, in random order: a few
    prolific directors (hundreds of works at 100,000 works), most with a handful (log-normal).
    People are taken in a scattered order, so directors are not the first people created."""
    scale = works / 100_000
    order = list(range(people))
    rng.shuffle(order)
    careers: list[int] = []
    taken = 0
    for size in PROLIFIC_CAREERS:
        careers.extend([order[taken % people]] * max(MIN_PROLIFIC_CAREER, round(size * scale)))
        taken += 1
    while len(careers) < slots:
        size = min(REGULAR_CAREER_MAX, 1 + int(rng.lognormvariate(1.2, 0.9)))
        careers.extend([order[taken % people]] * size)
        taken += 1
    rng.shuffle(careers)
    return careers[:slots]


# A title's patterns: one template, or two of which a coin toss picks one.
TITLE_PATTERNS = (
    ("{noun} of {other}",),
    ("The {adjective} {noun}",),
    ("The {noun} of {place}",),
    ("The {noun} Girl", "A {noun} from {place}"),
    ("{korean}", "The Tale of {korean}"),
    ("The Family of {name}", "{name}'s Diary"),
    ("{adjective} {noun} over {place}",),
    ("{noun} and {other}",),
    ("The {adjective} {noun} of {place}",),
    ("Song of the {adjective} {noun}",),
)


def random_title(rng: random.Random, names: list[str]) -> str:
    noun, other, adjective = rng.choice(NOUNS), rng.choice(NOUNS), rng.choice(ADJECTIVES)
    place, korean = rng.choice(PLACES), rng.choice(KOREAN_TITLES)
    templates = TITLE_PATTERNS[rng.randrange(len(TITLE_PATTERNS))]
    # a person's name is drawn only for the pattern that shows one (the draws decide the rest)
    name = rng.choice(names) if "{name}" in templates[0] else ""
    template = templates[0] if len(templates) == 1 or rng.random() < 0.5 else templates[1]
    title = template.format(
        noun=noun, other=other, adjective=adjective, place=place, korean=korean, name=name
    )
    if rng.random() < 0.1:
        title += f" {rng.randrange(2, 6)}"
    return title


def random_hangul_title(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return rng.choice(HANGUL_PHRASES)
    return " ".join(rng.sample(HANGUL_WORDS, rng.randrange(1, 4)))


def alternative_title(rng: random.Random, title: str, names: list[str]) -> str:
    """Another name for a work: a romanization variant when it has one, else a new title."""
    for word, variant in KOREAN_VARIANTS.items():
        if word in title:
            return title.replace(word, variant)
    return random_title(rng, names)


def _synopsis(rng: random.Random) -> str:
    subject, other = rng.sample(THEME_SUBJECTS, 2)
    opening = rng.choice(SYNOPSIS_OPENINGS).format(
        adjective=rng.choice(ADJECTIVES).lower(),
        noun=rng.choice(NOUNS).lower(),
        place=rng.choice(PLACES),
        subject=subject,
        subject_cap=subject[0].upper() + subject[1:],
        other=other,
    )
    return opening + rng.choice(SYNOPSIS_CLOSINGS)


def _works(
    rng: random.Random,
    count: int,
    people: list[Document],
    theme_slugs: list[str],
    progress: Progress | None,
) -> list[Document]:
    names = [p["name"] for p in people]
    slugs = [p["slug"] for p in people]
    director_slots = rng.choices((1, 2, 3), weights=DIRECTOR_WEIGHTS, k=count)
    careers = iter(_director_careers(rng, count, sum(director_slots), len(people)))
    theme_weights = list(itertools.accumulate(1 / rank for rank in range(1, len(theme_slugs) + 1)))
    role_weights = list(itertools.accumulate(OTHER_ROLE_WEIGHTS))
    other_counts = range(len(OTHER_CREDIT_WEIGHTS))
    other_weights = list(itertools.accumulate(OTHER_CREDIT_WEIGHTS))
    source = [SOURCE_KEY]
    works: list[Document] = []
    if progress is not None:
        progress(0, count)
    for number, directors in enumerate(director_slots, start=1):
        if progress is not None and number % PROGRESS_EVERY == 0:
            progress(number, count)
        work: Document = {}
        original: str | None = None
        if rng.random() < HANGUL_TITLE_SHARE:
            title = random_hangul_title(rng)
        else:
            title = random_title(rng, names)
            if rng.random() < ORIGINAL_TITLE_SHARE:
                original = random_hangul_title(rng)
        work["slug"] = "-".join(filter(None, (slugify(title) or "work", str(number))))
        work["title"] = title
        if original is not None:
            work["originalTitle"] = original
        if rng.random() < ALTERNATIVE_TITLE_SHARE:
            others: list[str] = []
            for _ in range(rng.choice((1, 1, 2))):
                other = alternative_title(rng, title, names)
                if other != title and other != original and other not in others:
                    others.append(other)
            if others:
                work["alternativeTitles"] = others
        work["kind"] = "SERIES" if rng.random() < SERIES_SHARE else "FILM"
        if rng.random() >= UNKNOWN_YEAR_SHARE:
            work["year"] = round(rng.triangular(YEAR_FIRST, YEAR_LAST, YEAR_MODE))
        else:
            work["year"] = None
        if rng.random() < SYNOPSIS_SHARE:
            work["synopsis"] = _synopsis(rng)

        # Directors first (billing order), then the others; a repeated (person, role) is
        # dropped, so a work keeps 1-3 directors and at most 8 other credits.
        chosen: dict[tuple[int, str], None] = {}
        for _ in range(directors):
            chosen.setdefault((next(careers), "DIRECTOR"), None)
        wanted = rng.choices(other_counts, cum_weights=other_weights)[0]
        roles = rng.choices(OTHER_ROLES, cum_weights=role_weights, k=wanted)
        for role in roles:
            # Popularity skew: some actors and writers appear in many more works than most.
            chosen.setdefault((int(len(slugs) * rng.random() ** 2), role), None)
        work["credits"] = [{"person": slugs[person], "role": role} for person, role in chosen]

        wanted = rng.randint(*THEMES_PER_WORK)
        tags: dict[str, None] = {}
        while len(tags) < wanted:
            tags[rng.choices(theme_slugs, cum_weights=theme_weights)[0]] = None
        work["themes"] = list(tags)

        if works and rng.random() < RELATED_SHARE:
            earlier = works[rng.randrange(len(works))]["slug"]
            work["related"] = [{"type": rng.choice(RELATION_TYPES), "work": earlier}]
        work["sources"] = source
        works.append(work)
    if progress is not None and count % PROGRESS_EVERY:
        progress(count, count)
    return works
