"""The ``nkcinema`` command: serve, seed, export, and wrap Alembic's migrations.

nkcinema serve [--host H] [--port P] [--workers N]
nkcinema seed [FILE ...]
nkcinema export [--output FILE]
nkcinema db upgrade [REV] | downgrade [REV] | current
nkcinema schema
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar

from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from alembic import command
from db import models
from db.catalog_format import CatalogError
from db.catalog_io import export_catalog
from db.engine import create_engine, session_factory
from seeds import seed
from settings import Settings, SettingsError, load_settings

T = TypeVar("T")
PROJECT_DIR = Path(__file__).resolve().parent


# -- migrations ------------------------------------------------------------------------------


def alembic_config(database_url: str) -> Config:
    """Alembic's config for a database URL: alembic.ini beside this module, else in the cwd."""
    for candidate in (PROJECT_DIR / "alembic.ini", Path.cwd() / "alembic.ini"):
        if candidate.exists():
            config = Config(str(candidate))
            break
    else:
        raise SystemExit("nkcinema: alembic.ini not found (run from the project directory)")
    config.attributes["database_url"] = database_url
    config.attributes["configure_logging"] = False
    return config


def migrate(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def _run(make: Callable[[AsyncEngine], Awaitable[T]], database_url: str) -> T:
    async def go() -> T:
        engine = create_engine(database_url)
        try:
            return await make(engine)
        finally:
            await engine.dispose()

    return asyncio.run(go())


async def _catalog_state(engine: AsyncEngine) -> tuple[bool, int]:
    """(whether the schema exists, how many works the catalog holds)."""
    async with engine.connect() as conn:
        has_schema = await conn.run_sync(lambda c: inspect(c).has_table("works"))
        if not has_schema:
            return False, 0
        count = (await conn.execute(select(func.count()).select_from(models.Work))).scalar_one()
        return True, int(count)


def prepare_database(settings: Settings) -> None:
    """First run on the embedded SQLite default: migrate, and seed an empty catalog.

    PostgreSQL is an operator's database: it is migrated and seeded explicitly
    (``nkcinema db upgrade && nkcinema seed``), so here it is only checked.
    """
    if settings.is_sqlite:
        migrate(settings.database_url)
        _, works = _run(_catalog_state, settings.database_url)
        if works == 0:
            report = _run(lambda e: seed(session_factory(e)), settings.database_url)
            print(f"nkcinema: seeded the empty catalog ({report})")
        return
    has_schema, _ = _run(_catalog_state, settings.database_url)
    if not has_schema:
        raise SystemExit("nkcinema: the database has no catalog tables; run `nkcinema db upgrade`")


# -- commands --------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from logs import log_config

    prepare_database(settings)
    host = args.host or settings.host
    port = args.port or settings.port
    print(f"nkcinema: GraphiQL at http://{host}:{port}/graphql", flush=True)
    uvicorn.run(
        "app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=args.workers,
        log_config=log_config(settings),
        access_log=False,  # the app's own access log (app.AccessLog) has the request ids
    )
    return 0


def cmd_seed(args: argparse.Namespace, settings: Settings) -> int:
    files = [Path(f) for f in args.files] or None
    try:
        report = _run(lambda e: seed(session_factory(e), files), settings.database_url)
    except CatalogError as error:
        print("nkcinema seed: nothing was written; the catalog is unchanged:", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except IntegrityError as error:  # validation should catch these first; never a traceback
        print(
            f"nkcinema seed: the database refused the catalog; nothing was written: {error.orig}",
            file=sys.stderr,
        )
        return 1
    print(f"nkcinema seed: {report}")
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    async def export(engine: AsyncEngine) -> str:
        async with session_factory(engine)() as session:
            return await export_catalog(session)

    text = _run(export, settings.database_url)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    config = alembic_config(settings.database_url)
    if args.action == "upgrade":
        command.upgrade(config, args.revision or "head")
    elif args.action == "downgrade":
        command.downgrade(config, args.revision or "-1")
    else:
        command.current(config, verbose=False)
    return 0


def cmd_schema(_args: argparse.Namespace, _settings: Settings) -> int:
    from gql.schema import schema

    sys.stdout.write(schema.as_str() + "\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nkcinema",
        description="The nkcinema GraphQL catalog of North Korean films and series.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the API (migrates and seeds the SQLite default)")
    serve.add_argument("--host", help="address to bind (default NKCINEMA_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default NKCINEMA_PORT or 8000)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.set_defaults(handler=cmd_serve)

    seed_cmd = sub.add_parser("seed", help="load catalog files (default: the bundled seeds)")
    seed_cmd.add_argument("files", nargs="*", metavar="FILE", help="interchange JSON files")
    seed_cmd.set_defaults(handler=cmd_seed)

    export = sub.add_parser("export", help="write the whole catalog as interchange JSON")
    export.add_argument("--output", "-o", metavar="FILE", help="file to write (default: stdout)")
    export.set_defaults(handler=cmd_export)

    db = sub.add_parser("db", help="database migrations (wraps Alembic)")
    db.add_argument("action", choices=("upgrade", "downgrade", "current"))
    db.add_argument("revision", nargs="?", help="target revision (upgrade: head, downgrade: -1)")
    db.set_defaults(handler=cmd_db)

    schema_cmd = sub.add_parser("schema", help="print the GraphQL schema (SDL)")
    schema_cmd.set_defaults(handler=cmd_schema)
    return parser


def _database_problem(error: DBAPIError) -> str:
    """A one-line account of a database failure (the driver's message, never the SQL)."""
    detail = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
    if "no such table" in detail or ("relation" in detail and "does not exist" in detail):
        return f"the database has no catalog tables ({detail}); run `nkcinema db upgrade`"
    return f"database error: {detail}"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"nkcinema: {error}", file=sys.stderr)
        return 2
    try:
        return int(args.handler(args, settings))
    except DBAPIError as error:
        print(f"nkcinema {args.command}: {_database_problem(error)}", file=sys.stderr)
    except (OSError, TimeoutError) as error:
        print(f"nkcinema {args.command}: cannot reach the database: {error}", file=sys.stderr)
    except CommandError as error:
        print(f"nkcinema {args.command}: {error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
