"""`nkcinema token create|list|revoke`: a token is printed once and stored only as a hash."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from db.engine import create_engine, session_factory
from db.models import ApiToken
from db.tokens import authenticate, token_hash
from tests.support.cli import nkcinema, ok


def _stored(database_url: str) -> list[tuple[str, str, str, bool]]:
    async def read() -> list[tuple[str, str, str, bool]]:
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as session:
                rows = await session.scalars(select(ApiToken).order_by(ApiToken.name))
                return [(t.name, t.scope, t.token_hash, t.revoked_at is not None) for t in rows]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _authenticates(database_url: str, token: str) -> bool:
    async def check() -> bool:
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as session:
                return await authenticate(session, token) is not None
        finally:
            await engine.dispose()

    return asyncio.run(check())


def test_create_list_revoke(migrated_database: str, tmp_path: Path) -> None:
    created = ok(
        "token",
        "create",
        "--name",
        "alice",
        "--scope",
        "admin",
        database_url=migrated_database,
        cwd=tmp_path,
    )
    token = created.stdout.strip()
    assert token.startswith("nkc_") and len(token) > 40
    assert "only time" in created.stderr
    [(name, scope, digest, revoked)] = _stored(migrated_database)
    assert (name, scope, revoked) == ("alice", "admin", False)
    assert digest == token_hash(token) and token not in digest  # only the hash is kept
    listed = ok("token", "list", database_url=migrated_database, cwd=tmp_path)
    assert "alice\tadmin\tactive" in listed.stdout and token not in listed.stdout
    assert _authenticates(migrated_database, token)

    ok("token", "revoke", "alice", database_url=migrated_database, cwd=tmp_path)
    assert (
        "alice\tadmin\trevoked"
        in ok("token", "list", database_url=migrated_database, cwd=tmp_path).stdout
    )
    assert not _authenticates(migrated_database, token)


def test_token_mistakes_are_clear_errors(migrated_database: str, tmp_path: Path) -> None:
    ok("token", "create", "--name", "bob", database_url=migrated_database, cwd=tmp_path)
    again = nkcinema(
        "token", "create", "--name", "bob", database_url=migrated_database, cwd=tmp_path
    )
    assert again.returncode == 2 and "exists already" in again.stderr
    # "Bob" would state things as curator-bob, bob's own source
    alike = nkcinema(
        "token", "create", "--name", "Bob!", database_url=migrated_database, cwd=tmp_path
    )
    assert alike.returncode == 2 and "more than case and punctuation" in alike.stderr
    missing = nkcinema("token", "revoke", "carol", database_url=migrated_database, cwd=tmp_path)
    assert missing.returncode == 2 and "no token named 'carol'" in missing.stderr
    bad_scope = nkcinema(
        "token",
        "create",
        "--name",
        "x",
        "--scope",
        "god",
        database_url=migrated_database,
        cwd=tmp_path,
    )
    assert bad_scope.returncode == 2
    for result in (again, alike, missing, bad_scope):
        assert "Traceback" not in result.stderr
