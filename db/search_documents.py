"""What each kind of record puts in its search document (``db.text.search_document``).

One place, so the catalog import, the curation mutations and migration 0014 build the same
document from the same fields: names first (ranked by how they match), then prose — a work's
synopsis and what its disputes report and note, a person's biography — which search ranks
below any name (``db.search``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from db.text import search_document


def work_document(
    title: str,
    original_title: str | None,
    alternative_titles: Sequence[str],
    synopsis: str | None,
    disputes: Iterable[tuple[str, str | None]] = (),
) -> str:
    """``disputes``: each dispute's reported value and note (``Kim Jun-ok``, ``박정주``)."""
    prose = [synopsis, *(text for reported, note in disputes for text in (reported, note))]
    names = [title, *([original_title] if original_title else []), *alternative_titles]
    return search_document(names, prose)


def person_document(
    name: str, original_name: str | None, alternative_names: Sequence[str], biography: str | None
) -> str:
    return search_document(
        [name, *([original_name] if original_name else []), *alternative_names], [biography]
    )


def theme_document(name: str) -> str:
    return search_document([name])
