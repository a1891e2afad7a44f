#!/usr/bin/env python3
"""Set up and run nkcinema with one command each; needs only Python 3.11+.

    python3 dev.py serve [nkcinema serve options]   # the API + GraphiQL on SQLite
    python3 dev.py test [pytest options]            # the whole test suite
    python3 dev.py lint                             # ruff and mypy
    python3 dev.py setup                            # only create/refresh .venv

Each command first makes sure ``.venv`` exists and holds the project (editable, with the
``dev`` extra), reinstalling when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".nkcinema-installed"


def ensure_environment() -> None:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == digest and PYTHON.exists():
        return
    if not PYTHON.exists():
        print("dev.py: creating .venv", flush=True)
        venv.create(VENV, with_pip=True)
    print("dev.py: installing nkcinema and its dev tools into .venv", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "--editable", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(digest)


JS_TESTS = ROOT / "tests" / "e2e" / "js"
JS_STAMP = JS_TESTS / "node_modules" / ".nkcinema-installed"


def ensure_js_tools() -> None:
    """The end-to-end tests' npm packages (a JavaScript client, the graphql-http audit,
    playwright-core), installed from tests/e2e/js/package-lock.json when npm is here. Without npm
    those tests skip, saying why (under CI=true they fail instead)."""
    lock = JS_TESTS / "package-lock.json"
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    if JS_STAMP.exists() and JS_STAMP.read_text() == digest:
        return
    npm = shutil.which("npm")
    if npm is None:
        print("dev.py: npm not found: the JavaScript and browser tests will skip", flush=True)
        return
    print("dev.py: installing the end-to-end tests' npm packages (tests/e2e/js)", flush=True)
    installed = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=JS_TESTS
    )
    if installed.returncode != 0:
        print("dev.py: npm ci failed: the JavaScript and browser tests will skip", flush=True)
        return
    JS_STAMP.write_text(digest)


def run(*command: str) -> int:
    return subprocess.run(list(command), cwd=ROOT).returncode


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):  # noqa: UP036  (this script may be run by an older Python)
        print("dev.py: nkcinema needs Python 3.11 or newer", file=sys.stderr)
        return 2
    if not argv or argv[0] not in ("serve", "test", "lint", "setup"):
        print(__doc__, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_environment()
    if command == "setup":
        ensure_js_tools()
        return 0
    if command == "serve":
        os.chdir(ROOT)
        nkcinema = str(BIN / "nkcinema")
        os.execv(nkcinema, [nkcinema, "serve", *rest])
    if command == "test":
        ensure_js_tools()
        return run(str(PYTHON), "-m", "pytest", *rest)
    for step in (
        (str(PYTHON), "-m", "ruff", "check", "."),
        (str(PYTHON), "-m", "ruff", "format", "--check", "."),
        (str(PYTHON), "-m", "mypy"),
    ):
        if code := run(*step):
            return code
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
