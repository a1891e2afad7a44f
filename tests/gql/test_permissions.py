"""gql.permissions on their own: each permission class on a small schema of its own, run by
Strawberry against the test's database; then that every mutation and the audit trail declare
theirs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from strawberry.extensions.field_extension import AsyncExtensionResolver, FieldExtension
from strawberry.permission import PermissionExtension

from db.models import ApiToken
from db.tokens import create_token, revoke_token
from gql.compiled.plan import EDITOR_ROOTS
from gql.mutations import Mutation
from gql.permissions import (
    ADMIN,
    EDITOR,
    AdminScope,
    BearerToken,
    EditorScope,
    KnownToken,
    actor,
)
from gql.query import Query


@dataclass
class Database:
    """What the permission classes use of the request's database: ``run`` on a session."""

    session: AsyncSession

    async def run(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        return await fn(self.session, *args)


@dataclass
class Context:
    request: Request
    database: Database
    token: ApiToken | None = None


class Seen(FieldExtension):
    """Notes that the field's own extensions ran (they must not, once a permission refuses)."""

    ran: list[str] = []

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: Any, **kwargs: Any
    ) -> Any:
        Seen.ran.append(info.field_name)
        return await next_(source, info, **kwargs)


@strawberry.type
class Fields:
    @strawberry.field(permission_classes=EDITOR, extensions=[Seen()])
    async def edit(self, info: strawberry.Info) -> str:
        return actor(info)  # type: ignore[arg-type]

    @strawberry.field(permission_classes=ADMIN, extensions=[Seen()])
    async def administer(self, info: strawberry.Info) -> str:
        return actor(info)  # type: ignore[arg-type]


SCHEMA = strawberry.Schema(query=Fields)


def request(authorization: str | None) -> Request:
    headers = [(b"authorization", authorization.encode())] if authorization else []
    return Request({"type": "http", "method": "POST", "path": "/graphql", "headers": headers})


async def ask(session: AsyncSession, field: str, authorization: str | None) -> Any:
    Seen.ran.clear()
    context = Context(request(authorization), Database(session))
    return await SCHEMA.execute(f"{{ {field} }}", context_value=context)


def refusal(result: Any) -> tuple[str, str]:
    [error] = result.errors
    return error.extensions["code"], error.message


async def test_no_bearer_token_is_unauthenticated(session: AsyncSession) -> None:
    for authorization in (None, "Basic abc", "Bearer  "):
        result = await ask(session, "edit", authorization)
        assert refusal(result) == ("UNAUTHENTICATED", BearerToken.message)
        assert result.data is None and Seen.ran == []


async def test_an_unknown_or_revoked_token_is_unauthenticated(session: AsyncSession) -> None:
    revoked = await create_token(session, "gone", "admin")
    await revoke_token(session, "gone")
    for token in ("nkc_" + "x" * 43, revoked):
        result = await ask(session, "edit", f"Bearer {token}")
        assert refusal(result) == ("UNAUTHENTICATED", KnownToken.message)
        assert Seen.ran == []


async def test_a_token_whose_scope_is_too_small_is_forbidden(session: AsyncSession) -> None:
    token = await create_token(session, "ed", "editor")
    result = await ask(session, "administer", f"Bearer {token}")
    assert refusal(result) == ("FORBIDDEN", AdminScope.message)
    assert AdminScope.message == "This needs a token with the admin scope."
    assert Seen.ran == []


@pytest.mark.parametrize(
    ("scope", "fields"), [("editor", ["edit"]), ("admin", ["edit", "administer"])]
)
async def test_a_token_acts_within_its_scope_under_its_name(
    session: AsyncSession, scope: str, fields: list[str]
) -> None:
    token = await create_token(session, "curator", scope)
    for field in fields:
        result = await ask(session, field, f"Bearer {token}")
        assert result.errors is None and result.data == {field: "curator"}
        assert Seen.ran == [field]


def _permissions(field: Any) -> list[type]:
    return [
        type(p)
        for extension in field.extensions
        if isinstance(extension, PermissionExtension)
        for p in extension.permissions
    ]


def test_every_mutation_and_the_audit_trail_declare_who_may_run_them() -> None:
    mutations = Mutation.__strawberry_definition__.fields  # type: ignore[attr-defined]
    assert mutations
    for field in mutations:
        assert _permissions(field) in (EDITOR, ADMIN), field.python_name
        # outermost: refused before the input is validated
        assert isinstance(field.extensions[-1], PermissionExtension), field.python_name
    deleting = {f.python_name for f in mutations if _permissions(f) == ADMIN}
    assert deleting == {"delete_work", "delete_person", "delete_theme"}
    [changes] = [
        f
        for f in Query.__strawberry_definition__.fields  # type: ignore[attr-defined]
        if f.python_name == "changes"
    ]
    assert _permissions(changes) == EDITOR
    assert [BearerToken, KnownToken, EditorScope] == EDITOR


def test_the_compiler_plans_only_for_an_editor_what_the_permission_guards() -> None:
    """The Query fields the compiled path checks the editor permission for before planning
    (gql.execution) are exactly those the schema guards: a guarded field added later without
    being listed is refused by the planner (and answered by its resolver, which checks)."""
    guarded = {
        f.name
        for f in Query.__strawberry_definition__.fields  # type: ignore[attr-defined]
        if _permissions(f)
    }
    assert guarded == set(EDITOR_ROOTS) == {"changes"}
