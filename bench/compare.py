"""Compare the speed ratios of two load benchmark reports, cell by cell.

    .venv/bin/python -m bench.compare OLD.md NEW.md [--tolerance 0.05]

Reads the tables of two ``bench/results-load.md`` files (as ``bench.load`` writes them), pairs
the rows both have (section, workload, server) and prints, for each ratio column where a
higher or lower value is better, the old value, the new one and the change. A ratio counts as
dropped when it moved the wrong way by more than ``--tolerance`` (a share of the old value;
the run-to-run noise of a 5-second wrk run on a shared 2-core machine is a few per cent).
Exits 1 if any ratio dropped, so a before/after check can be scripted.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

PEER_SECTION = "The app against PostGraphile"
# Ratio columns and which way is better for the app.
HIGHER_IS_BETTER = ("req/s ÷ floor", "ours ÷ PostGraphile req/s")
LOWER_IS_BETTER = ("p50 ÷ floor", "p50 ÷")


@dataclass(frozen=True)
class Change:
    key: tuple[str, ...]
    column: str
    old: float
    new: float

    @property
    def better_when_higher(self) -> bool:
        return self.column in HIGHER_IS_BETTER

    def relative(self) -> float:
        """The change as a share of the old value, positive when the app got better."""
        if self.old == 0:
            return 0.0
        change = (self.new - self.old) / self.old
        return change if self.better_when_higher else -change


def _number(cell: str) -> float | None:
    try:
        return float(cell.replace(",", "").replace("*", "").strip())
    except ValueError:
        return None


def ratios(text: str) -> dict[tuple[tuple[str, ...], str], float]:
    """Every ratio cell of a report, keyed by (section, the row's identifying cells), column."""
    found: dict[tuple[tuple[str, ...], str], float] = {}
    section = ""
    header: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("## "):
            section, header = line[3:].strip(), None
            continue
        if not line.startswith("|"):
            header = None
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
            continue
        if set(line) <= set("|-: "):
            continue
        row = dict(zip(header, cells, strict=False))
        if section.startswith(PEER_SECTION):
            # Reports before PostGraphile v5 titled it "… (PostgreSQL, W1-W3)" and had v4 only.
            section = PEER_SECTION
            row.setdefault("PostGraphile", "v4")
        identity = tuple(
            row[name].replace("*", "")
            for name in ("catalog", "workers", "workload", "ours", "PostGraphile", "server")
            if name in row
        )
        for column in (*HIGHER_IS_BETTER, *LOWER_IS_BETTER):
            value = _number(row.get(column, ""))
            if value is not None:
                found[((section, *identity), column)] = value
    return found


def compare(old_text: str, new_text: str) -> list[Change]:
    old, new = ratios(old_text), ratios(new_text)
    return [
        Change(key, column, old[(key, column)], new[(key, column)])
        for key, column in old
        if (key, column) in new
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__)
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--tolerance", type=float, default=0.05)
    args = parser.parse_args(argv)
    changes = compare(args.old.read_text("utf-8"), args.new.read_text("utf-8"))
    dropped = [c for c in changes if c.relative() < -args.tolerance]
    for change in changes:
        mark = "DROPPED" if change in dropped else ""
        print(
            f"{' / '.join(change.key):60} {change.column:26} "
            f"{change.old:8.2f} → {change.new:8.2f} {change.relative():+7.1%} {mark}"
        )
    print(
        f"{len(changes)} ratios compared, {len(dropped)} dropped by more than {args.tolerance:.0%}"
    )
    return 1 if dropped else 0


if __name__ == "__main__":
    sys.exit(main())
