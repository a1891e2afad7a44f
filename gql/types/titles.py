"""A work's titles and a person's names as the API serves them: the stated forms, then the
romanizations generated from their Hangul ones.

A record loaded from a document without ``titles`` / ``names`` (the format before issue #22)
has no stated forms; its forms are then read off its fields (title, original and alternative
titles; name, original and alternative names), each with the sources its field is attributed
to, the best the record knows.
"""

from __future__ import annotations

import dataclasses

from db import models as m
from db.romanization import romanize_name
from db.statements import FIELD_OF_KIND, FormRow, forms_of_fields, generated_forms
from gql.context import Info


def _from_fields(
    main: str,
    original: str | None,
    alternatives: list[str],
    attributions: list[tuple[str, list[m.Source]]],
    fields: tuple[str, str, str],
) -> list[FormRow]:
    cited = dict(attributions)
    return [
        dataclasses.replace(form, sources=cited.get(fields[FIELD_OF_KIND[form.kind]], []))
        for form in forms_of_fields(main, original, alternatives)
    ]


async def work_titles(info: Info, work: m.Work) -> list[FormRow]:
    loaders = info.context.loaders
    stated = await loaders.work_titles.load(work.id)
    if not stated:
        stated = _from_fields(
            work.title,
            work.original_title,
            await loaders.alternative_titles.load(work.id),
            await loaders.work_attributions.load(work.id),
            ("title", "originalTitle", "alternativeTitles"),
        )
    return [*stated, *generated_forms(stated)]


async def person_names(info: Info, person: m.Person) -> list[FormRow]:
    loaders = info.context.loaders
    stated = await loaders.person_names.load(person.id)
    if not stated:
        stated = _from_fields(
            person.name,
            person.original_name,
            await loaders.alternative_names.load(person.id),
            await loaders.person_attributions.load(person.id),
            ("name", "originalName", "alternativeNames"),
        )
    return [*stated, *generated_forms(stated, romanize_name)]
