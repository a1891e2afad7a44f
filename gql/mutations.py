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
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import UNSET

from db import curation
from db.engine import SQLITE_BEGIN
from db.enums import WorkKind
from gql.auth import require
from gql.context import Info
from gql.inputs import text_argument
from gql.types.work import Work

Slugs = Annotated[list[str] | None, strawberry.argument(description="Slugs, in order.")]


@strawberry.type(description="What is wrong with one input field; nothing was written.")
class UserError:
    field: list[str] = strawberry.field(description="The path of the field in the input.")
    code: str = strawberry.field(
        description="Stable code: REQUIRED, TOO_LONG, OUT_OF_RANGE, INVALID_SLUG, SLUG_TAKEN, "
        "NOT_FOUND, DUPLICATE, CONFLICT, REFERENCED."
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


@strawberry.input(description="A new work. Its slug is made from the title unless given.")
class CreateWorkInput:
    title: str = strawberry.field(description="English title.")
    kind: WorkKind = strawberry.field(description="Film or series.")
    slug: str | None = strawberry.field(default=UNSET, description="Slug (default: from title).")
    year: int | None = strawberry.field(default=UNSET, description="Year of release.")
    synopsis: str | None = strawberry.field(default=UNSET, description="What it is about.")
    original_title: str | None = strawberry.field(default=UNSET, description="Hangul title.")
    directors: list[str] | None = strawberry.field(
        default=UNSET, description="Directors' person slugs, in billing order."
    )
    themes: list[str] | None = strawberry.field(default=UNSET, description="Theme slugs.")
    source: str | None = strawberry.field(
        default=UNSET, description="Key of the source these statements come from."
    )


@strawberry.input(description="Changes to a work: only the fields given change.")
class UpdateWorkInput:
    slug: str = strawberry.field(description="The work to change.")
    version: int = strawberry.field(description="The version you read (CONFLICT if stale).")
    title: str | None = strawberry.field(default=UNSET, description="New title.")
    kind: WorkKind | None = strawberry.field(default=UNSET, description="New kind.")
    year: int | None = strawberry.field(default=UNSET, description="New year (null clears it).")
    synopsis: str | None = strawberry.field(default=UNSET, description="New synopsis.")
    original_title: str | None = strawberry.field(default=UNSET, description="New Hangul title.")
    directors: list[str] | None = strawberry.field(
        default=UNSET, description="Replaces the directors (person slugs, in billing order)."
    )
    themes: list[str] | None = strawberry.field(
        default=UNSET, description="Replaces the themes (slugs)."
    )
    source: str | None = strawberry.field(
        default=UNSET, description="Key of the source the new values come from."
    )


@strawberry.input(description="A work to delete.")
class DeleteWorkInput:
    slug: str = strawberry.field(description="The work to delete.")
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


def _text(value: str | None, name: str) -> str | None:
    return text_argument(value if value is not UNSET else None, name, limit=20_000)


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


async def _apply(
    info: Info, write: Callable[[AsyncSession], Awaitable[curation.Outcome]]
) -> curation.Outcome:
    """Run a write in its own transaction: committed if it succeeded, rolled back if not."""

    async def transaction(session: AsyncSession) -> curation.Outcome:
        await session.rollback()  # end the request's reads: the write gets its own transaction
        await session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})
        try:
            outcome = await write(session)
        except BaseException:
            await session.rollback()
            raise
        if outcome.errors:
            await session.rollback()
        else:
            await session.commit()
        return outcome

    return await info.context.database.run(transaction)


def _errors(outcome: curation.Outcome) -> list[UserError]:
    return [UserError(field=list(e.field), code=e.code, message=e.message) for e in outcome.errors]


@strawberry.type(description="Change the catalog (needs `Authorization: Bearer <token>`).")
class Mutation:
    @strawberry.mutation(description="Add a work.")
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

    @strawberry.mutation(description="Change a work's fields, directors or themes.")
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
        description="Delete a work and its credits, themes and citations (needs an admin token)."
    )
    async def delete_work(self, info: Info, input: DeleteInput) -> DeleteWorkPayload:
        actor = (await require(info, "admin")).name

        async def write(session: AsyncSession) -> curation.Outcome:
            return await curation.delete_work(session, actor, input.slug, input.version)

        outcome = await _apply(info, write)
        deleted = None if outcome.errors else input.slug
        return DeleteWorkPayload(deleted_slug=deleted, user_errors=_errors(outcome))
