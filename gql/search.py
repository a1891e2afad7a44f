"""Ranked search across works, people and themes: ``search`` and ``searchHits``."""

from __future__ import annotations

from typing import Annotated

import strawberry

from db import search as s
from gql.context import Info
from gql.errors import BadUserInput, PageSizeExceeded
from gql.inputs import text_argument
from gql.types.person import Person
from gql.types.theme import Theme
from gql.types.work import Work

SearchResult = Annotated[
    Work | Person | Theme,
    strawberry.union("SearchResult", description="A work, a person or a theme found by `search`."),
]


@strawberry.type(description="One search result: what was found, how well, and on which name.")
class SearchHit:
    node: SearchResult = strawberry.field(description="The work, person or theme found.")
    score: float = strawberry.field(
        description="How well it matched, 0 to 1: 1 for a whole name, 0.9 for a name's start, "
        "0.75 inside a name, 0.6 inside a synopsis, biography or note, below 0.5 for a similar "
        "spelling (typo tolerance)."
    )
    query: strawberry.Private[str]

    @strawberry.field(
        description="The name the query matched best: a title, an original (Hangul) or "
        "alternative title, or a person's name in any recorded spelling (a Hangul name also "
        "by its romanizations; the first name when only a synopsis, biography or note matched)."
    )
    async def matched_text(self, info: Info) -> str:
        loaders = info.context.loaders
        node = self.node
        if isinstance(node, Work):
            names = [node.title, *([node.original_title] if node.original_title else [])]
            names += await loaders.alternative_titles.load(node.row.id)
        elif isinstance(node, Person):
            names = [node.name, *([node.original_name] if node.original_name else [])]
            names += await loaders.alternative_names.load(node.row.id)
        else:
            names = [node.name]
        return s.best_name(self.query, names)


async def search_hits(info: Info, query: str, first: int | None) -> list[SearchHit]:
    text = text_argument(query, "query")
    assert text is not None
    limit = 10 if first is None else first
    maximum = info.context.settings.max_page_size
    if limit < 0:
        raise BadUserInput("`first` must not be negative", argument="first")
    if limit > maximum:
        raise PageSizeExceeded(f"`first` may be at most {maximum}", maximum=maximum)
    loaders = info.context.loaders
    hits = await loaders.run(s.search, text, limit)
    works = await loaders.work.load_many([h.id for h in hits if h.kind == "work"])
    people = await loaders.person.load_many([h.id for h in hits if h.kind == "person"])
    themes = await loaders.theme.load_many([h.id for h in hits if h.kind == "theme"])
    found: dict[tuple[str, int], Work | Person | Theme] = {}
    found.update({("work", w.id): Work.from_row(w) for w in works if w is not None})
    found.update({("person", p.id): Person.from_row(p) for p in people if p is not None})
    found.update({("theme", t.id): Theme.from_row(t) for t in themes if t is not None})
    return [
        SearchHit(node=found[(h.kind, h.id)], score=h.score, query=text)
        for h in hits
        if (h.kind, h.id) in found
    ]


QueryText = Annotated[
    str, strawberry.argument(description="Words to look for, in any romanization.")
]
SearchFirst = Annotated[
    int | None, strawberry.argument(description="How many results at most (default 10).")
]
