"""The bundled seed data and the seeding command's logic (``nkcinema seed``).

Seeding is separate from migrations and idempotent: it upserts by slug, so running it twice
changes nothing the second time.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.interchange.format import CatalogError, Problem
from db.interchange.load import LoadReport, Progress, analyze_loaded, load_catalogs

SEEDS_DIR = Path(__file__).resolve().parent
BUNDLED_CATALOG = SEEDS_DIR / "catalog.json"
SEED_DOCUMENT = SEEDS_DIR / "000_14e5cf84a50bc851.txt"


def read_documents(files: list[Path]) -> list[tuple[str, object]]:
    """Decode each file's JSON; unreadable or malformed files are reported, none is skipped."""
    documents: list[tuple[str, object]] = []
    problems: list[Problem] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            problems.append(Problem(str(path), "", f"cannot read the file ({error})"))
            continue
        try:
            documents.append((str(path), json.loads(text)))
        except json.JSONDecodeError as error:
            problems.append(
                Problem(
                    str(path),
                    f"line {error.lineno} column {error.colno}",
                    f"not valid JSON: {error.msg}",
                )
            )
    if problems:
        raise CatalogError(problems)
    return documents


async def seed(
    sessions: async_sessionmaker[AsyncSession],
    files: list[Path] | None = None,
    *,
    documents: list[tuple[str, Any]] | None = None,
    progress: Progress | None = None,
) -> LoadReport:
    """Load catalog files (default: the bundled seeds), or ``documents`` already decoded
    (``(name, document)`` pairs, e.g. a synthetic catalog), in one transaction: all or
    nothing. Then, if anything was written, fresh planner statistics for the loaded tables
    on PostgreSQL (``analyze_loaded``), so that the first requests are planned for the
    catalog as loaded. ``progress(phase, done, total)`` follows the load, the commit and
    ANALYZE included."""
    if documents is None:
        documents = read_documents(files or [BUNDLED_CATALOG])
    async with sessions() as session:
        async with session.begin():
            report = await load_catalogs(session, documents, progress=progress)
            if progress is not None:
                progress("committing", 0, 1)
        if progress is not None:
            progress("committing", 1, 1)
        if report.changed:
            # after the commit: the statistics describe the rows the catalog now holds
            async with session.begin():
                await analyze_loaded(session, progress)
    return report


class ProgressBar:
    """A textual progress bar for ``progress(phase, done, total)`` callbacks, on stderr.

    On a terminal the phase's line is redrawn in place as batches complete; elsewhere (a log,
    a pipe) one line is written per phase, when it ends. A line ends with the seconds the
    phase has taken.
    """

    def __init__(self, stream: TextIO | None = None, width: int = 30) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.interactive = self.stream.isatty()
        self.phase: str | None = None
        self.started = 0.0
        self.open = False  # a terminal line is drawn and not yet ended

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase != self.phase:
            if self.open:
                self.stream.write("\n")
                self.open = False
            self.phase, self.started = phase, time.perf_counter()
        ended = done >= total
        if not (self.interactive or ended):
            return
        share = 1.0 if total <= 0 else min(done / total, 1.0)
        filled = round(share * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        seconds = time.perf_counter() - self.started
        line = f"{phase:<30} [{bar}] {share:4.0%} {done:,}/{total:,} {seconds:6.1f} s"
        if self.interactive:
            self.stream.write("\r" + line + ("\n" if ended else ""))
            self.open = not ended
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End a line left open on a terminal (a load that failed half way)."""
        if self.open:
            self.stream.write("\n")
            self.stream.flush()
            self.open = False
