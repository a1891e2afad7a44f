"""The ``nkcinema`` command: serve, seed, export, and wrap Alembic's migrations.

nkcinema serve [--host H] [--port P] [--workers N]
nkcinema seed [FILE ...] | --synthetic N [--seed S] [--output FILE]
nkcinema export [--output FILE]
nkcinema db upgrade [REV] | downgrade [REV] | current
nkcinema schema
nkcinema documents add [FILE ...] [--examples] | list
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from alembic import command
from db import models
from db.engine import create_engine, session_factory
from db.interchange.export import export_catalog
from db.interchange.format import CatalogError, dump_catalog
from metrics import worker_directory
from seeds import ProgressBar, seed
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
    where: dict[str, Any] = {"host": host, "port": port}
    shared = listening_socket(host, port) if args.workers > 1 else None  # kept open: uvicorn
    if shared is not None:  # gets only its file descriptor
        where = {"fd": shared.fileno()}
    # Several workers add their metrics up through files in a directory of their own.
    with worker_directory(args.workers):
        uvicorn.run(
            "web.app:create_served_app",
            factory=True,
            workers=args.workers,
            log_config=log_config(settings),
            access_log=False,  # the app's access log (web.middleware.AccessLog) has request ids
            **where,
        )
    return 0


def listening_socket(host: str, port: int) -> socket.socket:
    """The TCP socket several workers share, with TCP_NODELAY set on it (connections accepted
    on it inherit it). uvicorn binds its shared socket without declaring the TCP protocol, so
    asyncio does not set TCP_NODELAY on connections accepted there, and every response after
    a keep-alive connection's first waits ~40 ms on Nagle's algorithm and delayed ACKs."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def cmd_seed(args: argparse.Namespace, settings: Settings) -> int:
    if args.synthetic is None:
        if args.output is not None or args.seed is not None:
            args.seed_parser.error("--seed and --output go with --synthetic N")
    elif args.files:
        args.seed_parser.error("--synthetic N generates the catalog: give no FILE with it")
    if args.synthetic is not None and args.output is not None:
        return _write_synthetic(args.synthetic, _synthetic_seed(args), Path(args.output))
    files = [Path(f) for f in args.files] or None
    documents: list[tuple[str, Any]] | None = None
    progress: ProgressBar | None = None
    if args.synthetic is not None:
        progress = ProgressBar()
        documents = [_synthetic_document(args.synthetic, _synthetic_seed(args), progress)]
    try:
        try:
            report = _run(
                lambda e: seed(session_factory(e), files, documents=documents, progress=progress),
                settings.database_url,
            )
        finally:
            if progress is not None:
                progress.close()  # a failure's message starts on a line of its own
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


def _synthetic_seed(args: argparse.Namespace) -> int:
    return 1 if args.seed is None else int(args.seed)


def _synthetic_document(
    works: int, seed_value: int, progress: ProgressBar
) -> tuple[str, dict[str, Any]]:
    from seeds.synthetic import synthetic_catalog

    document = synthetic_catalog(
        works, seed_value, progress=lambda done, total: progress("generating", done, total)
    )
    return f"synthetic catalog ({works} works, seed {seed_value})", document


def _write_synthetic(works: int, seed_value: int, output: Path) -> int:
    """``seed --synthetic N --output FILE``: the catalog as an interchange file, no database."""
    progress = ProgressBar()
    _, document = _synthetic_document(works, seed_value, progress)
    progress("writing " + str(output), 0, 1)
    output.write_text(dump_catalog(document), encoding="utf-8")
    progress("writing " + str(output), 1, 1)
    print(
        f"nkcinema seed: wrote a synthetic catalog of {works} works (seed {seed_value}) "
        f"to {output}; the database was not touched"
    )
    return 0


