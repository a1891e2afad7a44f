"""Curation: mutations for works, each authorised, validated, atomic, versioned and audited.

Every mutation needs ``Authorization: Bearer <token>`` with the editor scope (``gql.auth``),
checked before anything is read. Input problems come back as typed ``userErrors`` (field,
code, message) with nothing written; a stale ``version`` is a ``CONFLICT``. What a mutation
changes is attributed to the source it cites and recorded in the audit trail
(``Query.changes``) with the token's name; the catalog version is bumped, so cached answers
and ETags change with it (``db.curation``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import strawberry
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import UNSET

from db import curation, curation_links, curation_names, rules
from db.engine import SQLITE_BEGIN
from db.enums import CreditRole, WorkKind, WorkRelationType
from gql.auth import require
from gql.context import Info
from gql.loaders import Loaders
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


@strawberry.type(description="The outcome of a work mutation.")
class WorkPayload:
    work: Work | None = strawberry.field(description="The work as it now is (null on errors).")
    user_errors: list[UserError] = strawberry.field(description="Empty when the change applied.")


@strawberry.type(description="The outcome of deleting a work.")
class DeleteWorkPayload:
    deleted_slug: str | None = strawberry.field(description="The slug deleted (null on errors).")
    user_errors: list[UserError] = strawberry.field(description="Empty when the work is gone.")


@strawberry.type(description="The outcome of a person mutation.")
class PersonPayload:
    person: Person | None = strawberry.field(description="The person as now (null on errors).")
    user_errors: list[UserError] = strawberry.field(description="Empty when the change applied.")


@strawberry.type(description="The outcome of a theme mutation.")
class ThemePayload:
    theme: Theme | None = strawberry.field(description="The theme as now (null on errors).")
    user_errors: list[UserError] = strawberry.field(description="Empty when the change applied.")


@strawberry.type(description="The outcome of deleting a person or a theme.")
class DeletePayload:
    deleted_slug: str | None = strawberry.field(description="The slug deleted (null on errors).")
    user_errors: list[UserError] = strawberry.field(description="Empty when it is gone.")


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


def _value(value: object) -> object:
    return None if value is UNSET else value


def _text(value: str | None, _name: str) -> str | None:
    """A text field as given (``Validated`` has checked and normalised it), or None."""
    return None if value is UNSET else value


def _changes(data: CreateWorkInput | UpdateWorkInput) -> curation.WorkChanges:
    year = data.year
    return curation.WorkChanges(
        title=_text(data.title, "title"),
        kind=_value(data.kind),  # type: ignore[arg-type]
        year=year if isinstance(year, int) else None,
        clear_year=isinstance(data, UpdateWorkInput) and year is None,
        synopsis=_text(data.synopsis, "synopsis"),
        original_title=_text(data.original_title, "originalTitle"),
        directors=_value(data.directors),  # type: ignore[arg-type]
        themes=_value(data.themes),  # type: ignore[arg-type]
    )


WRITE_ATTEMPTS = 3


async def _apply(
    info: Info, write: Callable[[AsyncSession], Awaitable[curation.Outcome]]
) -> curation.Outcome:
    """Run a write in its own transaction: committed if it succeeded, rolled back if not.

    A write that lost a race with another (a unique or foreign key the other took first, a
    deadlock: ``db.races``) is rolled back and run again, up to ``WRITE_ATTEMPTS`` times in
    all: its own checks then see what the other committed and answer precisely (the slug is
    taken, the version is stale). If it still collides, the race's own coded user error is
    the answer. ``write`` may so run more than once; only its last run counts."""

    async def transaction(session: AsyncSession) -> curation.Outcome:
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            await session.rollback()  # end the request's reads (or the last attempt)
            await session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})
            try:
                outcome = await write(session)
                if outcome.errors:
                    await session.rollback()
                else:
                    await session.commit()
                return outcome
            except DBAPIError as error:
                await session.rollback()
                lost = curation.race_error(error)
                if lost is None:
                    raise
                if attempt == WRITE_ATTEMPTS:
                    return curation.Outcome(errors=[lost])
            except BaseException:
                await session.rollback()
                raise
        raise AssertionError("unreachable")  # the last attempt returned or raised

    outcome = await info.context.database.run(transaction)
    # The rollback that opened the write expired every record the request's loaders hold
    # (a previous mutation's payload): the payloads that follow load afresh.
    info.context.loaders = Loaders(info.context.database)
    return outcome


def _errors(outcome: curation.Outcome) -> list[UserError]:
    return [UserError(field=list(e.field), code=e.code, message=e.message) for e in outcome.errors]


@strawberry.type(description="Change works (needs `Authorization: Bearer <token>`).")
class WorkMutations:
    @strawberry.mutation(description="Add a work.", extensions=[Validated()])
    async def create_work(self, info: Info, input: CreateInput) -> WorkPayload:
        actor = (await require(info, "editor")).name
        changes = _changes(input)
        slug, source = _text(input.slug, "slug"), _text(input.source, "source")

        async def write(session: AsyncSession) -> curation.Outcome:
            return await curation.create_work(
                session,
                actor,
                changes,
                slug=slug,
                source=source,
            )

        outcome = await _apply(info, write)
        work = Work.from_row(outcome.work) if outcome.work is not None else None
        return WorkPayload(work=work, user_errors=_errors(outcome))

    @strawberry.mutation(
        description="Change a work's fields, directors or themes.", extensions=[Validated()]
    )
    async def update_work(self, info: Info, input: UpdateInput) -> WorkPayload:
        actor = (await require(info, "editor")).name
        changes = _changes(input)
        source = _text(input.source, "source")

        async def write(session: AsyncSession) -> curation.Outcome:
            return await curation.update_work(
                session, actor, input.slug, input.version, changes, source=source
            )

        outcome = await _apply(info, write)
        work = Work.from_row(outcome.work) if outcome.work is not None else None
        return WorkPayload(work=work, user_errors=_errors(outcome))

    @strawberry.mutation(
        extensions=[Validated("admin")],
        description="Delete a work and its credits, themes and citations (needs an admin token).",
    )
    async def delete_work(self, info: Info, input: DeleteInput) -> DeleteWorkPayload:
        actor = (await require(info, "admin")).name

        async def write(session: AsyncSession) -> curation.Outcome:
            return await curation.delete_work(session, actor, input.slug, input.version)

        outcome = await _apply(info, write)
        deleted = None if outcome.errors else input.slug
        return DeleteWorkPayload(deleted_slug=deleted, user_errors=_errors(outcome))


def _named_fields(data: Any, names: tuple[str, ...]) -> dict[str, str | None]:
    return {name: _text(getattr(data, name), name) for name in names}


async def _named(
    info: Info, write: Callable[[AsyncSession], Awaitable[curation_names.Outcome]]
) -> curation_names.Outcome:
    async def as_work_outcome(session: AsyncSession) -> curation.Outcome:
        outcome = await write(session)
        holder.append(outcome)
        return curation.Outcome(errors=list(outcome.errors or []))

    holder: list[curation_names.Outcome] = []  # one per run of the write: the last counts
    outcome = await _apply(info, as_work_outcome)
    if not holder or (outcome.errors and not holder[-1].errors):  # the race's own answer
        return curation_names.Outcome(errors=outcome.errors)
    return holder[-1]


def _named_errors(outcome: curation_names.Outcome) -> list[UserError]:
    return [
        UserError(field=list(e.field), code=e.code, message=e.message) for e in outcome.errors or []
    ]


PersonFields = ("name", "original_name", "biography")
ThemeFields = ("name", "description")


@strawberry.type(description="Change people and themes (needs `Authorization: Bearer <token>`).")
class NamedMutations:
    @strawberry.mutation(description="Add a person.", extensions=[Validated()])
    async def create_person(
        self,
        info: Info,
        input: Annotated[CreatePersonInput, strawberry.argument(description="The person.")],
    ) -> PersonPayload:
        actor = (await require(info, "editor")).name
        fields, slug = _named_fields(input, PersonFields), _text(input.slug, "slug")
        outcome = await _named(
            info,
            lambda s: curation_names.create(
                s, curation_names.PERSON, actor, fields, slug, _text(input.source, "source")
            ),
        )
        person = Person.from_row(outcome.record) if outcome.record is not None else None
        return PersonPayload(person=person, user_errors=_named_errors(outcome))

    @strawberry.mutation(
        description="Change a person's name, Hangul name or biography.", extensions=[Validated()]
    )
    async def update_person(
        self,
        info: Info,
        input: Annotated[UpdatePersonInput, strawberry.argument(description="The changes.")],
    ) -> PersonPayload:
        actor = (await require(info, "editor")).name
        fields = _named_fields(input, PersonFields)
        outcome = await _named(
            info,
            lambda s: curation_names.change(
                s,
                curation_names.PERSON,
                actor,
                input.slug,
                input.version,
                fields,
                _text(input.source, "source"),
            ),
        )
        person = Person.from_row(outcome.record) if outcome.record is not None else None
        return PersonPayload(person=person, user_errors=_named_errors(outcome))

    @strawberry.mutation(
        extensions=[Validated("admin")],
        description="Delete a person without credits (needs an admin token; REFERENCED if "
        "the person has credits).",
    )
    async def delete_person(
        self,
        info: Info,
        input: Annotated[DeleteInputBySlug, strawberry.argument(description="The person.")],
    ) -> DeletePayload:
        actor = (await require(info, "admin")).name
        outcome = await _named(
            info,
            lambda s: curation_names.remove(
                s, curation_names.PERSON, actor, input.slug, input.version
            ),
        )
        deleted = None if outcome.errors else input.slug
        return DeletePayload(deleted_slug=deleted, user_errors=_named_errors(outcome))

    @strawberry.mutation(description="Add a theme.", extensions=[Validated()])
    async def create_theme(
        self,
        info: Info,
        input: Annotated[CreateThemeInput, strawberry.argument(description="The theme.")],
    ) -> ThemePayload:
        actor = (await require(info, "editor")).name
        fields, slug = _named_fields(input, ThemeFields), _text(input.slug, "slug")
        outcome = await _named(
            info,
            lambda s: curation_names.create(s, curation_names.THEME, actor, fields, slug),
        )
        theme = Theme.from_row(outcome.record) if outcome.record is not None else None
        return ThemePayload(theme=theme, user_errors=_named_errors(outcome))

    @strawberry.mutation(
        description="Change a theme's name or description.", extensions=[Validated()]
    )
    async def update_theme(
        self,
        info: Info,
        input: Annotated[UpdateThemeInput, strawberry.argument(description="The changes.")],
    ) -> ThemePayload:
        actor = (await require(info, "editor")).name
        fields = _named_fields(input, ThemeFields)
        outcome = await _named(
            info,
            lambda s: curation_names.change(
                s, curation_names.THEME, actor, input.slug, input.version, fields
            ),
        )
        theme = Theme.from_row(outcome.record) if outcome.record is not None else None
        return ThemePayload(theme=theme, user_errors=_named_errors(outcome))

    @strawberry.mutation(
        extensions=[Validated("admin")],
        description="Delete a theme no work is tagged with (needs an admin token).",
    )
    async def delete_theme(
        self,
        info: Info,
        input: Annotated[DeleteInputBySlug, strawberry.argument(description="The theme.")],
    ) -> DeletePayload:
        actor = (await require(info, "admin")).name
        outcome = await _named(
            info,
            lambda s: curation_names.remove(
                s, curation_names.THEME, actor, input.slug, input.version
            ),
        )
        deleted = None if outcome.errors else input.slug
        return DeletePayload(deleted_slug=deleted, user_errors=_named_errors(outcome))


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


def _work_payload(outcome: curation.Outcome) -> WorkPayload:
    work = Work.from_row(outcome.work) if outcome.work is not None else None
    return WorkPayload(work=work, user_errors=_errors(outcome))


@strawberry.type(description="Change what hangs off works (needs `Authorization: Bearer <token>`).")
class LinkMutations:
    @strawberry.mutation(
        description="Credit a person on a work (billed last).", extensions=[Validated()]
    )
    async def add_credit(
        self, info: Info, input: Annotated[CreditInput, strawberry.argument(description="It.")]
    ) -> WorkPayload:
        actor = (await require(info, "editor")).name
        return _work_payload(
            await _apply(
                info,
                lambda s: curation_links.add_credit(
                    s,
                    actor,
                    input.slug,
                    input.version,
                    input.person,
                    input.role,
                    _text(input.source, "source"),
                ),
            )
        )

    @strawberry.mutation(
        description="Remove a person's credit in a role from a work.", extensions=[Validated()]
    )
    async def remove_credit(
        self, info: Info, input: Annotated[CreditInput, strawberry.argument(description="It.")]
    ) -> WorkPayload:
        actor = (await require(info, "editor")).name
        return _work_payload(
            await _apply(
                info,
                lambda s: curation_links.remove_credit(
                    s, actor, input.slug, input.version, input.person, input.role
                ),
            )
        )

    @strawberry.mutation(
        description="Put a work's credits in a new billing order.", extensions=[Validated()]
    )
    async def reorder_credits(
        self,
        info: Info,
        input: Annotated[ReorderCreditsInput, strawberry.argument(description="The order.")],
    ) -> WorkPayload:
        actor = (await require(info, "editor")).name
        order = [(c.person, c.role) for c in input.order]
        return _work_payload(
            await _apply(
                info,
                lambda s: curation_links.reorder_credits(
                    s, actor, input.slug, input.version, order
                ),
            )
        )

    @strawberry.mutation(description="Tag a work with a theme.", extensions=[Validated()])
    async def tag_work(
        self, info: Info, input: Annotated[TagInput, strawberry.argument(description="The tag.")]
    ) -> WorkPayload:
        actor = (await require(info, "editor")).name
        return _work_payload(
            await _apply(
                info,
                lambda s: curation_links.tag(
                    s, actor, input.slug, input.version, input.theme, add=True
                ),
            )
        )

    @strawberry.mutation(description="Remove a theme tag from a work.", extensions=[Validated()])
    async def untag_work(
        self, info: Info, input: Annotated[TagInput, strawberry.argument(description="The tag.")]
    ) -> WorkPayload:
        actor = (await require(info, "editor")).name
        return _work_payload(
            await _apply(
                info,
                lambda s: curation_links.tag(
                    s, actor, input.slug, input.version, input.theme, add=False
                ),
            )
        )

    @strawberry.mutation(
        description="Record that this work <type> that work (not itself).", extensions=[Validated()]
    )
    async def relate_works(
        self,
        info: Info,
        input: Annotated[RelationInput, strawberry.argument(description="The relation.")],
    ) -> WorkPayload:
        actor = (await require(info, "editor")).name
        return _work_payload(
            await _apply(
                info,
                lambda s: curation_links.relate(
                    s, actor, input.slug, input.version, input.type, input.work, add=True
                ),
            )
        )

    @strawberry.mutation(
        description="Remove a relation between two works.", extensions=[Validated()]
    )
    async def unrelate_works(
        self,
        info: Info,
        input: Annotated[RelationInput, strawberry.argument(description="The relation.")],
    ) -> WorkPayload:
        actor = (await require(info, "editor")).name
        return _work_payload(
            await _apply(
                info,
                lambda s: curation_links.relate(
                    s, actor, input.slug, input.version, input.type, input.work, add=False
                ),
            )
        )

    @strawberry.mutation(
        description="Add a source that statements and disputes can cite.", extensions=[Validated()]
    )
    async def create_source(
        self,
        info: Info,
        input: Annotated[CreateSourceInput, strawberry.argument(description="The source.")],
    ) -> SourcePayload:
        actor = (await require(info, "editor")).name
        key, title = _text(input.key, "key") or "", _text(input.title, "title") or ""
        url = _text(input.url, "url")
        created: list[Any] = []

        async def write(session: AsyncSession) -> curation.Outcome:
            source, errors = await curation_links.create_source(session, actor, key, title, url)
            created.append(source)
            return curation.Outcome(errors=errors)

        outcome = await _apply(info, write)
        made = created[-1] if created and not outcome.errors else None
        return SourcePayload(key=made.key if made else None, user_errors=_errors(outcome))

    @strawberry.mutation(
        description="Record that a source contradicts a work's record.", extensions=[Validated()]
    )
    async def add_dispute(
        self,
        info: Info,
        input: Annotated[AddDisputeInput, strawberry.argument(description="The dispute.")],
    ) -> WorkPayload:
        actor = (await require(info, "editor")).name
        stated, reported = (
            _text(input.stated, "stated") or "",
            _text(input.reported, "reported") or "",
        )
        note = _text(input.note, "note")
        return _work_payload(
            await _apply(
                info,
                lambda s: curation_links.add_dispute(
                    s,
                    actor,
                    input.slug,
                    input.version,
                    input.field,
                    stated,
                    reported,
                    input.source,
                    note,
                ),
            )
        )

    @strawberry.mutation(description="Remove a dispute from a work.", extensions=[Validated()])
    async def remove_dispute(
        self,
        info: Info,
        input: Annotated[RemoveDisputeInput, strawberry.argument(description="The dispute.")],
    ) -> WorkPayload:
        actor = (await require(info, "editor")).name
        return _work_payload(
            await _apply(
                info,
                lambda s: curation_links.remove_dispute(
                    s, actor, input.slug, input.version, input.position
                ),
            )
        )


@strawberry.type(description="Change the catalog (needs `Authorization: Bearer <token>`).")
class Mutation(WorkMutations, NamedMutations, LinkMutations):
    pass
