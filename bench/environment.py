"""What a result was measured on: the machine, the software versions and the code revision."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

PACKAGES = (
    "strawberry-graphql",
    "graphql-core",
    "sqlalchemy",
    "alembic",
    "asyncpg",
    "aiosqlite",
    "starlette",
    "httpx",
    "uvicorn",
    "uvloop",
    "httptools",
    "orjson",
)


@dataclass(frozen=True)
class Environment:
    cpu: str
    cores: int
    memory_gib: float
    os: str
    python: str
    sqlite: str
    packages: dict[str, str] = field(default_factory=dict)
    revision: str = "unknown"


def _first(path: str, prefix: str) -> str | None:
    try:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.startswith(prefix):
                return line.partition(prefix)[2].strip().strip(":").strip().strip('"')
    except OSError:
        pass
    return None


def _memory_gib() -> float:
    kib = _first("/proc/meminfo", "MemTotal")
    return int(kib.split()[0]) / 1024**2 if kib else 0.0


def _package(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _revision(directory: Path) -> str:
    """The commit, and whether the work tree differs from it outside ``bench/`` (benchmarks
    run the work tree, uncommitted changes and all)."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=directory, capture_output=True, text=True, check=True
        )
        # Only trailing whitespace: a porcelain status line starts with its two status
        # columns, the first often a space (" M bench/results.md").
        return done.stdout.rstrip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        status = git("status", "--porcelain", "--untracked-files=all")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    changed = [line[3:] for line in status.splitlines() if not line[3:].startswith("bench/")]
    if not changed:
        return commit
    files = f"{len(changed)} file{'' if len(changed) == 1 else 's'}"
    return f"{commit} + uncommitted changes to {files} outside bench/"


def describe(project: Path) -> Environment:
    return Environment(
        cpu=_first("/proc/cpuinfo", "model name") or platform.processor() or "unknown",
        cores=os.cpu_count() or 0,
        memory_gib=_memory_gib(),
        os=f"{_first('/etc/os-release', 'PRETTY_NAME=') or platform.system()}, "
        f"kernel {platform.release()}",
        python=platform.python_version(),
        sqlite=sqlite3.sqlite_version,
        packages={name: _package(name) for name in PACKAGES},
        revision=_revision(project),
    )
