"""The load benchmark's workloads W1-W11: the GraphQL operation each sends to the app, the
variables it rotates through, the body the floor endpoint gets for the same data, and, where
PostGraphile can express it, the equivalent PostGraphile operation (v4 and v5) with a function
that maps its answer onto ours (so that every server can be checked to return the same data
before it is timed).

W1-W5 were the first five; W6-W10 are what the example frontend and GraphiQL's tabs send
besides (issue #23): the root search, a filtered page with facets, a work's page, a person's
third page by nested cursor and node lookups. W11 is the catalog's first page with the
whole catalog's facets, which issue #23 sets a target for. Some variables depend on the
loaded database (global ids, cursors): ``resolve`` asks the app for them once the catalog is
loaded.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bench.catalog import Catalog
from bench.workloads import ROOT_SEARCH_TERMS, WORK_SEARCH_TERMS

PICKED_WORKS = 20  # W1 and W8 rotate through this many works, spread over the catalog
# W5: (kind, first year, last year), each about as selective as the others.
FACET_FILTERS = (("FILM", 1970, 1989), ("FILM", 1950, 1969), ("SERIES", 1960, 1989))
FACET_THEMES = range(2, 6)  # W7: themes by works tagged (ranks), each tagging about as many
PAGED_PEOPLE = 5  # W9: the people credited on the most works
PAGE = 20  # W9's page size: page 3 starts after the 40th work
NODES = {"Work": 8, "Person": 8, "Theme": 4}  # W10's global ids, spread over each table

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
W6 = """query W6($query: String!) {
  search(query: $query, first: 20) {
    __typename
    ... on Work { slug title year }
    ... on Person { slug name }
    ... on Theme { slug name }
  }
}"""
W7 = """query W7($theme: String!) {
  works(filter: {theme: $theme}, first: 20) {
    totalCount
    nodes { slug title year directors { name } }
    facets {
      kinds { kind count }
      decades { decade count }
      themes(first: 10) { theme { slug name } count }
    }
  }
}"""
W8 = """query W8($slug: String!) {
  work(slug: $slug) {
    slug title originalTitle year kind synopsis
    credits { role person { slug name } }
    themes { slug name }
    sources { key title url }
    disputes { field stated reported note source { title } }
    externalIds { system value }
  }
}"""
W9 = """query W9($slug: String!, $after: String!) {
  person(slug: $slug) {
    name
    works(first: 20, after: $after) { nodes { slug title year themes { name } } }
  }
}"""
W10 = """query W10($id: ID!) {
  node(id: $id) {
    __typename
    ... on Work { slug title year }
    ... on Person { slug name }
    ... on Theme { slug name }
  }
}"""
W11 = """query W11 {
  works(first: 20) {
    totalCount
    nodes { slug title year }
    facets {
      kinds { kind count }
      decades { decade count }
      themes(first: 10) { theme { slug name } count }
    }
  }
}"""
QUERIES = {
    "W1": W1,
    "W2": W2,
    "W3": W3,
    "W4": W4,
    "W5": W5,
    "W6": W6,
    "W7": W7,
    "W8": W8,
    "W9": W9,
    "W10": W10,
    "W11": W11,
}

# -- PostGraphile (v4 with its default inflection, v5 with the Amber preset) --------------------

POSTGRAPHILE, POSTGRAPHILE_V5 = "PostGraphile", "PostGraphile v5"


@dataclass(frozen=True)
class Naming:
    """Where PostGraphile's versions name things differently: v5's Amber preset calls the
    global id `id` and so a table's own `id` column `rowId` (v4: `nodeId` and `id`)."""

    row_id: str
    row_id_order: str
    node_id: str
    node_argument: str


V4 = Naming("id", "ID_ASC", "nodeId", "nodeId")
V5 = Naming("rowId", "ROW_ID_ASC", "id", "id")

PG_DIRECTORS = 'creditsByWorkId(condition: {role: "DIRECTOR"}, orderBy: POSITION_ASC)'
PG_THEMES = "workThemesByWorkId(orderBy: POSITION_ASC)"


def pg_w1(_naming: Naming) -> str:
    return f"""query W1($slug: String!) {{
  workBySlug(slug: $slug) {{
    slug title year kind
    {PG_DIRECTORS} {{ nodes {{ personByPersonId {{ slug name }} }} }}
    {PG_THEMES} {{ nodes {{ themeByThemeId {{ slug name }} }} }}
  }}
}}"""


