"""A PostgreSQL primary and a streaming replica of its own, for the read-replica tests and
the production benchmark (``bench.production``): here, outside ``tests``, so that both can
import it (the benchmark never imports the tests).

Both are made from the installed PostgreSQL binaries (``initdb``, ``pg_basebackup -R``,
``pg_ctl``; the newest ``/usr/lib/postgresql/<major>/bin`` or what is on ``PATH``) in a
temporary directory, listening on free ports of 127.0.0.1 with trust authentication
(``wal_level=replica``, ``hot_standby=on``), and removed afterwards. The machine's own cluster
(port 5432) is never touched. PostgreSQL refuses to run as root: as root, every command runs
as the ``postgres`` user (``runuser -u postgres --``), in a directory it owns.

Usage::

    reason = unavailable_reason()          # None: the binaries are there
    with Replication.started() as pair:    # primary and replica streaming
    # (``Replication.started({"shared_buffers": "256MB"})``: settings of both servers)
        pair.primary.url, pair.replica.url
        await pair.replica.fetchval("SELECT pg_wal_replay_pause()")
        pair.replica.stop(); pair.replica.start()
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from bench.servers import free_port

DATABASE = "nkcinema"
COMMAND_TIMEOUT = 60
# A loaded 2-core machine can take long to replay a seed (15 s once ran out in a full run);
# waiting costs nothing when replay is quick.
CATCH_UP_TIMEOUT = 60.0
RUN_AS = "postgres"  # the user the servers run as when the tests run as root
NEEDED = ("initdb", "pg_ctl", "pg_basebackup")


def binaries() -> Path | None:
    """The directory of PostgreSQL's server binaries (None: not installed)."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    for directory in versions:
        if all((directory / name).exists() for name in NEEDED):
            return directory
    found = shutil.which("initdb")
    if found is not None and all((Path(found).parent / name).exists() for name in NEEDED):
        return Path(found).parent
    return None


def unavailable_reason() -> str | None:
    """Why a primary and a replica cannot be started here (None: they can)."""
    if binaries() is None:
        return (
            "PostgreSQL's server binaries (initdb, pg_ctl, pg_basebackup) are not installed "
            "(Debian: postgresql-15)"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(RUN_AS)
        except KeyError:
            return f"running as root, and there is no {RUN_AS!r} user to run PostgreSQL as"
        if shutil.which("runuser") is None:
            return "running as root, and runuser (util-linux) is missing"
    return None


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", RUN_AS, "--", *command] if os.geteuid() == 0 else command


@dataclass
class Server:
    name: str
    data: Path
    port: int
    socket_dir: Path

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def pg_ctl(self, *args: str) -> None:
        bin_dir = binaries()
        assert bin_dir is not None
        _run([str(bin_dir / "pg_ctl"), "-D", str(self.data), *args])

    def start(self) -> None:
        self.pg_ctl("-l", str(self.data / "server.log"), "-w", "-t", "30", "start")

    def stop(self, mode: str = "immediate") -> None:
        """Stop the server (``immediate``: as a crash would, no shutdown checkpoint)."""
        self.pg_ctl("-m", mode, "-w", "-t", "30", "stop")

    def log(self) -> str:
        path = self.data / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    async def admin(self, sql: str) -> None:
        """Run ``sql`` on the server's ``postgres`` database (``CREATE DATABASE``)."""
        connection = await asyncpg.connect(
            f"postgresql://postgres@127.0.0.1:{self.port}/postgres", timeout=5
        )
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    async def fetchval(self, sql: str, *args: Any) -> Any:
        connection = await asyncpg.connect(self.url, timeout=5)
        try:
            return await connection.fetchval(sql, *args)
        finally:
            await connection.close()


def _run(command: list[str]) -> str:
    result = subprocess.run(
        _as_server_user(command),
        cwd="/",  # the server user may not enter the tests' working directory
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def _configure(server: Server, extra: dict[str, str] | None = None) -> None:
    settings = {
        "listen_addresses": "'127.0.0.1'",
        "port": str(server.port),
        "unix_socket_directories": f"'{server.socket_dir}'",
        "wal_level": "replica",
        "max_wal_senders": "4",
        "hot_standby": "on",
        "fsync": "off",  # a throwaway cluster: speed over durability
        "shared_buffers": "32MB",
        "max_connections": "100",
        **(extra or {}),
    }
    with (server.data / "postgresql.conf").open("a") as conf:  # later lines win
        conf.write("\n# nkcinema (bench/replication.py)\n")
        for name, value in settings.items():
            conf.write(f"{name} = {value}\n")


class Replication:
    """A primary and its streaming replica in a temporary directory (see the module)."""

    def __init__(self, root: Path, settings: dict[str, str] | None = None) -> None:
        self.root = root
        self.settings = settings
        self.primary = Server("primary", root / "primary", free_port(), root)
        self.replica = Server("replica", root / "replica", free_port(), root)

    @classmethod
    @contextmanager
    def started(cls, settings: dict[str, str] | None = None) -> Iterator[Replication]:
        """A running primary (with an empty ``nkcinema`` database) and replica; stopped and
        removed at the end, whatever happened. ``settings``: ``postgresql.conf`` lines of
        both, over the defaults above."""
        root = Path(tempfile.mkdtemp(prefix="nkcinema-replication-"))
        pair = cls(root, settings)
        try:
            if os.geteuid() == 0:
                entry = pwd.getpwnam(RUN_AS)
                os.chown(root, entry.pw_uid, entry.pw_gid)
            pair._start()
            yield pair
        finally:
            for server in (pair.replica, pair.primary):
                if (server.data / "postmaster.pid").exists():
                    with contextlib.suppress(RuntimeError):  # gone already: removed anyway
                        server.stop()
            shutil.rmtree(root, ignore_errors=True)

    def _start(self) -> None:
        bin_dir = binaries()
        assert bin_dir is not None
        primary, replica = self.primary, self.replica
        _run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(primary.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "--encoding=UTF8",
                "--locale=C",
            ]
        )
        _configure(primary, self.settings)
        primary.start()
        asyncio.run(primary.admin(f"CREATE DATABASE {DATABASE}"))
        _run(
            [
                str(bin_dir / "pg_basebackup"),
                "-h",
                "127.0.0.1",
                "-p",
                str(primary.port),
                "-U",
                "postgres",
                "-D",
                str(replica.data),
                "-R",  # standby.signal and primary_conninfo: a streaming replica
                "-X",
                "stream",
                "-c",
                "fast",
                "--no-sync",
            ]
        )
        _configure(replica, self.settings)
        replica.start()
        asyncio.run(self.caught_up())

    async def caught_up(self) -> None:
        """Wait until the replica has replayed everything the primary has written so far."""
        target = await self.primary.fetchval("SELECT pg_current_wal_lsn()::text")
        async with asyncio.timeout(CATCH_UP_TIMEOUT):
            while True:
                sql = "SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn"
                if await self.replica.fetchval(sql, target):
                    return
                await asyncio.sleep(0.05)
