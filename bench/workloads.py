"""The workloads: GraphQL operations a frontend sends, each with a few rotating variables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from bench.catalog import Catalog

# Romanized variants, words that hit often or rarely, and Hangul; since #22 also Hangul
# fragments of one and two syllables (indexed as tripled syllables), a romanization only the
# generated RR/MR forms of Hangul titles hold (새벽 "saebyeok"; synthetic English titles say
# "Dawn") and words only synopses hold (ranked below names). W4/S1/S2 rounds from before
# #22 ran the first eight / six terms only.
WORK_SEARCH_TERMS = (
    "flower girl",
    "pulgasari",
    "choe",
    "chunhyang",
    "꽃파는",
    "sea of blood",
    "mountain",
    "pyongyang",
    "바다",
    "춘",
    "saebyeok",
    "stage play",
)
ROOT_SEARCH_TERMS = (
    "choi ik kyu",
    "bulgasari",
    "flower girl",
    "꽃파는",
    "kim hak",
    "resistance",
    "청춘",
    "novel",
)
# Variants of a workload should cost about the same (a pooled p50 over a cheap and an
# expensive variant means nothing), so common and rare themes are separate workloads.
COMMON_THEMES = range(0, 4)  # ranks by works tagged
RARE_THEMES = range(-4, 0)
PROLIFIC_DIRECTORS = 3
DEEP_PAGE = 40
DEEP_PAGES = 10  # pages DEEP_PAGE .. DEEP_PAGE + DEEP_PAGES - 1 are timed
PAGE_SIZE = 50


@dataclass(frozen=True)
class Workload:
    key: str
    description: str
    query: str
    variants: tuple[dict[str, Any], ...]

    def payload(self, index: int) -> dict[str, Any]:
        """The request body of the index-th request (variants in rotation)."""
        return {"query": self.query, "variables": self.variants[index % len(self.variants)]}


class WorkloadError(RuntimeError):
    """The app answered a workload's request with an error."""


async def post(client: httpx.AsyncClient, payload: dict[str, Any]) -> Any:
    """The operation's data; raises on any error."""
    response = await client.post("/graphql", json=payload)
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise WorkloadError(f"{payload['variables']}: {response.status_code} {response.text}")
    return body["data"]


S1 = """query S1($term: String!) {
  works(filter: {search: $term}, first: 20) { nodes { title year } }
}"""
S2 = """query S2($term: String!) {
  search(query: $term, first: 20) {
    __typename
    ... on Work { title year }
    ... on Person { name }
    ... on Theme { name }
  }
}"""
F1 = """query F1 {
  works(
    filter: {kind: FILM, yearFrom: 1970, yearTo: 1989}
    orderBy: [{field: YEAR, direction: DESC}]
    first: 50
  ) {
    totalCount
    nodes { title year directors { name } themes { name } }
  }
}"""
F2 = """query F2($themes: [String!]) {
  works(filter: {themes: $themes}, first: 50) { nodes { title } }
}"""
F3 = """query F3($director: String!) {
  works(filter: {director: $director}, first: 50) {
    totalCount
    nodes { title year themes { name } }
  }
}"""
P1 = """query P1($after: String) {
  works(first: 50, after: $after) {
    pageInfo { endCursor hasNextPage }
    nodes { title year }
  }
}"""


async def _deep_cursors(client: httpx.AsyncClient) -> tuple[dict[str, Any], ...]:
    """Walk the title-ordered list from page 1 (untimed) and keep the cursors that open pages
    DEEP_PAGE and later."""
    cursors: list[dict[str, Any]] = []
    after: str | None = None
    for page in range(1, DEEP_PAGE + DEEP_PAGES):
        data = await post(client, {"query": P1, "variables": {"after": after}})
        info = data["works"]["pageInfo"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
        if page + 1 >= DEEP_PAGE:
            cursors.append({"after": after})
    if not cursors:  # a catalog too small to have page DEEP_PAGE: time the last page there is
        cursors.append({"after": after})
    return tuple(cursors)


def _theme_workload(key: str, which: str, themes: list[tuple[str, int]]) -> Workload:
    counts = ", ".join(f"{n:,}" for _, n in themes)
    return Workload(
        key,
        f"works with one of {which}, 50 ({counts} works each)",
        F2.replace("query F2", f"query {key}"),
        tuple({"themes": [slug]} for slug, _ in themes),
    )


async def build_workloads(client: httpx.AsyncClient, catalog: Catalog) -> list[Workload]:
    common = [catalog.themes_by_works[r] for r in COMMON_THEMES]
    rare = [catalog.themes_by_works[r] for r in RARE_THEMES]
    directors = catalog.directors_by_works[:PROLIFIC_DIRECTORS]
    return [
        Workload(
            "S1",
            "works search, 20 hits",
            S1,
            tuple({"term": t} for t in WORK_SEARCH_TERMS),
        ),
        Workload(
            "S2",
            "root search across types, 20 hits",
            S2,
            tuple({"term": t} for t in ROOT_SEARCH_TERMS),
        ),
        Workload(
            "F1",
            "films 1970-1989 by year desc, 50 with totalCount, directors, themes",
            F1,
            ({},),
        ),
        _theme_workload("F2", "the commonest themes", common),
        Workload(
            "F3",
            "a prolific director's works, 50 with totalCount and themes ("
            + ", ".join(f"{n:,}" for _, n in directors)
            + " works)",
            F3,
            tuple({"director": slug} for slug, _ in directors),
        ),
        _theme_workload("F4", "the rarest themes", rare),
        Workload(
            "P1",
            f"title order, pages {DEEP_PAGE}-{DEEP_PAGE + DEEP_PAGES - 1} of {PAGE_SIZE} "
            "via after cursors",
            P1,
            await _deep_cursors(client),
        ),
    ]