def pg_w2(naming: Naming) -> str:
    return f"""query W2 {{
  allWorks(first: 50, orderBy: [TITLE_KEY_ASC, {naming.row_id_order}]) {{
    nodes {{
      slug title year
      {PG_DIRECTORS} {{ nodes {{ personByPersonId {{ name }} }} }}
      {PG_THEMES} {{ nodes {{ themeByThemeId {{ name }} }} }}
    }}
  }}
}}"""


# "Directors", "a director's works in filmography order" and "a person's works, each once, in
# filmography order" are not relations PostGraphile can derive from foreign keys: they are the
# SQL functions below (its documented way to add a root query and computed columns), created
# in the throwaway database.
def pg_w3(_naming: Naming) -> str:
    return f"""query W3 {{
  directors(first: 100) {{
    nodes {{
      name
      directedWorks(first: 10) {{
        nodes {{ title year {PG_THEMES} {{ nodes {{ themeByThemeId {{ name }} }} }} }}
      }}
    }}
  }}
}}"""


def pg_w8(_naming: Naming) -> str:
    return """query W8($slug: String!) {
  workBySlug(slug: $slug) {
    slug title originalTitle year kind synopsis
    creditsByWorkId(orderBy: POSITION_ASC) { nodes { role personByPersonId { slug name } } }
    workThemesByWorkId(orderBy: POSITION_ASC) { nodes { themeByThemeId { slug name } } }
    workSourcesByWorkId(orderBy: POSITION_ASC) { nodes { sourceBySourceId { key title url } } }
    disputesByWorkId(orderBy: POSITION_ASC) {
      nodes { field stated reported note sourceBySourceId { title } }
    }
    workExternalIdsByWorkId(orderBy: SYSTEM_ASC) { nodes { system value } }
  }
}"""


# PostGraphile pages a function's rows by position (its cursors there are row numbers), so
# page 3 is `offset: 40`: the same work for it as its own cursor would be.
def pg_w9(_naming: Naming) -> str:
    return f"""query W9($slug: String!) {{
  personBySlug(slug: $slug) {{
    name
    works(first: {PAGE}, offset: {2 * PAGE}) {{
      nodes {{ slug title year {PG_THEMES} {{ nodes {{ themeByThemeId {{ name }} }} }} }}
    }}
  }}
}}"""


def pg_w10(naming: Naming) -> str:
    return f"""query W10($id: ID!) {{
  node({naming.node_argument}: $id) {{
    __typename
    ... on Work {{ slug title year }}
    ... on Person {{ slug name }}
    ... on Theme {{ slug name }}
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
    """CREATE FUNCTION people_works(p people) RETURNS SETOF works LANGUAGE sql STABLE AS $$
    SELECT w.* FROM works w
    WHERE w.id IN (SELECT c.work_id FROM credits c WHERE c.person_id = p.id)
    ORDER BY w.year IS NULL, w.year, w.title_key, w.id
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


def _pg_w8(data: dict[str, Any]) -> dict[str, Any]:
    work = data["workBySlug"]
    if work is None:
        return {"work": None}
    shaped = {k: v for k, v in work.items() if not k.endswith("ByWorkId")}
    shaped["credits"] = [
        {"role": c["role"], "person": c["personByPersonId"]}
        for c in work["creditsByWorkId"]["nodes"]
    ]
    shaped["themes"] = _names(work["workThemesByWorkId"], "themeByThemeId")
    shaped["sources"] = _names(work["workSourcesByWorkId"], "sourceBySourceId")
    shaped["disputes"] = [
        {**{k: v for k, v in d.items() if k != "sourceBySourceId"}, "source": d["sourceBySourceId"]}
        for d in work["disputesByWorkId"]["nodes"]
    ]
    shaped["externalIds"] = work["workExternalIdsByWorkId"]["nodes"]
    return {"work": shaped}


def _pg_w9(data: dict[str, Any]) -> dict[str, Any]:
    person = data["personBySlug"]
    if person is None:
        return {"person": None}
    works = [_pg_work(w) for w in person["works"]["nodes"]]
    return {"person": {"name": person["name"], "works": {"nodes": works}}}


Ask = Callable[[str, dict[str, Any]], dict[str, Any]]
"""Sends a query with variables to the peer's server; its data."""

