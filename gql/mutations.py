"""Curation: mutations for works, people, themes, their links and sources.

Each mutation (built by ``curation``) declares who may run it (``permission_classes``:
``gql.permissions``, checked before anything is read) and validates its input (``Validated``),
then runs one write of ``db.curation``: in its own transaction, retried if it lost a race,
answered as its payload. Input problems come back as typed ``userErrors`` (field, code,
message) with nothing written; a stale ``version`` is a ``CONFLICT``. What a mutation changes
is attributed to the source it cites and recorded in the audit trail (``Query.changes``) with
the token's name; the catalog version is bumped, so cached answers and ETags change with it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import strawberry
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import UNSET
from strawberry.permission import BasePermission

from db import rules
from db.curation import links, names, sources, works
from db.curation.outcome import Outcome, race_error
from db.engine import SQLITE_BEGIN
from db.enums import CreditRole, WorkKind, WorkRelationType
from gql.arguments import declared, parameter
from gql.context import Info
from gql.loaders import Loaders
from gql.permissions import ADMIN, EDITOR, actor
from gql.types.person import Person
from gql.types.theme import Theme
from gql.types.work import Work
from gql.validated import Validated, bounded, checked

Slugs = Annotated[list[str] | None, strawberry.argument(description="Slugs, in order.")]


@strawberry.type(description="What is wrong with one input field; nothing was written.")
class UserError:
    field: list[str] = strawberry.field(description="The path of the field in the input.")
    code: str = strawberry.field(
        description="Stable code: REQUIRED (missing, blank or only invisible characters), "
        "TOO_LONG, TOO_MANY (a list over 1,000 values), OUT_OF_RANGE, INVALID_TEXT (NUL, lone "
        "surrogates, control characters; line breaks and tabs only in prose), INVALID_SLUG, "
        "INVALID_KEY (a source key: lowercase a-z, 0-9, . _ -), INVALID_URL (an http(s) URL), "
        "SLUG_TAKEN, NOT_FOUND, DUPLICATE, CONFLICT, REFERENCED, RESERVED (a source key starting "
        "curator-), SELF_RELATION, INVALID_ORDER."
    )
    message: str = strawberry.field(description="What is wrong, for people.")


def payload(
    name: str, description: str, field: str, shown: Any, shown_description: str, done: str
) -> Any:
    """A payload type: ``field`` holds what the mutation left (of type ``shown``, null when it
    was refused), ``user_errors`` why it was refused (empty when ``done``)."""
    namespace = {
        "__module__": __name__,
        "__annotations__": {field: shown | None, "user_errors": list[UserError]},
        field: strawberry.field(description=shown_description),
        "user_errors": strawberry.field(description=f"Empty when {done}."),
    }
    return strawberry.type(type(name, (), namespace), description=description)


WorkPayload = payload(
    "WorkPayload",
    "The outcome of a work mutation.",
    "work",
    Work,
    "The work as it now is (null on errors).",
    "the change applied",
)
DeleteWorkPayload = payload(
    "DeleteWorkPayload",
    "The outcome of deleting a work.",
    "deleted_slug",
    str,
    "The slug deleted (null on errors).",
    "the work is gone",
)
PersonPayload = payload(
    "PersonPayload",
    "The outcome of a person mutation.",
    "person",
    Person,
    "The person as now (null on errors).",
    "the change applied",
)
ThemePayload = payload(
    "ThemePayload",
    "The outcome of a theme mutation.",
    "theme",
    Theme,
    "The theme as now (null on errors).",
    "the change applied",
)
DeletePayload = payload(
    "DeletePayload",
    "The outcome of deleting a person or a theme.",
    "deleted_slug",
    str,
    "The slug deleted (null on errors).",
    "it is gone",
)


@strawberry.input(description="A new person. The slug is made from the name unless given.")
class CreatePersonInput:
    name: str = checked(rules.NAME, description="Name as the catalog states it.")
    slug: str | None = checked(rules.SLUG, default=UNSET, description="Slug (default: from name).")
    original_name: str | None = checked(rules.NAME, default=UNSET, description="Hangul name.")
    biography: str | None = checked(rules.PROSE, default=UNSET, description="What is known.")
    source: str | None = checked(
        rules.SOURCE_KEY, default=UNSET, description="Key of the source these statements come from."
    )


@strawberry.input(description="Changes to a person: only the fields given change.")
class UpdatePersonInput:
    slug: str = checked(rules.SLUG, description="The person to change.")
    version: int = strawberry.field(description="The version you read (CONFLICT if stale).")
    name: str | None = checked(rules.NAME, default=UNSET, description="New name.")
    original_name: str | None = checked(rules.NAME, default=UNSET, description="New Hangul name.")
    biography: str | None = checked(rules.PROSE, default=UNSET, description="New biography.")
    source: str | None = checked(
        rules.SOURCE_KEY, default=UNSET, description="Key of the source the new values come from."
    )


@strawberry.input(description="A new theme. The slug is made from the name unless given.")
class CreateThemeInput:
    name: str = checked(rules.NAME, description="Name of the theme.")
    slug: str | None = checked(rules.SLUG, default=UNSET, description="Slug (default: from name).")
    description: str | None = checked(rules.PROSE, default=UNSET, description="What it covers.")


@strawberry.input(description="Changes to a theme: only the fields given change.")
class UpdateThemeInput:
    slug: str = checked(rules.SLUG, description="The theme to change.")
    version: int = strawberry.field(description="The version you read (CONFLICT if stale).")
    name: str | None = checked(rules.NAME, default=UNSET, description="New name.")
    description: str | None = checked(rules.PROSE, default=UNSET, description="New description.")


@strawberry.input(description="A person or theme to delete.")
class DeleteInputBySlug:
    slug: str = checked(rules.SLUG, description="The record to delete.")
    version: int = strawberry.field(description="The version you read (CONFLICT if stale).")


@strawberry.input(description="A new work. Its slug is made from the title unless given.")
class CreateWorkInput:
    title: str = checked(rules.NAME, description="English title.")
    kind: WorkKind = strawberry.field(description="Film or series.")
    slug: str | None = checked(rules.SLUG, default=UNSET, description="Slug (default: from title).")
    year: int | None = strawberry.field(default=UNSET, description="Year of release.")
    synopsis: str | None = checked(rules.PROSE, default=UNSET, description="What it is about.")
    original_title: str | None = checked(rules.NAME, default=UNSET, description="Hangul title.")
    directors: list[str] | None = checked(
        rules.SLUG, default=UNSET, description="Directors' person slugs, in billing order."
    )
    themes: list[str] | None = checked(rules.SLUG, default=UNSET, description="Theme slugs.")
    source: str | None = checked(
        rules.SOURCE_KEY, default=UNSET, description="Key of the source these statements come from."
    )


@strawberry.input(description="Changes to a work: only the fields given change.")
class UpdateWorkInput:
    slug: str = checked(rules.SLUG, description="The work to change.")
    version: int = strawberry.field(description="The version you read (CONFLICT if stale).")
    title: str | None = checked(rules.NAME, default=UNSET, description="New title.")
    kind: WorkKind | None = strawberry.field(default=UNSET, description="New kind.")
    year: int | None = strawberry.field(default=UNSET, description="New year (null clears it).")
    synopsis: str | None = checked(rules.PROSE, default=UNSET, description="New synopsis.")
    original_title: str | None = checked(rules.NAME, default=UNSET, description="New Hangul title.")
    directors: list[str] | None = checked(
        rules.SLUG,
        default=UNSET,
        description="Replaces the directors (person slugs, in billing order).",
    )
    themes: list[str] | None = checked(
        rules.SLUG, default=UNSET, description="Replaces the themes (slugs)."
    )
    source: str | None = checked(
        rules.SOURCE_KEY, default=UNSET, description="Key of the source the new values come from."
    )


@strawberry.input(description="A work to delete.")
class DeleteWorkInput:
    slug: str = checked(rules.SLUG, description="The work to delete.")
    version: int = strawberry.field(description="The version you read (CONFLICT if stale).")


CreateInput = Annotated[CreateWorkInput, strawberry.argument(description="The work to add.")]


UpdateInput = Annotated[
    UpdateWorkInput, strawberry.argument(description="What to change, and the version read.")
]


DeleteInput = Annotated[
    DeleteWorkInput, strawberry.argument(description="The work to delete, and the version read.")
]


def _given(value: Any) -> Any:
    """An optional input field as the write wants it: None when not given (``Validated`` has
    checked and normalised what was given)."""
    return None if value is UNSET else value


def _changes(data: CreateWorkInput | UpdateWorkInput) -> works.WorkChanges:
    year = data.year
    return works.WorkChanges(
        title=_given(data.title),
        kind=_given(data.kind),
        year=year if isinstance(year, int) else None,
        clear_year=isinstance(data, UpdateWorkInput) and year is None,
        synopsis=_given(data.synopsis),
        original_title=_given(data.original_title),
        directors=_given(data.directors),
        themes=_given(data.themes),
    )


def _fields(data: Any, names: tuple[str, ...]) -> dict[str, str | None]:
    return {name: _given(getattr(data, name)) for name in names}


PERSON_FIELDS = ("name", "original_name", "biography")
THEME_FIELDS = ("name", "description")

Write = Callable[[AsyncSession, str], Awaitable[Outcome]]
"""A write of ``db.curation``, given the session and the acting curator's name."""

