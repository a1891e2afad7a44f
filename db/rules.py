"""The rules every value entering the catalog must pass: one place, shared by the API's input
layer (``gql.validated``, ``gql.inputs``), the curation functions (``db.curation``) and the
interchange format's validator (``db.interchange.format``). So whatever the API accepts, an
export loads back, and the other way round.

A rule takes a string and returns it normalised (Unicode NFC; text fields without surrounding
whitespace and, in prose, with ``\\n`` line ends) or a :class:`Problem` with a stable code.

- Text never holds NUL (PostgreSQL refuses it), lone surrogates (no UTF-8 encoding exists for
  them), or control characters, except tabs and line breaks in prose (synopsis, biography,
  description, dispute texts and notes). A text of nothing but whitespace and invisible
  characters (zero-width spaces, joiners, fillers: Unicode's default-ignorable code points
  and the braille blank) is blank. Lengths count code points after normalisation, as
  PostgreSQL's ``varchar(n)`` does, and match the columns of ``db.models``.
- Slugs are lowercase ``a-z``/``0-9`` words joined by single hyphens, at most
  ``SLUG_LENGTH``; source keys are ``[a-z0-9][a-z0-9._-]*``, at most 100; URLs are absolute
  ``http(s)`` addresses with a host and no whitespace or control or invisible characters, at
  most ``URL_LENGTH``. Identifiers are checked as given, never trimmed.
- Language tags are BCP 47 (``ko``, ``en``, ``ko-Latn``), at most 35 characters; script codes
  ISO 15924 (``Hang``, ``Latn``): checked as given, in their canonical case.
- Lists in a mutation's input hold at most ``MAX_LIST_ITEMS`` values.
- Partial dates are ISO 8601 of reduced precision: ``1988``, ``2006-08``, ``1971-07-17``; a
  year within the catalog's years, a real month, a real calendar day.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

from db.enums import PartUnit
from db.models import (
    EXTERNAL_ID_LENGTH,
    LANGUAGE_TAG_LENGTH,
    ROLE_LENGTH,
    SCRIPT_CODE_LENGTH,
    SLUG_LENGTH,
    TEXT_LENGTH,
    URL_LENGTH,
    YEAR_MAX,
    YEAR_MIN,
)
from db.text import SLUG_PATTERN

# Codes (the API's userError codes; the interchange format reports the messages)
REQUIRED = "REQUIRED"
TOO_LONG = "TOO_LONG"
TOO_MANY = "TOO_MANY"
INVALID_TEXT = "INVALID_TEXT"
INVALID_SLUG = "INVALID_SLUG"
INVALID_KEY = "INVALID_KEY"
INVALID_URL = "INVALID_URL"
INVALID_DATE = "INVALID_DATE"
INVALID_CODE = "INVALID_CODE"

LONG_TEXT_LENGTH = 20_000  # prose: synopsis, biography, description, dispute texts, notes
FIELD_NAME_LENGTH = 40  # a dispute's field name (``disputes.field``)
SOURCE_KEY_LENGTH = 100  # ``sources.key``
# The most values one list of a mutation's input may hold (directors, themes, a new billing
# order): far above any real work (the bundled catalog's longest list has 4), far below the
# databases' limits on parameters per statement (PostgreSQL: 32,767).
MAX_LIST_ITEMS = 1_000
# Room a generated slug leaves for its uniqueness suffix (``-2`` … ``-999999999``).
SLUG_SUFFIX_ROOM = 10

SOURCE_KEY_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]*")
_SURROGATE = re.compile("[\ud800-\udfff]")
# C0 and C1 controls and DEL; prose keeps tab, line feed and carriage return (made \n).
_CONTROL_PROSE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt) and the braille blank:
# characters that render as nothing. A text made only of these and whitespace is blank.
_INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff"
)
_VISIBLE = re.compile(rf"[^\s{_INVISIBLE}]")
# Nothing invisible, no whitespace, no control, in a URL: what is shown is what is fetched.
_URL_FORBIDDEN = re.compile(rf"[\s\x00-\x1f\x7f-\x9f{_INVISIBLE}\ud800-\udfff]")
_LINE_ENDS = re.compile(r"\r\n?")


@dataclass(frozen=True)
class Problem:
    """Why a value was refused: a stable ``code`` and a ``message`` that reads after the
    field's name or position ("is longer than 500 characters")."""

    code: str
    message: str