TABLE_FIELDS = {"Work": "allWorks", "Person": "allPeople", "Theme": "allThemes"}


def _pg_w10_variables(naming: Naming) -> Callable[[Ask, dict[str, Any]], dict[str, Any]]:
    """Our global id to the peer's, asked of the peer (its ids are its own encoding)."""

    def variables(ask: Ask, ours: dict[str, Any]) -> dict[str, Any]:
        type_name, row_id = from_global_id(ours["id"])
        table = TABLE_FIELDS[type_name]
        query = (
            f"query($row: Int!) {{ {table}(condition: {{{naming.row_id}: $row}}) "
            f"{{ nodes {{ {naming.node_id} }} }} }}"
        )
        return {"id": ask(query, {"row": row_id})[table]["nodes"][0][naming.node_id]}

    return variables


def _slug_only(_ask: Ask, ours: dict[str, Any]) -> dict[str, Any]:
    return {"slug": ours["slug"]}


@dataclass(frozen=True)
class Peer:
    """The same workload for PostGraphile: its query, the map from its data to ours, and (when
    they differ) the map from our variables to its own."""

    query: str
    to_ours: Callable[[dict[str, Any]], dict[str, Any]]
    variables: Callable[[Ask, dict[str, Any]], dict[str, Any]] | None = None


def _peers(
    query: Callable[[Naming], str],
    to_ours: Callable[[dict[str, Any]], dict[str, Any]],
    variables: Callable[[Naming], Callable[[Ask, dict[str, Any]], dict[str, Any]] | None] = (
        lambda _naming: None
    ),
) -> dict[str, Peer]:
    return {
        name: Peer(query(naming), to_ours, variables(naming))
        for name, naming in ((POSTGRAPHILE, V4), (POSTGRAPHILE_V5, V5))
    }


# The workloads PostGraphile can express (the others are search and facets): those
# build_load_workloads gives peers.
EXPRESSIBLE_BY_POSTGRAPHILE = frozenset({"W1", "W2", "W3", "W8", "W9", "W10"})

Post = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
"""Sends a GraphQL request to the app; its data (raises on errors)."""


@dataclass(frozen=True)
class LoadWorkload:
    key: str
    description: str
    query: str
    variants: tuple[dict[str, Any], ...]  # GraphQL variables; also the floor's request body
    peers: dict[str, Peer] = field(default_factory=dict)  # by server name
    notes: list[str] = field(default_factory=list)
    # Variants whose values the loaded database decides (ids, cursors), asked of the app:
    # the variants above are then what it needs to find them.
    resolve: (
        Callable[[Post, tuple[dict[str, Any], ...]], Awaitable[tuple[dict[str, Any], ...]]] | None
    ) = None

    def graphql_bodies(self) -> list[dict[str, Any]]:
        return [{"query": self.query, "variables": v} for v in self.variants]

    def floor_bodies(self) -> list[dict[str, Any]]:
        return list(self.variants)


def from_global_id(value: str) -> tuple[str, int]:
    """``gql.ids``' global id: base64 of "Type:id"."""
    type_name, _, row_id = base64.b64decode(value).decode("utf-8").partition(":")
    return type_name, int(row_id)