WRITE_ATTEMPTS = 3


async def _run(info: Info, write: Write) -> Outcome:
    """Run a write in its own transaction: committed if it succeeded, rolled back if not.

    A write that lost a race with another (a unique or foreign key the other took first, a
    deadlock: ``db.races``) is rolled back and run again, up to ``WRITE_ATTEMPTS`` times in
    all: its own checks then see what the other committed and answer precisely (the slug is
    taken, the version is stale). If it still collides, the race's own coded user error is
    the answer. ``write`` may so run more than once; only its last run counts."""
    name = actor(info)

    async def transaction(session: AsyncSession) -> Outcome:
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            await session.rollback()  # end the request's reads (or the last attempt)
            await session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})
            try:
                outcome = await write(session, name)
                if outcome.errors:
                    await session.rollback()
                else:
                    await session.commit()
                return outcome
            except DBAPIError as error:
                await session.rollback()
                lost = race_error(error)
                if lost is None:
                    raise
                if attempt == WRITE_ATTEMPTS:
                    return Outcome(errors=[lost])
            except BaseException:
                await session.rollback()
                raise
        raise AssertionError("unreachable")  # the last attempt returned or raised

    outcome = await info.context.database.run(transaction)
    # The rollback that opened the write expired every record the request's loaders hold
    # (a previous mutation's payload): the payloads that follow load afresh.
    info.context.loaders = Loaders(info.context.database)
    return outcome


