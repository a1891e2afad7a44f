"""The structure findings of the reference file (shared/reference/fact-check.md), one row
each: served over GraphQL with exactly the sources that state them (issue #22).

Each row names the finding as the file words it, where it is served (a work, and a path into
its structure), the value served and the source keys expected, in order. Where a finding's
address in the file turned out not to state a value, the page that does is cited instead
(looked up, never guessed): The Schoolgirl's Diary's "August 2006" is stated by the Wilson
Center's screening page (Wikipedia says only "the 2006 Pyongyang Film Festival"), and part 1
of The Country I Saw is dated 1988 by both of the file's addresses, 1987 by Pyongyang Travel's
page for part 1. Studios come from pages found for them (the file names none).

After the rows, a check in the other direction: no structure value cites a source the table
does not expect for it, so nothing is credited to a page that does not state it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.graphql import GraphQL

SOURCES = "sources { key }"
EVENT = f"kind date {{ text }} until {{ text }} place qualifier {SOURCES}"
STRUCTURE = f"""query($slug: String!) {{ work(slug: $slug) {{
  forms audience attributions {{ field {SOURCES} }}
  parts {{ label {SOURCES} events {{ {EVENT} }} }}
  events {{ {EVENT} }}
  studios {{ role studio {{ slug originalName {SOURCES} }} {SOURCES} }}
  basedOn {{ title originalTitle form {SOURCES} }}
}} }}"""

SEED = "seed-document"
NKS, N38 = "nks-1384", "38north-jlewis083012"
YNA = "yna-akr20200217145100504"
DAILY_NK = "dailynk-mother-of-militaryfirst-chosun-mad"
IMDB_TRAFFIC = "imdb-tt4309644"
WP_STUDIO = "wp-korean-art-film-studio"
WILSON = "wilsoncenter-the-schoolgirls-diary"

Served = tuple[Any, list[str]]


def keys(value: dict[str, Any]) -> list[str]:
    return [s["key"] for s in value["sources"]]


def attribution(field: str) -> Callable[[dict[str, Any]], Served]:
    def read(work: dict[str, Any]) -> Served:
        found = {a["field"]: keys(a) for a in work["attributions"]}
        return work[field], found.get(field, [])

    return read


def part(label: str) -> Callable[[dict[str, Any]], Served]:
    def read(work: dict[str, Any]) -> Served:
        [found] = [p for p in work["parts"] if p["label"] == label]
        return label, keys(found)

    return read


def event_value(e: dict[str, Any]) -> str:
    """An event as the table words it: "MADE 2009..2010 France SOMETIMES"."""
    text = f"{e['kind']} {e['date']['text']}"
    if e["until"]:
        text += f"..{e['until']['text']}"
    return " ".join([text, *(str(e[k]) for k in ("place", "qualifier") if e[k])])


def event(date: str, *, of_part: str | None = None) -> Callable[[dict[str, Any]], Served]:
    def read(work: dict[str, Any]) -> Served:
        events = work["events"]
        if of_part is not None:
            [found_part] = [p for p in work["parts"] if p["label"] == of_part]
            events = found_part["events"]
        [found] = [e for e in events if e["date"]["text"] == date]
        return event_value(found), keys(found)

    return read


def studio(slug: str) -> Callable[[dict[str, Any]], Served]:
    def read(work: dict[str, Any]) -> Served:
        [found] = [c for c in work["studios"] if c["studio"]["slug"] == slug]
        return f"{found['role']}: {found['studio']['originalName']}", keys(found)

    return read


def origin(work: dict[str, Any]) -> Served:
    [found] = work["basedOn"]
    return f"{found['form']}: {found['title']}", keys(found)


@dataclass(frozen=True)
class Finding:
    finding: str  # as fact-check.md words it
    work: str
    read: Callable[[dict[str, Any]], Served]
    value: Any
    sources: tuple[str, ...]


FINDINGS = [
    # The Country I Saw
    Finding(
        "a five-part feature film",
        "the-country-i-saw",
        attribution("forms"),
        ["FEATURE", "MULTI_PART_FILM"],
        (NKS,),
    ),
    Finding("part 1", "the-country-i-saw", part("Part 1"), "Part 1", (NKS, N38)),
    Finding(
        "part 1 dated 1988 by some references",
        "the-country-i-saw",
        event("1988", of_part="Part 1"),
        "MADE 1988",
        (NKS, N38),
    ),
    Finding(
        "... and 1987 by others",
        "the-country-i-saw",
        event("1987", of_part="Part 1"),
        "MADE 1987",
        ("pyongyang-travel-the-country-i-saw-part-1",),
    ),
    Finding("parts 2-5", "the-country-i-saw", part("Parts 2\u20135"), "Parts 2\u20135", (NKS, N38)),
    Finding(
        "parts 2-5 made 2009-10",
        "the-country-i-saw",
        event("2009", of_part="Parts 2\u20135"),
        "MADE 2009..2010",
        (NKS,),
    ),
    # A Traffic Controller on Crossroads
    Finding(
        "a single feature film",
        "a-traffic-controller-on-crossroads",
        attribution("forms"),
        ["FEATURE"],
        (IMDB_TRAFFIC,),
    ),
    Finding(
        "dated 1986",
        "a-traffic-controller-on-crossroads",
        event("1986"),
        "MADE 1986",
        (IMDB_TRAFFIC,),
    ),
    # Boy Commander / Boy General
    Finding(
        "animated TV series",
        "boy-commander",
        attribution("forms"),
        ["ANIMATION", "TV_SERIES"],
        (YNA,),
    ),
    Finding(
        "children's series (the seed)",
        "boy-commander",
        attribution("audience"),
        "CHILDREN",
        (SEED,),
    ),
    Finding(
        "episodes 1-50", "boy-commander", part("Episodes 1\u201350"), "Episodes 1\u201350", (YNA,)
    ),
    Finding(
        "episodes 1-50 aired 1982-1997",
        "boy-commander",
        event("1982", of_part="Episodes 1\u201350"),
        "BROADCAST 1982..1997",
        (YNA,),
    ),
    Finding(
        "episodes 51-100",
        "boy-commander",
        part("Episodes 51\u2013100"),
        "Episodes 51\u2013100",
        (YNA,),
    ),
    Finding(
        "51-100 aired 2015-2019",
        "boy-commander",
        event("2015", of_part="Episodes 51\u2013100"),
        "BROADCAST 2015..2019",
        (YNA,),
    ),
    # The Schoolgirl's Diary
    Finding(
        "debuted August 2006",
        "the-schoolgirls-diary",
        event("2006-08"),
        "PREMIERE 2006-08",
        (WILSON,),
    ),
    Finding(
        "released in France 2007",
        "the-schoolgirls-diary",
        event("2007"),
        "RELEASE 2007 France",
        ("wp-the-schoolgirls-diary", WILSON),
    ),
    # Pulgasari
    Finding(
        "premiere sometimes given as 1986",
        "pulgasari",
        event("1986"),
        "PREMIERE 1986 Toho Studios SOMETIMES",
        ("wp-pulgasari",),
    ),
    # The Respected Mother
    Finding(
        "a 2011 documentary",
        "the-respected-mother",
        attribution("forms"),
        ["DOCUMENTARY"],
        (DAILY_NK,),
    ),
    Finding(
        "a 2011 documentary (made)", "the-respected-mother", event("2011"), "MADE 2011", (DAILY_NK,)
    ),
    Finding("leaked in 2012", "the-respected-mother", event("2012"), "LEAK 2012", (DAILY_NK,)),
    # Origins
    Finding(
        "1971 is the premiere of the opera",
        "sea-of-blood",
        origin,
        "revolutionary opera: Sea of Blood",
        ("wp-sea-of-blood",),
    ),
    Finding(
        "adaptation of a traditional Korean folk tale (the seed)",
        "the-tale-of-chun-hyang",
        origin,
        "folk tale: The Tale of Chun Hyang",
        (SEED, "nouveaucinema-the-tale-of-chun-hyang"),
    ),
    # Studios (pages found for them; the file names none)
    Finding(
        "The Flower Girl: Korean Art Film Studio",
        "the-flower-girl",
        studio("korean-art-film-studio"),
        "production: 조선예술영화촬영소",
        (WP_STUDIO,),
    ),
    Finding(
        "Pulgasari: Korean Art Film Studio",
        "pulgasari",
        studio("korean-art-film-studio"),
        "production: 조선예술영화촬영소",
        (WP_STUDIO,),
    ),
    Finding(
        "The Country I Saw: 조선예술영화촬영소",
        "the-country-i-saw",
        studio("korean-art-film-studio"),
        "production: 조선예술영화촬영소",
        (NKS, N38),
    ),
    Finding(
        "Boy General: 조선4.26만화영화촬영소",
        "boy-commander",
        studio("korean-april-26-animation-studio"),
        "production: 조선4.26만화영화촬영소",
        ("nkeconomy-2435",),
    ),
]


async def _work(gql: GraphQL, slug: str) -> dict[str, Any]:
    work: dict[str, Any] = (await gql(STRUCTURE, {"slug": slug}))["work"]
    return work


@pytest.mark.parametrize("row", FINDINGS, ids=lambda r: f"{r.work}: {r.finding}")
async def test_each_finding_is_served_with_exactly_its_sources(gql: GraphQL, row: Finding) -> None:
    value, sources = row.read(await _work(gql, row.work))
    assert value == row.value
    assert tuple(sources) == row.sources


def _cited(work: dict[str, Any]) -> list[tuple[str, tuple[str, ...]]]:
    """Every structure value of a work with its sources, as (what, keys)."""
    found = [
        (a["field"], tuple(keys(a)))
        for a in work["attributions"]
        if a["field"] in ("forms", "audience")
    ]
    for p in work["parts"]:
        found.append((p["label"], tuple(keys(p))))
        found += [(f"{p['label']}: {event_value(e)}", tuple(keys(e))) for e in p["events"]]
    found += [(event_value(e), tuple(keys(e))) for e in work["events"]]
    found += [(f"studio {c['studio']['slug']}", tuple(keys(c))) for c in work["studios"]]
    found += [(f"origin {o['title']}", tuple(keys(o))) for o in work["basedOn"]]
    return found


async def test_no_structure_value_cites_a_source_the_table_does_not_expect(
    gql: GraphQL,
) -> None:
    """Every value served is one of the table's rows, with the table's sources: nothing more
    is stated, and nothing is credited to a page that does not state it."""
    expected: dict[str, list[tuple[str, ...]]] = {}
    for row in FINDINGS:
        expected.setdefault(row.work, []).append(row.sources)
    slugs = [
        w["slug"] for w in (await gql("{ works(first: 100) { nodes { slug } } }"))["works"]["nodes"]
    ]
    for slug in slugs:
        served = _cited(await _work(gql, slug))
        rows = sorted(expected.get(slug, []))
        assert sorted(sources for _, sources in served) == rows, (slug, served)


async def test_studios_are_attributed_to_the_pages_that_name_them(gql: GraphQL) -> None:
    data = await gql("{ studios { nodes { slug originalName sources { key } } } }")
    assert {s["slug"]: [k["key"] for k in s["sources"]] for s in data["studios"]["nodes"]} == {
        "korean-art-film-studio": [WP_STUDIO],
        "korean-april-26-animation-studio": ["wp-sek-studio", "nkeconomy-2435"],
    }
