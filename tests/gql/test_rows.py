"""``from_row`` as ``gql.types.rows`` compiles it: every field the type is built with comes
from the row's column of that name, ``row`` is the row, ``id`` its global ID."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from db import models as m
from db.enums import WorkKind
from gql.ids import to_global_id
from gql.types.change import Change
from gql.types.person import Person
from gql.types.theme import Theme
from gql.types.work import Work


def _values(obj: object) -> dict[str, object]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.init}  # type: ignore[arg-type]


def test_a_work_copies_every_column_it_declares() -> None:
    row = m.Work(
        id=7,
        slug="sea-of-blood",
        title="Sea of Blood",
        original_title="피바다",
        kind=WorkKind.FILM,
        year=1969,
        synopsis=None,
        version=3,
    )
    assert _values(Work.from_row(row)) == {
        "id": to_global_id("Work", 7),
        "row": row,
        "slug": "sea-of-blood",
        "title": "Sea of Blood",
        "original_title": "피바다",
        "kind": WorkKind.FILM,
        "year": 1969,
        "synopsis": None,
        "version": 3,
    }


def test_people_and_themes_take_their_own_type_name_in_the_id() -> None:
    person = Person.from_row(
        m.Person(id=2, slug="a", name="A", original_name=None, biography="b", version=1)
    )
    theme = Theme.from_row(m.Theme(id=2, slug="t", name="T", description=None, version=4))
    assert (person.id, person.biography, person.version) == (to_global_id("Person", 2), "b", 1)
    assert (theme.id, theme.name, theme.version) == (to_global_id("Theme", 2), "T", 4)


def test_a_change_takes_its_source_from_the_source_key_column() -> None:
    at = datetime(2026, 1, 2, tzinfo=UTC)
    row = m.Change(
        id=1,
        at=at,
        actor="curator",
        operation="updateWork",
        subject_type="work",
        subject_slug="sea-of-blood",
        source_key="kfa-1972",
    )
    change = Change.from_row(row)
    assert (change.row, change.at, change.source) == (row, at, "kfa-1972")
    assert (change.operation, change.subject_slug) == ("updateWork", "sea-of-blood")