@dataclasses.dataclass(frozen=True)
class Answer:
    """How a payload answers an outcome: ``field`` holds ``shown(record)`` (null when the
    write was refused), ``user_errors`` the reasons it was."""

    payload: Any
    field: str
    shown: Callable[[Any], Any]

    def __call__(self, outcome: Outcome) -> Any:
        value = self.shown(outcome.record) if outcome.record is not None else None
        errors = [
            UserError(field=list(e.field), code=e.code, message=e.message) for e in outcome.errors
        ]
        return self.payload(**{self.field: value}, user_errors=errors)


InputWrite = Callable[[AsyncSession, str, Any], Awaitable[Outcome]]
"""A write of ``db.curation`` given the session, the acting curator's name and the input."""


def curation(
    description: str,
    input: Any,
    answer: Answer,
    write: InputWrite,
    permissions: list[type[BasePermission]] = EDITOR,
) -> Any:
    """Every mutation: its ``input`` argument (an annotated input type) validated
    (``Validated``), ``write`` run with it (``_run``), the outcome answered as the payload."""

    async def resolve(info: Info, input: Any) -> Any:
        return answer(await _run(info, lambda session, by: write(session, by, input)))

    declared(resolve, answer.payload, parameter("info", Info), parameter("input", input))
    return strawberry.mutation(
        resolve, description=description, permission_classes=permissions, extensions=[Validated()]
    )


def _slug(row: Any) -> str:
    return str(row.slug)


WORK = Answer(WorkPayload, "work", Work.from_row)
DELETED_WORK = Answer(DeleteWorkPayload, "deleted_slug", _slug)
PERSON = Answer(PersonPayload, "person", Person.from_row)
THEME = Answer(ThemePayload, "theme", Theme.from_row)
DELETED = Answer(DeletePayload, "deleted_slug", _slug)


def _argument(input: type, description: str) -> Any:
    return Annotated[input, strawberry.argument(description=description)]


