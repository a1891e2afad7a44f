"""The load benchmark's workloads W1-W5: the GraphQL operation each sends to the app, the
variables it rotates through, the body the floor endpoint gets for the same data, and for
W1-W3 the equivalent PostGraphile operation with a function that maps its answer onto ours
(so that the three servers can be checked to return the same data before they are timed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.catalog import Catalog
from bench.workloads import WORK_SEARCH_TERMS

PICKED_WORKS = 20  # W1 rotates through this many works, spread over the catalog
# W5: (kind, first year, last year), each about as selective as the others.
FACET_FILTERS = (("FILM", 1970, 1989), ("FILM", 1950, 1969), ("SERIES", 1960, 1989))

W1 = """query W1($slug: String!) {
  work(slug: $slug) { slug title year kind directors { slug name } themes { slug name } }
}"""
W2 = """query W2 {
  works(first: 50) { nodes { slug title year directors { name } themes { name } } }
}"""
W3 = """query W3 {
  directors(first: 100) {
    nodes { name works(role: DIRECTOR, first: 10) { nodes { title year themes { name } } } }
  }
}"""
W4 = """query W4($term: String!) {
  works(filter: {search: $term}, first: 20) { nodes { slug title year } }
}"""
W5 = """query W5($kind: WorkKind!, $from: Int!, $to: Int!) {
  works(filter: {kind: $kind, yearFrom: $from, yearTo: $to}, first: 50) {
    totalCount
    nodes { slug title year directors { name } themes { name } }
    facets {
      kinds { kind count }
      decades { decade count }
      themes(first: 10) { theme { name } count }
    }
  }
}"""

# -- PostGraphile (v4, default inflection) ---------------------------------------------------

PG_DIRECTORS = 'creditsByWorkId(condition: {role: "DIRECTOR"}, orderBy: POSITION_ASC)'
PG_THEMES = "workThemesByWorkId(orderBy: POSITION_ASC)"
PG_W1 = f"""query W1($slug: String!) {{
  workBySlug(slug: $slug) {{
    slug title year kind
    {PG_DIRECTORS} {{ nodes {{ personByPersonId {{ slug name }} }} }}
    {PG_THEMES} {{ nodes {{ themeByThemeId {{ slug name }} }} }}
  }}
}}"""
PG_W2 = f"""query W2 {{
  allWorks(first: 50, orderBy: [TITLE_KEY_ASC, ID_ASC]) {{
    nodes {{
      slug title year
      {PG_DIRECTORS} {{ nodes {{ personByPersonId {{ name }} }} }}
      {PG_THEMES} {{ nodes {{ themeByThemeId {{ name }} }} }}
    }}
  }}
}}"""
# "Directors" and "a director's works in filmography order" are not relations PostGraphile
# can derive from foreign keys: they are the two SQL functions below (its documented way to
# add a root query and a computed column), created in the throwaway database.
PG_W3 = f"""query W3 {{
  directors(first: 100) {{
    nodes {{
      name
      directedWorks(first: 10) {{
        nodes {{ title year {PG_THEMES} {{ nodes {{ themeByThemeId {{ name }} }} }} }}
      }}
    }}
  }}
}}"""
POSTGRAPHILE_FUNCTIONS = (
    """CREATE FUNCTION directors() RETURNS SETOF people LANGUAGE sql STABLE AS $$
    SELECT p.* FROM people p
    WHERE EXISTS (SELECT 1 FROM credits c WHERE c.person_id = p.id AND c.role = 'DIRECTOR')
    ORDER BY p.name_key, p.id
    $$""",
    """CREATE FUNCTION people_directed_works(p people) RETURNS SETOF works LANGUAGE sql STABLE
    AS $$
    SELECT w.* FROM works w JOIN credits c ON c.work_id = w.id
    WHERE c.person_id = p.id AND c.role = 'DIRECTOR'
    ORDER BY c.work_year_unknown, c.work_year, c.work_title_key, c.work_id
    $$""",
)


def _names(connection: dict[str, Any], relation: str) -> list[dict[str, Any]]:
    return [node[relation] for node in connection["nodes"]]


def _pg_work(work: dict[str, Any]) -> dict[str, Any]:
    """A PostGraphile work, reshaped as ours (credits and tags flattened to people, themes)."""
    shaped = {k: v for k, v in work.items() if not k.endswith("ByWorkId")}
    if "creditsByWorkId" in work:
        shaped["directors"] = _names(work["creditsByWorkId"], "personByPersonId")
    if "workThemesByWorkId" in work:
        shaped["themes"] = _names(work["workThemesByWorkId"], "themeByThemeId")
    return shaped


def _pg_w1(data: dict[str, Any]) -> dict[str, Any]:
    work = data["workBySlug"]
    return {"work": None if work is None else _pg_work(work)}


def _pg_w2(data: dict[str, Any]) -> dict[str, Any]:
    return {"works": {"nodes": [_pg_work(w) for w in data["allWorks"]["nodes"]]}}


def _pg_w3(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "directors": {
            "nodes": [
                {
                    "name": p["name"],
                    "works": {"nodes": [_pg_work(w) for w in p["directedWorks"]["nodes"]]},
                }
                for p in data["directors"]["nodes"]
            ]
        }
    }


@dataclass(frozen=True)
class Peer:
    """The same workload for PostGraphile: its query and the map from its data to ours."""

    query: str
    to_ours: Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class LoadWorkload:
    key: str
    description: str
    query: str
    variants: tuple[dict[str, Any], ...]  # GraphQL variables; also the floor's request body
    peer: Peer | None = None
    notes: list[str] = field(default_factory=list)

    def graphql_bodies(self) -> list[dict[str, Any]]:
        return [{"query": self.query, "variables": v} for v in self.variants]

    def floor_bodies(self) -> list[dict[str, Any]]:
        return list(self.variants)

    def peer_bodies(self) -> list[dict[str, Any]]:
        assert self.peer is not None
        return [{"query": self.peer.query, "variables": v} for v in self.variants]


def _picked_slugs(catalog: Catalog) -> list[str]:
    works = catalog.work_slugs
    step = max(1, len(works) // PICKED_WORKS)
    return [works[(i * step + 7) % len(works)] for i in range(min(PICKED_WORKS, len(works)))]


def build_load_workloads(catalog: Catalog) -> list[LoadWorkload]:
    return [
        LoadWorkload(
            "W1",
            f"one work by slug with directors and themes ({PICKED_WORKS} works in rotation)",
            W1,
            tuple({"slug": s} for s in _picked_slugs(catalog)),
            Peer(PG_W1, _pg_w1),
        ),
        LoadWorkload(
            "W2",
            "the first page of 50 works by title, with directors and themes",
            W2,
            ({},),
            Peer(PG_W2, _pg_w2),
        ),
        LoadWorkload(
            "W3",
            "directors(first: 100), each with 10 of their works and the works' themes",
            W3,
            ({},),
            Peer(PG_W3, _pg_w3),
        ),
        LoadWorkload(
            "W4",
            f"works search, 20 hits ({len(WORK_SEARCH_TERMS)} terms in rotation)",
            W4,
            tuple({"term": t} for t in WORK_SEARCH_TERMS),
        ),
        LoadWorkload(
            "W5",
            "kind + year-range filter, 50 with totalCount, directors, themes and facets "
            "(kinds, decades, top 10 themes)",
            W5,
            tuple({"kind": k, "from": a, "to": b} for k, a, b in FACET_FILTERS),
        ),
    ]
