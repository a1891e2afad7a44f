"""The benchmark's catalog: ``seeds.synthetic``'s (the generator behind ``nkcinema seed
--synthetic``), loaded as ``nkcinema seed`` loads it, and what the workloads need to know of it.

So the catalog measured is the one a user can build and load with the command, through the
same validation and bulk writes, derived columns (sort keys, search documents, tag arrays)
included. The same ``works`` and ``seed`` give the same catalog.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from seeds.synthetic import synthetic_catalog


@dataclass
class Catalog:
    """The interchange document to load and the rankings the workloads pick from."""

    seed: int
    document: dict[str, Any]
    directors_by_works: list[tuple[str, int]] = field(default_factory=list)
    themes_by_works: list[tuple[str, int]] = field(default_factory=list)

    @property
    def works(self) -> int:
        return len(self.document["works"])

    @property
    def work_slugs(self) -> list[str]:
        """Every work's slug, in the document's order (the order of their ids once loaded)."""
        return [w["slug"] for w in self.document["works"]]

    def counts(self) -> dict[str, int]:
        """The rows the catalog puts in each table."""
        people, works = self.document["people"], self.document["works"]
        return {
            "sources": len(self.document["sources"]),
            "themes": len(self.document["themes"]),
            "people": len(people),
            "person_alternative_names": _total(people, "alternativeNames"),
            "person_sources": _total(people, "sources"),
            "works": len(works),
            "work_alternative_titles": _total(works, "alternativeTitles"),
            "work_themes": _total(works, "themes"),
            "credits": _total(works, "credits"),
            "work_relations": _total(works, "related"),
            "work_sources": _total(works, "sources"),
        }


def build_catalog(works: int, seed: int = 3) -> Catalog:
    """A catalog of ``works`` works; the same ``works`` and ``seed`` give the same catalog."""
    document = synthetic_catalog(works, seed)
    credits = (c for w in document["works"] for c in w["credits"])
    return Catalog(
        seed=seed,
        document=document,
        directors_by_works=_most_works(
            (c["person"] for c in credits if c["role"] == "DIRECTOR"),
            [p["slug"] for p in document["people"]],
        ),
        themes_by_works=_most_works(
            (t for w in document["works"] for t in w["themes"]),
            [t["slug"] for t in document["themes"]],
        ),
    )


def _total(records: list[dict[str, Any]], key: str) -> int:
    return sum(len(r.get(key) or ()) for r in records)


def _most_works(slugs: Iterable[str], order: list[str]) -> list[tuple[str, int]]:
    """``(slug, works)`` by works, most first; ties in the records' order in the document."""
    counts = collections.Counter(slugs)
    rank = {slug: i for i, slug in enumerate(order)}
    return sorted(counts.items(), key=lambda item: (-item[1], rank[item[0]]))