@strawberry.type(description="Change works (needs `Authorization: Bearer <token>`).")
class WorkMutations:
    create_work = curation(
        "Add a work.",
        CreateInput,
        WORK,
        lambda s, by, input: works.create_work(
            s, by, _changes(input), slug=_given(input.slug), source=_given(input.source)
        ),
    )
    update_work = curation(
        "Change a work's fields, directors or themes.",
        UpdateInput,
        WORK,
        lambda s, by, input: works.update_work(
            s, by, input.slug, input.version, _changes(input), source=_given(input.source)
        ),
    )
    delete_work = curation(
        "Delete a work and its credits, themes and citations (needs an admin token).",
        DeleteInput,
        DELETED_WORK,
        lambda s, by, input: works.delete_work(s, by, input.slug, input.version),
        ADMIN,
    )


@strawberry.type(description="Change people and themes (needs `Authorization: Bearer <token>`).")
class NamedMutations:
    create_person = curation(
        "Add a person.",
        _argument(CreatePersonInput, "The person."),
        PERSON,
        lambda s, by, input: names.create(
            s,
            names.PERSON,
            by,
            _fields(input, PERSON_FIELDS),
            _given(input.slug),
            _given(input.source),
        ),
    )
    update_person = curation(
        "Change a person's name, Hangul name or biography.",
        _argument(UpdatePersonInput, "The changes."),
        PERSON,
        lambda s, by, input: names.change(
            s,
            names.PERSON,
            by,
            input.slug,
            input.version,
            _fields(input, PERSON_FIELDS),
            _given(input.source),
        ),
    )
    delete_person = curation(
        "Delete a person without credits (needs an admin token; REFERENCED if the person has "
        "credits).",
        _argument(DeleteInputBySlug, "The person."),
        DELETED,
        lambda s, by, input: names.remove(s, names.PERSON, by, input.slug, input.version),
        ADMIN,
    )
    create_theme = curation(
        "Add a theme.",
        _argument(CreateThemeInput, "The theme."),
        THEME,
        lambda s, by, input: names.create(
            s, names.THEME, by, _fields(input, THEME_FIELDS), _given(input.slug)
        ),
    )
    update_theme = curation(
        "Change a theme's name or description.",
        _argument(UpdateThemeInput, "The changes."),
        THEME,
        lambda s, by, input: names.change(
            s, names.THEME, by, input.slug, input.version, _fields(input, THEME_FIELDS)
        ),
    )
    delete_theme = curation(
        "Delete a theme no work is tagged with (needs an admin token).",
        _argument(DeleteInputBySlug, "The theme."),
        DELETED,
        lambda s, by, input: names.remove(s, names.THEME, by, input.slug, input.version),
        ADMIN,
    )


@strawberry.input(description="A credit of a work: a person in a role.")
class CreditInput:
    slug: str = checked(rules.SLUG, description="The work.")
    version: int = strawberry.field(description="The work's version you read.")
    person: str = checked(rules.SLUG, description="The person's slug.")
    role: CreditRole = strawberry.field(description="The role.")
    source: str | None = checked(
        rules.SOURCE_KEY,
        default=UNSET,
        description="Key of the source that states the credit (adding only).",
    )


@strawberry.input(description="One credit in a new billing order.")
class CreditKey:
    person: str = checked(rules.SLUG, description="The person's slug.")
    role: CreditRole = strawberry.field(description="The role.")


@strawberry.input(description="A work's credits in their new billing order: every one, once.")
class ReorderCreditsInput:
    slug: str = checked(rules.SLUG, description="The work.")
    version: int = strawberry.field(description="The work's version you read.")
    order: list[CreditKey] = bounded(description="Every credit, in billing order.")


@strawberry.input(description="A theme tag on a work.")
class TagInput:
    slug: str = checked(rules.SLUG, description="The work.")
    version: int = strawberry.field(description="The work's version you read.")
    theme: str = checked(rules.SLUG, description="The theme's slug.")


@strawberry.input(description='A relation "this work <type> that work".')
class RelationInput:
    slug: str = checked(rules.SLUG, description="This work.")
    version: int = strawberry.field(description="This work's version you read.")
    type: WorkRelationType = strawberry.field(description="How it relates.")
    work: str = checked(rules.SLUG, description="That work's slug (not this work's).")


