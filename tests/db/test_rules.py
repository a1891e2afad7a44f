"""db.rules: one set of rules for text, slugs, source keys, URLs and list sizes, and the
interchange format's validator applying exactly them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from db import models as m
from db import rules
from db.interchange.format import parse_catalog
from db.text import SLUG_PATTERN, SORT_KEY_LENGTH, slugify, sort_key


def code(result: str | rules.Problem) -> str:
    return result.code if isinstance(result, rules.Problem) else "OK"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Sea of Blood", "OK"),
        ("피바다", "OK"),
        ("a\x00b", "INVALID_TEXT"),
        ("a\ud800b", "INVALID_TEXT"),
        ("a\udfffb", "INVALID_TEXT"),
        ("a\nb", "INVALID_TEXT"),
        ("a\tb", "INVALID_TEXT"),
        ("a\x1bb", "INVALID_TEXT"),
        ("a\x85b", "INVALID_TEXT"),
        ("a\u2028b", "INVALID_TEXT"),
        ("", "REQUIRED"),
        ("  \t\n ", "REQUIRED"),
        ("\u200b", "REQUIRED"),
        ("\u200b\u200c\u200d\u2060\ufeff", "REQUIRED"),
        ("\u3164\u115f\u1160\uffa0", "REQUIRED"),  # Hangul fillers
        ("\u2800 \u00ad \u034f \u180e \ufe0f", "REQUIRED"),
        ("\U000e0020\U000e0041", "REQUIRED"),  # tag characters
        ("x" * 500, "OK"),
        ("x" * 501, "TOO_LONG"),
        ("x" * 100_000, "TOO_LONG"),
        ("e\u0301" * 500, "OK"),  # 1,000 code points given, 500 once composed (NFC)
    ],
)
def test_names(value: str, expected: str) -> None:
    assert code(rules.NAME(value)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("One.\nTwo.\tThree.", "OK"),
        ("a\x00b", "INVALID_TEXT"),
        ("a\x0bb", "INVALID_TEXT"),
        ("a\x7fb", "INVALID_TEXT"),
        ("\n\u200b\n", "REQUIRED"),
        ("x" * 20_000, "OK"),
        ("x" * 20_001, "TOO_LONG"),
    ],
)
def test_prose(value: str, expected: str) -> None:
    assert code(rules.PROSE(value)) == expected


def test_text_is_normalised() -> None:
    assert rules.NAME("  Cafe\u0301  ") == "Caf\u00e9"
    assert rules.NAME("\u1112\u1161\u11ab") == "\ud55c"  # Hangul jamo compose
    assert rules.PROSE(" a\r\nb\rc\n ") == "a\nb\nc"
    assert rules.NAME("a\u200bb") == "a\u200bb"  # invisible inside visible text: kept


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("sea-of-blood", "OK"),
        ("a" * 200, "OK"),
        ("a" * 201, "INVALID_SLUG"),
        ("", "INVALID_SLUG"),
        (" abc", "INVALID_SLUG"),
        ("abc\n", "INVALID_SLUG"),
        ("Sea", "INVALID_SLUG"),
        ("sea--blood", "INVALID_SLUG"),
        ("x\x00", "INVALID_SLUG"),
        ("x\ud800", "INVALID_SLUG"),
        ("\u200b", "INVALID_SLUG"),
    ],
)
def test_slugs(value: str, expected: str) -> None:
    assert code(rules.SLUG(value)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("kfa-1972.catalogue_2", "OK"),
        ("k" * 100, "OK"),
        ("k" * 101, "TOO_LONG"),
        ("", "REQUIRED"),
        (" ", "REQUIRED"),
        (" a/b c ", "INVALID_KEY"),
        ("a/b", "INVALID_KEY"),
        ("-a", "INVALID_KEY"),
        ("A", "INVALID_KEY"),
        ("a\n", "INVALID_KEY"),
        ("a\x00", "INVALID_KEY"),
    ],
)
def test_source_keys(value: str, expected: str) -> None:
    assert code(rules.SOURCE_KEY(value)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://en.wikipedia.org/wiki/Sea_of_Blood", "OK"),
        ("http://example.org", "OK"),
        ("https://example.org/" + "x" * (m.URL_LENGTH - 20), "OK"),
        ("https://example.org/" + "x" * (m.URL_LENGTH - 19), "INVALID_URL"),
        ("ftp://example.org/x", "INVALID_URL"),
        ("javascript:alert(1)", "INVALID_URL"),
        ("HTTPS://example.org", "INVALID_URL"),
        ("https://", "INVALID_URL"),
        ("https:///x", "INVALID_URL"),
        ("https://[::1", "INVALID_URL"),
        ("https://example.org/a\r\nSet-Cookie: x", "INVALID_URL"),
        ("https://example.org/a\n", "INVALID_URL"),
        (" https://example.org", "INVALID_URL"),
        ("https://example.org/a b", "INVALID_URL"),
        ("https://example.org/\u200b", "INVALID_URL"),
        ("https://example.org/\u202e", "INVALID_URL"),
        ("https://example.org/\x00", "INVALID_URL"),
        ("https://example.org/\ud800", "INVALID_URL"),
    ],
)
def test_urls(value: str, expected: str) -> None:
    assert code(rules.URL(value)) == expected


def test_list_sizes() -> None:
    assert rules.list_size(rules.MAX_LIST_ITEMS) is None
    problem = rules.list_size(40_000)
    assert problem is not None and problem.code == "TOO_MANY"


def test_limits_are_the_columns() -> None:
    columns = {
        rules.NAME.limit: [m.Work.title, m.Work.original_title, m.Person.name, m.Source.title],
        rules.SOURCE_KEY_LENGTH: [m.Source.key],
        m.URL_LENGTH: [m.Source.url],
        m.SLUG_LENGTH: [m.Work.slug, m.Person.slug, m.Theme.slug],
        rules.FIELD_NAME_LENGTH: [m.Dispute.field],
        rules.EXTERNAL_ID.limit: [m.WorkExternalId.value],
    }
    for limit, found in columns.items():
        for column in found:
            assert column.type.length == limit, column  # type: ignore[attr-defined]


# -- bounded generated values ------------------------------------------------------------------


@given(st.text(max_size=600))
def test_generated_slugs_fit_with_any_suffix(title: str) -> None:
    slug = rules.bounded_slug(slugify(title) or "work")
    assert slug and SLUG_PATTERN.fullmatch(slug)
    assert len(f"{slug}-999999999") <= m.SLUG_LENGTH


def test_long_slugs_are_cut_at_a_word_boundary() -> None:
    words = slugify(" ".join(["Chollima"] * 40))
    cut = rules.bounded_slug(words)
    assert cut == "-".join(["chollima"] * 21)  # 21 words: 188 characters; 22 would be 197
    assert rules.bounded_slug("a" * 250) == "a" * 190
    assert rules.bounded_slug("ab-" + "c" * 250) == "ab"
    assert rules.bounded_slug("a" * 190 + "-b") == "a" * 190


@pytest.mark.parametrize("title", ["\u00df" * 500, "\ufb03" * 500, "\u0390" * 500, "A" * 500])
def test_sort_keys_fit_their_column(title: str) -> None:
    assert rules.NAME(title) == title
    key = sort_key(title)
    assert 0 < len(key) <= SORT_KEY_LENGTH
    assert key == sort_key(title.lower())


@given(st.text(max_size=500))
def test_sort_keys_always_fit(title: str) -> None:
    assert len(sort_key(title)) <= SORT_KEY_LENGTH


# -- the interchange format applies the same rules -------------------------------------------


def _source_document(**source: Any) -> dict[str, Any]:
    return {"sources": [{"key": "k", "title": "T", "url": None, **source}]}


def _one_problem(document: dict[str, Any]) -> tuple[str, str]:
    # through JSON text and back, as a file would arrive
    _, problems = parse_catalog(json.loads(json.dumps(document)), "f.json")
    assert len(problems) == 1, problems
    return problems[0].position, problems[0].reason


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("key", " a/b c ", rules.SOURCE_KEY),
        ("key", "a\x00", rules.SOURCE_KEY),
        ("title", "\u200b\u3164", rules.NAME),
        ("title", "a\ud800", rules.NAME),
        ("title", "a\nb", rules.NAME),
        ("url", "https://example.org/\r\nX", rules.URL),
        ("url", "https://example.org/\u200b", rules.URL),
        ("url", "https:///x", rules.URL),
    ],
)
def test_the_format_refuses_what_the_rules_refuse(field: str, value: str, rule: Any) -> None:
    problem = rule(value)
    assert isinstance(problem, rules.Problem)
    assert _one_problem(_source_document(**{field: value})) == (
        f"sources[0].{field}",
        problem.message,
    )


def test_the_format_stores_what_the_rules_make() -> None:
    document = {
        "themes": [{"slug": "t", "name": " Cafe\u0301 ", "description": "a\r\nb"}],
        "works": [
            {
                "slug": "w",
                "title": "\u1112\u1161\u11ab",
                "kind": "FILM",
                "disputes": [
                    {"field": "year", "stated": "1", "reported": " 2 ", "source": "k"},
                ],
            }
        ],
        **_source_document(),
    }
    catalog, problems = parse_catalog(document, "f.json")
    assert problems == []
    assert (catalog.themes[0].name, catalog.themes[0].description) == ("Caf\u00e9", "a\nb")
    assert catalog.works[0].title == "\ud55c"
    assert catalog.works[0].disputes[0].reported == "2"
