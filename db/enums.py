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