def _unencodable(value: str) -> Problem | None:
    if "\x00" in value:
        return Problem(INVALID_TEXT, "must not contain NUL characters")
    if _SURROGATE.search(value):
        return Problem(INVALID_TEXT, "must not contain lone surrogates (unpaired UTF-16 halves)")
    return None


def is_blank(value: str) -> bool:
    """Whether ``value`` shows nothing: only whitespace and invisible characters."""
    return _VISIBLE.search(value) is None


@dataclass(frozen=True)
class Text:
    """Free text of at most ``limit`` characters; ``prose`` allows tabs and line breaks."""

    limit: int
    prose: bool = False

    def __call__(self, value: str) -> str | Problem:
        problem = _unencodable(value)
        if problem is not None:
            return problem
        if len(value) > 4 * self.limit + 100:  # however NFC composes, it stays too long
            return Problem(TOO_LONG, f"is longer than {self.limit} characters")
        value = unicodedata.normalize("NFC", value)
        if self.prose:
            value = _LINE_ENDS.sub("\n", value)
        value = value.strip()
        if is_blank(value):
            return Problem(REQUIRED, "must not be blank")
        control = _CONTROL_PROSE if self.prose else _CONTROL_LINE
        if control.search(value):
            what = "control characters" if self.prose else "control characters or line breaks"
            return Problem(INVALID_TEXT, f"must not contain {what}")
        if len(value) > self.limit:
            return Problem(TOO_LONG, f"is longer than {self.limit} characters")
        return value


@dataclass(frozen=True)
class Slug:
    """A slug, as given (``INVALID_SLUG`` whatever is wrong with it)."""

    def __call__(self, value: str) -> str | Problem:
        problem = _unencodable(value)
        if problem is not None:
            return Problem(INVALID_SLUG, problem.message)
        if not value.strip():
            return Problem(INVALID_SLUG, "must not be blank")
        if len(value) > SLUG_LENGTH:
            return Problem(INVALID_SLUG, f"is longer than {SLUG_LENGTH} characters")
        if not SLUG_PATTERN.fullmatch(value):
            return Problem(
                INVALID_SLUG, f"{value!r} is not a slug (lowercase a-z, 0-9 and hyphens)"
            )
        return value


@dataclass(frozen=True)
class SourceKey:
    """A source's key, as given."""

    def __call__(self, value: str) -> str | Problem:
        problem = _unencodable(value)
        if problem is not None:
            return Problem(INVALID_KEY, problem.message)
        if not value.strip():
            return Problem(REQUIRED, "must not be blank")
        if len(value) > SOURCE_KEY_LENGTH:
            return Problem(TOO_LONG, f"is longer than {SOURCE_KEY_LENGTH} characters")
        if not SOURCE_KEY_PATTERN.fullmatch(value):
            return Problem(
                INVALID_KEY, f"{value!r} is not a source key (lowercase a-z, 0-9, . _ -)"
            )
        return value


@dataclass(frozen=True)
class Url:
    """An absolute http(s) URL with a host, as given."""

    def __call__(self, value: str) -> str | Problem:
        problem = _unencodable(value)
        if problem is not None:
            return Problem(INVALID_URL, problem.message)
        if len(value) > URL_LENGTH:
            return Problem(INVALID_URL, f"is longer than {URL_LENGTH} characters")
        if not value.startswith(("http://", "https://")) or _URL_FORBIDDEN.search(value):
            return Problem(INVALID_URL, "must be an http(s) URL")
        try:
            host = urlsplit(value).netloc
        except ValueError:  # e.g. an unclosed IPv6 bracket
            host = ""
        if not host:
            return Problem(INVALID_URL, "must be an http(s) URL")
        return value


_PARTIAL_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")


@dataclass(frozen=True)
class PartialDate:
    """A date known to the year, the month or the day, as given: ``1988``, ``2006-08``,
    ``1971-07-17``."""

    def __call__(self, value: str) -> str | Problem:
        match = _PARTIAL_DATE.fullmatch(value)
        if match is None:
            return Problem(
                INVALID_DATE, f"{value[:40]!r} is not a date (YYYY, YYYY-MM, YYYY-MM-DD)"
            )
        year, month, day = partial_date(value)
        if not YEAR_MIN <= year <= YEAR_MAX:
            return Problem(INVALID_DATE, f"the year must be between {YEAR_MIN} and {YEAR_MAX}")
        if month is not None and not 1 <= month <= 12:
            return Problem(INVALID_DATE, f"{value!r} has no month {month}")
        if day is not None and not 1 <= day <= calendar.monthrange(year, month or 1)[1]:
            return Problem(INVALID_DATE, f"{value!r} is not a day of the calendar")
        return value


