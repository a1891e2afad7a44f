"""What each kind of record puts in its search document (``db.text.search_document``).

One place, so the catalog import, the curation mutations and migration 0014 build the same
document from the same fields: names first (ranked by how they match), then prose — a work's
synopsis and what its disputes report and note, a person's biography — which search ranks
below any name (``db.search``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from db.enums import Qualifier, TitleKind
from db.text import search_document


def work_document(
    title: str,
    original_title: str | None,
    alternative_titles: Sequence[str],
    synopsis: str | None,
    disputes: Iterable[tuple[str, str | None]] = (),
    forms: Iterable[str] = (),
) -> str:
    """``disputes``: each dispute's reported value and note (``Kim Jun-ok``, ``박정주``);
    ``forms``: the texts of the work's typed titles (``work_titles``), which may name forms
    the contract's lists do not hold (``네거리 초병``, qualified "probably")."""
    prose = [synopsis, *(text for reported, note in disputes for text in (reported, note))]
    names = [title, *([original_title] if original_title else []), *alternative_titles]
    return search_document(_with(names, forms), prose)


def person_document(
    name: str,
    original_name: str | None,
    alternative_names: Sequence[str],
    biography: str | None,
    forms: Iterable[str] = (),
) -> str:
    """``forms``: the texts of the person's typed names (``person_names``)."""
    names = [name, *([original_name] if original_name else []), *alternative_names]
    return search_document(_with(names, forms), [biography])


def _with(names: list[str], forms: Iterable[str]) -> list[str]:
    """The names, then each form not among them yet, in order."""
    return list(dict.fromkeys([*names, *forms]))


def theme_document(name: str) -> str:
    return search_document([name])


def searchable_forms(forms: Iterable[tuple[str, TitleKind, Qualifier | None]]) -> list[str]:
    """The texts of typed forms ``(text, kind, qualifier)`` that the record's own fields do
    not already hold: a main form is the title or name itself and an unqualified original
    form the original one (the format's rule), so a curator's rename, which rewrites those
    forms after the document is built, leaves the same document as a fresh import."""
    return [
        text
        for text, kind, qualifier in forms
        if kind is not TitleKind.MAIN and not (kind is TitleKind.ORIGINAL and qualifier is None)
    ]