def _spread(items: list[str], count: int) -> list[str]:
    step = max(1, len(items) // count)
    return [items[(i * step + 7) % len(items)] for i in range(min(count, len(items)))]


def _picked_slugs(catalog: Catalog) -> list[str]:
    return _spread(catalog.work_slugs, PICKED_WORKS)


def _most_credited(catalog: Catalog, count: int) -> list[str]:
    """The people credited on the most works (each work once), most first."""
    works: dict[str, set[str]] = {}
    for work in catalog.document["works"]:
        for credit in work["credits"]:
            works.setdefault(credit["person"], set()).add(work["slug"])
    ranked = sorted(works.items(), key=lambda item: (-len(item[1]), item[0]))
    return [slug for slug, _ in ranked[:count]]


async def _page_three(
    post: Post, variants: tuple[dict[str, Any], ...]
) -> tuple[dict[str, Any], ...]:
    """Each person's cursor after their second page (pages 1 and 2 fetched, untimed)."""
    resolved = []
    for variant in variants:
        after: str | None = None
        for _page in range(2):
            data = await post(
                {
                    "query": """query($slug: String!, $first: Int!, $after: String) {
                      person(slug: $slug) {
                        works(first: $first, after: $after) { pageInfo { endCursor } }
                      }
                    }""",
                    "variables": {"slug": variant["slug"], "first": PAGE, "after": after},
                }
            )
            after = data["person"]["works"]["pageInfo"]["endCursor"] or after
        if after is not None:
            resolved.append({"slug": variant["slug"], "after": after})
    return tuple(resolved)


async def _global_ids(
    post: Post, variants: tuple[dict[str, Any], ...]
) -> tuple[dict[str, Any], ...]:
    """Each record's global id, by its slug."""
    resolved = []
    for variant in variants:
        field_name = variant["type"].lower()
        data = await post(
            {
                "query": f"query($slug: String!) {{ {field_name}(slug: $slug) {{ id }} }}",
                "variables": {"slug": variant["slug"]},
            }
        )
        resolved.append({"id": data[field_name]["id"]})
    return tuple(resolved)


async def resolve(workloads: list[LoadWorkload], post: Post) -> list[LoadWorkload]:
    """The workloads with the variants that depend on the loaded database filled in."""
    done = []
    for workload in workloads:
        if workload.resolve is not None:
            variants = await workload.resolve(post, workload.variants)
            workload = dataclasses.replace(workload, variants=variants, resolve=None)
        done.append(workload)
    return done


def _node_records(catalog: Catalog) -> list[dict[str, Any]]:
    document = catalog.document
    slugs = {
        "Work": [w["slug"] for w in document["works"]],
        "Person": [p["slug"] for p in document["people"]],
        "Theme": [t["slug"] for t in document["themes"]],
    }
    return [
        {"type": type_name, "slug": slug}
        for type_name, count in NODES.items()
        for slug in _spread(slugs[type_name], count)
    ]


def build_load_workloads(catalog: Catalog) -> list[LoadWorkload]:
    themes = [slug for slug, _ in catalog.themes_by_works]
    facet_themes = [themes[i] for i in FACET_THEMES if i < len(themes)]
    return [
        LoadWorkload(
            "W1",
            f"one work by slug with directors and themes ({PICKED_WORKS} works in rotation)",
            W1,
            tuple({"slug": s} for s in _picked_slugs(catalog)),
            _peers(pg_w1, _pg_w1),
        ),
        LoadWorkload(
            "W2",
            "the first page of 50 works by title, with directors and themes",
            W2,
            ({},),
            _peers(pg_w2, _pg_w2),
        ),
        LoadWorkload(
            "W3",
            "directors(first: 100), each with 10 of their works and the works' themes",
            W3,
            ({},),
            _peers(pg_w3, _pg_w3),
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
        LoadWorkload(
            "W6",
            f"root search across works, people and themes, 20 hits ({len(ROOT_SEARCH_TERMS)} "
            "terms in rotation)",
            W6,
            tuple({"query": t} for t in ROOT_SEARCH_TERMS),
        ),
        LoadWorkload(
            "W7",
            f"a theme's works, 20 with totalCount, directors and facets (kinds, decades, top 10 "
            f"themes; {len(facet_themes)} themes in rotation)",
            W7,
            tuple({"theme": t} for t in facet_themes),
        ),
        LoadWorkload(
            "W8",
            f"a work's page: credits with people, themes, sources, disputes, external ids "
            f"({PICKED_WORKS} works in rotation)",
            W8,
            tuple({"slug": s} for s in _picked_slugs(catalog)),
            _peers(pg_w8, _pg_w8),
        ),
        LoadWorkload(
            "W9",
            f"a person's works, page 3 of {PAGE} by the cursor after page 2, with themes "
            f"(the {PAGED_PEOPLE} people credited on the most works in rotation)",
            W9,
            tuple({"slug": s} for s in _most_credited(catalog, PAGED_PEOPLE)),
            _peers(pg_w9, _pg_w9, lambda _naming: _slug_only),
            resolve=_page_three,
        ),
        LoadWorkload(
            "W10",
            f"node(id:) by global id ({sum(NODES.values())} works, people and themes in rotation)",
            W10,
            tuple(_node_records(catalog)),
            _peers(pg_w10, lambda data: data, _pg_w10_variables),
            resolve=_global_ids,
        ),
        LoadWorkload(
            "W11",
            "the first page of 20 works by title with totalCount and the whole catalog's facets "
            "(kinds, decades, top 10 themes)",
            W11,
            ({},),
        ),
    ]