def partial_date(text: str) -> tuple[int, int | None, int | None]:
    """The year, month and day of a partial date's text (the month and day None where not
    known); the text must match (``PARTIAL_DATE`` checks it)."""
    match = _PARTIAL_DATE.fullmatch(text)
    assert match is not None
    year, month, day = match.groups()
    return int(year), int(month) if month else None, int(day) if day else None


def part_label(unit: PartUnit, first: int, last: int) -> str:
    """How a work's part is called: "Part 1", "Parts 2\u20135", "Episodes 1\u201350"."""
    name = "Part" if unit == PartUnit.PART else "Episode"
    if first == last:
        return f"{name} {first}"
    return f"{name}s {first}\u2013{last}"


def partial_date_text(year: int, month: int | None, day: int | None) -> str:
    """The text of a partial date (``partial_date`` read back)."""
    if month is None:
        return f"{year:04d}"
    return f"{year:04d}-{month:02d}" if day is None else f"{year:04d}-{month:02d}-{day:02d}"


@dataclass(frozen=True)
class Code:
    """A standard code (a language tag, a script), as given, matching ``pattern``."""

    pattern: re.Pattern[str]
    limit: int
    what: str

    def __call__(self, value: str) -> str | Problem:
        if len(value) > self.limit:
            return Problem(TOO_LONG, f"is longer than {self.limit} characters")
        if not self.pattern.fullmatch(value):
            return Problem(INVALID_CODE, f"{value!r} is not {self.what}")
        return value


Rule = Text | Slug | SourceKey | Url | PartialDate | Code

NAME = Text(TEXT_LENGTH)  # titles, names, original and alternative ones, a source's title
PROSE = Text(LONG_TEXT_LENGTH, prose=True)
FIELD_NAME = Text(FIELD_NAME_LENGTH)
EXTERNAL_ID = Text(EXTERNAL_ID_LENGTH)
SLUG = Slug()
SOURCE_KEY = SourceKey()
URL = Url()
ROLE = Text(ROLE_LENGTH)  # a studio's role on a work ("production")
PARTIAL_DATE = PartialDate()
LANGUAGE = Code(
    re.compile(r"[a-z]{2,3}(?:-[A-Z][a-z]{3})?(?:-(?:[A-Z]{2}|[0-9]{3}))?"),
    LANGUAGE_TAG_LENGTH,
    'a BCP 47 language tag ("ko", "en", "ko-Latn")',
)
SCRIPT = Code(re.compile(r"[A-Z][a-z]{3}"), SCRIPT_CODE_LENGTH, 'an ISO 15924 script ("Hang")')


def list_size(count: int, limit: int = MAX_LIST_ITEMS) -> Problem | None:
    """A list of ``count`` values, if over ``limit``: the problem."""
    if count > limit:
        return Problem(TOO_MANY, f"lists {count} values; at most {limit} are allowed")
    return None


def argument(value: str, limit: int) -> str | Problem:
    """A query argument (a slug to look up, a search, a filter value): storable text, NFC,
    at most ``limit`` characters. Not trimmed, and blank is allowed: it just finds nothing."""
    problem = _unencodable(value)
    if problem is not None:
        return problem
    if _CONTROL_LINE.search(value):
        return Problem(INVALID_TEXT, "must not contain control characters or line breaks")
    if len(value) > 4 * limit + 100:
        return Problem(TOO_LONG, f"is longer than {limit} characters")
    value = unicodedata.normalize("NFC", value)
    if len(value) > limit:
        return Problem(TOO_LONG, f"is longer than {limit} characters")
    return value


def bounded_slug(slug: str, limit: int = SLUG_LENGTH - SLUG_SUFFIX_ROOM) -> str:
    """A generated slug cut to ``limit`` characters at a word (hyphen) boundary, so that with
    its uniqueness suffix it fits the slug column; a first word longer than that is cut."""
    if len(slug) <= limit:
        return slug
    cut = slug[: limit + 1]
    boundary = cut.rfind("-")
    return (cut[:boundary] if boundary > 0 else slug[:limit]).strip("-")
