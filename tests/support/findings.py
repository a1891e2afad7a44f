"""The reference findings' table runner: a finding is a value a record must be served with,
and the sources it must be attributed to (exactly those), read over GraphQL.

A ``Finding`` names a record (a work or a person, by slug), what is stated (``what``) and the
value:

- ``title`` / ``name``: a form of the work's title or the person's name (``Title.text``,
  ``Name.text``), with its kind and qualifier when given;
- ``year`` / ``kind``: the record's field equals the value and is attributed to the sources
  (agreements: the seed and the references);
- ``credit``: ``"person-slug ROLE"``, with its note (a substring), qualifier and episodes
  (``"51-100"``) when given;
- ``dispute``: ``"field=reported"``, with its qualifier, its note (a substring) and the
  people it reports (``"slug ROLE"``) when given; the dispute's one source is the one source;
- ``reported``: on a person, ``"work-slug ROLE"``, a work a reference attributes to them.

``served_pairs`` lists every (record, what, value, source) the API serves from a reference
(not the seed), so a test can check that no page is credited with a value the table does not
give it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.support.graphql import GraphQL

SEED = "seed-document"

FORM = "text kind language script romanization qualifier generated sources { key }"
WORK_QUERY = f"""query($slug: String!) {{ work(slug: $slug) {{
  slug title kind year
  titles {{ {FORM} }}
  attributions {{ field sources {{ key }} }}
  credits {{ role note qualifier episodes {{ first last }} person {{ slug }} sources {{ key }} }}
  disputes {{ field stated reported note qualifier source {{ key }} reportedPeople {{ slug }} }}
  related {{ type work {{ slug }} sources {{ key }} }}
}} }}"""
PERSON_QUERY = f"""query($slug: String!) {{ person(slug: $slug) {{
  slug name originalName
  names {{ {FORM} }}
  attributions {{ field sources {{ key }} }}
  reported {{ role work {{ slug }} person {{ slug }} dispute {{ field reported }}
    sources {{ key }} }}
}} }}"""


@dataclass(frozen=True)
class Finding:
    record: str  # "work" or "person"
    slug: str
    what: str
    value: str
    sources: tuple[str, ...]
    kind: str | None = None  # a title's or name's kind
    qualifier: str | None = None
    note: str | None = None  # a substring of the credit's or dispute's note
    episodes: str | None = None  # "51-100"
    reported_people: tuple[str, ...] = ()  # "slug ROLE"

    @property
    def id(self) -> str:
        return f"{self.slug}:{self.what}:{self.value}"


class Records:
    """The records findings name, each read once over GraphQL."""

    def __init__(self, gql: GraphQL) -> None:
        self.gql = gql
        self.cache: dict[tuple[str, str], dict[str, Any]] = {}

    async def get(self, record: str, slug: str) -> dict[str, Any]:
        if (record, slug) not in self.cache:
            query = WORK_QUERY if record == "work" else PERSON_QUERY
            data = await self.gql(query, {"slug": slug})
            assert data[record] is not None, f"no {record} {slug!r}"
            self.cache[(record, slug)] = data[record]
        return self.cache[(record, slug)]


def _keys(sources: list[dict[str, str]]) -> tuple[str, ...]:
    return tuple(s["key"] for s in sources)


def _attributed(record: dict[str, Any], field: str) -> tuple[str, ...]:
    for attribution in record["attributions"]:
        if attribution["field"] == field:
            return _keys(attribution["sources"])
    return ()


def _problems(finding: Finding, record: dict[str, Any]) -> list[str]:
    """What is wrong with how ``record`` serves ``finding`` (nothing: it is served right)."""
    f = finding
    problems: list[str] = []

    def expect(what: str, served: object, wanted: object) -> None:
        if served != wanted:
            problems.append(f"{what}: served {served!r}, expected {wanted!r}")

    if f.what in ("title", "name"):
        forms = [t for t in record["titles" if f.what == "title" else "names"]]
        found = [t for t in forms if t["text"] == f.value and not t["generated"]]
        if f.kind is not None:
            found = [t for t in found if t["kind"] == f.kind]
        if len(found) != 1:
            return [f"{len(found)} stated {f.what}s {f.value!r} (kind {f.kind})"]
        expect("sources", _keys(found[0]["sources"]), f.sources)
        expect("qualifier", found[0]["qualifier"], f.qualifier)
    elif f.what in ("year", "kind"):
        expect(f.what, str(record[f.what]), f.value)
        expect("attribution", _attributed(record, f.what), f.sources)
    elif f.what == "credit":
        person, role = f.value.split()
        found = [c for c in record["credits"] if (c["person"]["slug"], c["role"]) == (person, role)]
        if len(found) != 1:
            return [f"{len(found)} credits {f.value!r}"]
        credit = found[0]
        expect("sources", _keys(credit["sources"]), f.sources)
        expect("qualifier", credit["qualifier"], f.qualifier)
        episodes = credit["episodes"]
        expect("episodes", episodes and f"{episodes['first']}-{episodes['last']}", f.episodes)
        if f.note is not None and f.note not in (credit["note"] or ""):
            problems.append(f"note {credit['note']!r} lacks {f.note!r}")
    elif f.what == "dispute":
        field, reported = f.value.split("=", 1)
        found = [d for d in record["disputes"] if (d["field"], d["reported"]) == (field, reported)]
        if len(found) != 1:
            return [f"{len(found)} disputes {f.value!r}"]
        dispute = found[0]
        expect("source", (dispute["source"]["key"],), f.sources)
        expect("qualifier", dispute["qualifier"], f.qualifier)
        if f.reported_people:
            slugs = tuple(p.split()[0] for p in f.reported_people)
            expect("reportedPeople", tuple(p["slug"] for p in dispute["reportedPeople"]), slugs)
        if f.note is not None and f.note not in (dispute["note"] or ""):
            problems.append(f"note {dispute['note']!r} lacks {f.note!r}")
    elif f.what == "reported":
        work, role = f.value.split()
        found = [r for r in record["reported"] if (r["work"]["slug"], r["role"]) == (work, role)]
        if len(found) != 1:
            return [f"{len(found)} reported credits {f.value!r}"]
        expect("sources", _keys(found[0]["sources"]), f.sources)
    else:
        problems.append(f"unknown finding kind {f.what!r}")
    return problems


async def check(gql: GraphQL, finding: Finding, records: Records | None = None) -> list[str]:
    """The problems with how the API serves ``finding``; empty when it is served exactly."""
    record = await (records or Records(gql)).get(finding.record, finding.slug)
    return _problems(finding, record)


def served_pairs(record_kind: str, record: dict[str, Any]) -> set[tuple[str, str, str, str, str]]:
    """Every (record, slug, what, value, source) the record is served with from a source
    other than the seed: the statements the references are credited with."""
    slug = record["slug"]
    pairs: set[tuple[str, str, str, str, str]] = set()

    def add(what: str, value: str, keys: tuple[str, ...]) -> None:
        pairs.update((record_kind, slug, what, value, k) for k in keys if k != SEED)

    for form in record.get("titles", []) + record.get("names", []):
        add("title" if record_kind == "work" else "name", form["text"], _keys(form["sources"]))
    for field in ("year", "kind"):
        if field in record:
            add(field, str(record[field]), _attributed(record, field))
    for credit in record.get("credits", []):
        add("credit", f"{credit['person']['slug']} {credit['role']}", _keys(credit["sources"]))
    for dispute in record.get("disputes", []):
        add("dispute", f"{dispute['field']}={dispute['reported']}", (dispute["source"]["key"],))
    for reported in record.get("reported", []):
        add(
            "reported", f"{reported['work']['slug']} {reported['role']}", _keys(reported["sources"])
        )
    return pairs


def table_pairs(findings: list[Finding]) -> set[tuple[str, str, str, str, str]]:
    """The (record, slug, what, value, source) pairs a table of findings gives."""
    return {
        (f.record, f.slug, f.what, f.value, k) for f in findings for k in f.sources if k != SEED
    }