@strawberry.input(description="A new source statements can cite.")
class CreateSourceInput:
    key: str = checked(
        rules.SOURCE_KEY, description="A short unique key, e.g. `kfa-1972-catalogue`."
    )
    title: str = checked(rules.NAME, description="Its title.")
    url: str | None = checked(rules.URL, default=UNSET, description="Its http(s) address.")


@strawberry.input(description="A reference that contradicts what the work's record states.")
class AddDisputeInput:
    slug: str = checked(rules.SLUG, description="The work.")
    version: int = strawberry.field(description="The work's version you read.")
    field: str = checked(rules.FIELD_NAME, description="`year`, `directors`, `title`, `kind` …")
    stated: str = checked(rules.PROSE, description="What the record states.")
    reported: str = checked(rules.PROSE, description="What the source reports.")
    source: str = checked(rules.SOURCE_KEY, description="The source's key.")
    note: str | None = checked(rules.PROSE, default=UNSET, description="A note for readers.")


@strawberry.input(description="A dispute to remove, by its position among the work's.")
class RemoveDisputeInput:
    slug: str = checked(rules.SLUG, description="The work.")
    version: int = strawberry.field(description="The work's version you read.")
    position: int = strawberry.field(description="0 for the first dispute listed, and so on.")


@strawberry.type(description="The outcome of creating a source.")
class SourcePayload:
    key: str | None = strawberry.field(description="The new source's key (null on errors).")
    user_errors: list[UserError] = strawberry.field(description="Empty when it was created.")


SOURCE = Answer(SourcePayload, "key", lambda source: source.key)


@strawberry.type(description="Change what hangs off works (needs `Authorization: Bearer <token>`).")
class LinkMutations:
    add_credit = curation(
        "Credit a person on a work (billed last).",
        _argument(CreditInput, "It."),
        WORK,
        lambda s, by, input: links.add_credit(
            s, by, input.slug, input.version, input.person, input.role, _given(input.source)
        ),
    )
    remove_credit = curation(
        "Remove a person's credit in a role from a work.",
        _argument(CreditInput, "It."),
        WORK,
        lambda s, by, input: links.remove_credit(
            s, by, input.slug, input.version, input.person, input.role
        ),
    )
    reorder_credits = curation(
        "Put a work's credits in a new billing order.",
        _argument(ReorderCreditsInput, "The order."),
        WORK,
        lambda s, by, input: links.reorder_credits(
            s, by, input.slug, input.version, [(c.person, c.role) for c in input.order]
        ),
    )
    tag_work = curation(
        "Tag a work with a theme.",
        _argument(TagInput, "The tag."),
        WORK,
        lambda s, by, input: links.tag(s, by, input.slug, input.version, input.theme, add=True),
    )
    untag_work = curation(
        "Remove a theme tag from a work.",
        _argument(TagInput, "The tag."),
        WORK,
        lambda s, by, input: links.tag(s, by, input.slug, input.version, input.theme, add=False),
    )
    relate_works = curation(
        "Record that this work <type> that work (not itself).",
        _argument(RelationInput, "The relation."),
        WORK,
        lambda s, by, input: links.relate(
            s, by, input.slug, input.version, input.type, input.work, add=True
        ),
    )
    unrelate_works = curation(
        "Remove a relation between two works.",
        _argument(RelationInput, "The relation."),
        WORK,
        lambda s, by, input: links.relate(
            s, by, input.slug, input.version, input.type, input.work, add=False
        ),
    )
    create_source = curation(
        "Add a source that statements and disputes can cite.",
        _argument(CreateSourceInput, "The source."),
        SOURCE,
        lambda s, by, input: sources.create_source(
            s, by, input.key, input.title, _given(input.url)
        ),
    )
    add_dispute = curation(
        "Record that a source contradicts a work's record.",
        _argument(AddDisputeInput, "The dispute."),
        WORK,
        lambda s, by, input: links.add_dispute(
            s,
            by,
            input.slug,
            input.version,
            input.field,
            input.stated,
            input.reported,
            input.source,
            _given(input.note),
        ),
    )
    remove_dispute = curation(
        "Remove a dispute from a work.",
        _argument(RemoveDisputeInput, "The dispute."),
        WORK,
        lambda s, by, input: links.remove_dispute(s, by, input.slug, input.version, input.position),
    )


@strawberry.type(description="Change the catalog (needs `Authorization: Bearer <token>`).")
class Mutation(WorkMutations, NamedMutations, LinkMutations):
    pass
