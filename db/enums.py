"""The catalog's enumerations, shared by the models, the interchange format and the API."""

from __future__ import annotations

import enum


class WorkKind(enum.StrEnum):
    FILM = "FILM"
    SERIES = "SERIES"


class CreditRole(enum.StrEnum):
    DIRECTOR = "DIRECTOR"
    WRITER = "WRITER"
    ACTOR = "ACTOR"
    COMPOSER = "COMPOSER"
    PRODUCER = "PRODUCER"
    CREATOR = "CREATOR"
    OTHER = "OTHER"
    PRODUCTION_LEAD = "PRODUCTION_LEAD"  # "production led by": heads the making, not a director
    SUBJECT = "SUBJECT"  # the person a documentary is about


class WorkRelationType(enum.StrEnum):
    """How a work relates to another: "this work <type> that work"."""

    EXTENDS = "EXTENDS"
    ADAPTS = "ADAPTS"
    REMAKES = "REMAKES"
    SEQUEL_OF = "SEQUEL_OF"
    PART_OF = "PART_OF"


class SortDirection(enum.StrEnum):
    ASC = "ASC"
    DESC = "DESC"


class WorkOrderField(enum.StrEnum):
    TITLE = "TITLE"
    YEAR = "YEAR"


class ExternalSystem(enum.StrEnum):
    """An outside database that identifies works and people."""

    IMDB = "IMDB"
    WIKIDATA = "WIKIDATA"


class Qualifier(enum.StrEnum):
    """How a reference hedges a statement: data, not only prose in a note."""

    PROBABLY = "PROBABLY"  # "probably 네거리 초병"
    SOMETIMES = "SOMETIMES"  # "some say 1968", "sometimes given as 1986"
    UNCONFIRMED = "UNCONFIRMED"  # "closest match", "not confirmed"


class TitleKind(enum.StrEnum):
    """What a title (or a name form) is to its work (or person)."""

    MAIN = "MAIN"  # the title the catalog goes by
    ORIGINAL = "ORIGINAL"  # the title in the original language and script
    ALTERNATIVE = "ALTERNATIVE"  # another title the work is known by
    TRANSLATION = "TRANSLATION"  # a rendering of the original's meaning in another language
    TRANSLITERATION = "TRANSLITERATION"  # the original's sounds in another script


class RomanizationSystem(enum.StrEnum):
    """How a Latin-script form of Korean was romanized."""

    MR = "MR"  # McCune–Reischauer
    RR = "RR"  # Revised Romanization
    OTHER = "OTHER"  # any other or no system (Kotpanun Chonio)


class WorkForm(enum.StrEnum):
    """What form a work takes, beside its kind (film or series)."""

    FEATURE = "FEATURE"
    ANIMATION = "ANIMATION"
    DOCUMENTARY = "DOCUMENTARY"
    OPERA_FILM = "OPERA_FILM"
    TV_SERIES = "TV_SERIES"
    MULTI_PART_FILM = "MULTI_PART_FILM"


class Audience(enum.StrEnum):
    """Whom a work is made for."""

    GENERAL = "GENERAL"
    CHILDREN = "CHILDREN"


class PartUnit(enum.StrEnum):
    """What a work's parts are counted in: the parts of a film, the episodes of a series."""

    PART = "PART"
    EPISODE = "EPISODE"


class EventKind(enum.StrEnum):
    """What happened to a work on a date."""

    MADE = "MADE"
    PREMIERE = "PREMIERE"
    RELEASE = "RELEASE"
    BROADCAST = "BROADCAST"
    LEAK = "LEAK"


class DatePrecision(enum.StrEnum):
    """How much of a date is known."""

    YEAR = "YEAR"
    MONTH = "MONTH"
    DAY = "DAY"


class Statement(enum.StrEnum):
    """Which of a work's structure lists a per-value citation belongs to
    (``work_statement_sources``)."""

    PART = "PART"
    EVENT = "EVENT"
    ORIGIN = "ORIGIN"
    STUDIO = "STUDIO"