def _work_count(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of works: {value!r}") from None
    if count < 1:
        raise argparse.ArgumentTypeError(f"the number of works must be at least 1; got {count}")
    return count


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


def cmd_token(args: argparse.Namespace, settings: Settings) -> int:
    """Curators' API tokens: a new one is printed once (only its hash is kept)."""
    from db.tokens import TokenError, create_token, list_tokens, revoke_token

    async def run(engine: Any) -> int:
        async with session_factory(engine)() as session, session.begin():
            if args.action == "create":
                secret = await create_token(session, args.name, args.scope)
                print(secret)
                print(
                    f"nkcinema token: created {args.name!r} ({args.scope}); this is the only "
                    "time the token is shown",
                    file=sys.stderr,
                )
            elif args.action == "revoke":
                await revoke_token(session, args.name)
                print(f"nkcinema token: revoked {args.name!r}", file=sys.stderr)
            else:
                for row in await list_tokens(session):
                    state = "revoked" if row.revoked_at else "active"
                    print(f"{row.name}\t{row.scope}\t{state}\t{row.created_at:%Y-%m-%d}")
        return 0

    try:
        return int(_run(run, settings.database_url))
    except TokenError as error:
        print(f"nkcinema token: {error}", file=sys.stderr)
        return 2


def cmd_documents(args: argparse.Namespace, settings: Settings) -> int:
    """Trusted documents (``db.persisted_documents``): the operations a deployment allows when
    ``NKCINEMA_TRUSTED_DOCUMENTS`` is on, and which clients may also send by hash."""
    from db.persisted_documents import list_documents, trust_documents

    if args.action == "list":

        async def listed(engine: Any) -> None:
            async with session_factory(engine)() as session:
                for row in await list_documents(session):
                    state = "trusted" if row.trusted else "registered"
                    print(f"{row.sha256}\t{_operation_name(row.document)}\t{state}")

        _run(listed, settings.database_url)
        return 0
    if not args.files and not args.examples:
        args.documents_parser.error("add what? name FILEs, or --examples")
    documents, problems = _documents_to_add(args.files, args.examples)
    if problems:
        print("nkcinema documents: nothing was added:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1

    async def add(engine: Any) -> str:
        async with session_factory(engine)() as session, session.begin():
            done = await trust_documents(session, documents)
        return (
            f"{done.added} added, {done.marked} registered ones now trusted, "
            f"{done.unchanged} trusted already"
        )

    print(f"nkcinema documents: {_run(add, settings.database_url)}")
    return 0


def _operation_name(document: str) -> str:
    """The name of a document's first operation ("(anonymous)", or "-": no operation)."""
    from graphql import GraphQLError, OperationDefinitionNode, parse

    try:
        parsed = parse(document, no_location=True)
    except GraphQLError:
        return "-"
    for definition in parsed.definitions:
        if isinstance(definition, OperationDefinitionNode):
            return definition.name.value if definition.name else "(anonymous)"
    return "-"


def _documents_to_add(files: Sequence[str], examples: bool) -> tuple[list[str], list[str]]:
    """The documents of ``files`` (``.json``: a manifest; else one document per file) and, with
    ``examples``, of the project's own pages; and the problems found (each a line)."""
    from db.persisted_documents import document_hash

    found: list[tuple[str, str]] = []  # (where, document)
    problems: list[str] = []
    for name in files:
        path = Path(name)
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            problems.append(f"{name}: cannot read it: {error}")
            continue
        if path.suffix.lower() != ".json":
            found.append((name, text))
            continue
        try:
            manifest = json.loads(text)
        except ValueError as error:
            problems.append(f"{name}: not JSON: {error}")
            continue
        entries = _manifest_entries(manifest)
        if entries is None:
            problems.append(
                f"{name}: not a manifest: expected {{sha256: document, …}} (GraphQL Codegen's "
                "persisted documents) or Apollo's persisted query manifest"
            )
            continue
        for key, document in entries:
            if document_hash(document) != key.lower():
                problems.append(
                    f"{name}: {key}: not the SHA-256 of its document (documents are known by "
                    "the SHA-256 of their text: have the client hash with SHA-256)"
                )
            else:
                found.append((f"{name}: {key}", document))
    if examples:
        from web.app import EXAMPLES
        from web.example_documents import ExampleError, example_documents

        try:
            found += example_documents(EXAMPLES)
        except (OSError, ExampleError) as error:
            problems.append(f"--examples: {error}")
    for where, document in found:
        problem = _document_problem(document)
        if problem is not None:
            problems.append(f"{where}: {problem}")
    return [document for _, document in found], problems


def _manifest_entries(manifest: Any) -> list[tuple[str, str]] | None:
    """(hash, document) of a manifest: ``{hash: document}``, or Apollo's
    ``{"format": "apollo-persisted-query-manifest", "operations": [{"id", "body"}, …]}``."""
    if not isinstance(manifest, dict):
        return None
    pairs: list[tuple[Any, Any]]
    if manifest.get("format") == "apollo-persisted-query-manifest":
        operations = manifest.get("operations")
        if not isinstance(operations, list):
            return None
        pairs = [
            (o.get("id"), o.get("body")) if isinstance(o, dict) else (0, 0) for o in operations
        ]
    else:
        pairs = list(manifest.items())
    entries = [(k, d) for k, d in pairs if isinstance(k, str) and isinstance(d, str)]
    return entries if len(entries) == len(pairs) else None


def _document_problem(document: str) -> str | None:
    """Why a document cannot be trusted: it must be GraphQL with at least one operation, and
    valid against the served schema."""
    from graphql import GraphQLError, OperationDefinitionNode, parse, validate

    from gql.schema import schema

    try:
        parsed = parse(document, no_location=True)
    except GraphQLError as error:
        return f"not GraphQL: {error.message}"
    if not any(isinstance(d, OperationDefinitionNode) for d in parsed.definitions):
        return "no operation in it"
    found = validate(schema._schema, parsed)
    return f"not valid against the schema: {found[0].message}" if found else None


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

    seed_cmd = sub.add_parser(
        "seed", help="load catalog files (default: the bundled seeds) or a synthetic catalog"
    )
    seed_cmd.add_argument("files", nargs="*", metavar="FILE", help="interchange JSON files")
    seed_cmd.add_argument(
        "--synthetic",
        type=_work_count,
        metavar="N",
        help="load a generated, deterministic catalog of N works instead of files",
    )
    seed_cmd.add_argument(
        "--seed",
        type=int,
        metavar="S",
        help="with --synthetic: the generator's seed (default 1); same N and S, same catalog",
    )
    seed_cmd.add_argument(
        "--output",
        "-o",
        metavar="FILE",
        help="with --synthetic: write the catalog to FILE (interchange JSON), not the database",
    )
    seed_cmd.set_defaults(handler=cmd_seed, seed_parser=seed_cmd)

    export = sub.add_parser("export", help="write the whole catalog as interchange JSON")
    export.add_argument("--output", "-o", metavar="FILE", help="file to write (default: stdout)")
    export.set_defaults(handler=cmd_export)

    db = sub.add_parser("db", help="database migrations (wraps Alembic)")
    db.add_argument("action", choices=("upgrade", "downgrade", "current"))
    db.add_argument("revision", nargs="?", help="target revision (upgrade: head, downgrade: -1)")
    db.set_defaults(handler=cmd_db)

    schema_cmd = sub.add_parser("schema", help="print the GraphQL schema (SDL)")
    schema_cmd.set_defaults(handler=cmd_schema)

    token = sub.add_parser("token", help="curators' API tokens (create, list, revoke)")
    token_actions = token.add_subparsers(dest="action", required=True)
    create = token_actions.add_parser("create", help="create a token and print it (once)")
    create.add_argument("--name", required=True, help="who or what the token is for")
    create.add_argument("--scope", choices=("editor", "admin"), default="editor")
    token_actions.add_parser("list", help="list tokens (names, scopes, states; never tokens)")
    revoke = token_actions.add_parser("revoke", help="revoke a token by name")
    revoke.add_argument("name")
    token.set_defaults(handler=cmd_token)

    documents = sub.add_parser(
        "documents", help="trusted documents (add, list): what runs with trusted documents on"
    )
    document_actions = documents.add_subparsers(dest="action", required=True)
    add = document_actions.add_parser(
        "add", help="trust documents: .graphql files (one document each) or JSON manifests"
    )
    add.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="a document (.graphql), or a manifest (.json: {sha256: document} as GraphQL "
        "Codegen writes it, or Apollo's persisted query manifest)",
    )
    add.add_argument(
        "--examples",
        action="store_true",
        help="also the project's own: GraphiQL's example tabs and the example frontend's",
    )
    add.set_defaults(documents_parser=add)
    document_actions.add_parser(
        "list", help="every persisted document: hash, first operation, trusted or registered"
    )
    documents.set_defaults(handler=cmd_documents)
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
