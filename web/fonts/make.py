"""Make the vendored Hangul web font (run by hand; its output is committed).

    pip install fonttools brotli   # in any virtualenv: not a dependency of the project
    python -m web.fonts.make       # needs npm and the registry; writes assets/

Noto Sans KR 400 (SIL Open Font License 1.1) comes from the npm package
``@fontsource/noto-sans-kr``, which ships it cut into about a hundred WOFF2 slices by Unicode
range. The slices holding a wanted character are each cut down to the wanted characters,
merged into one font and written as one WOFF2: the 2,350 Hangul syllables of KS X 1001 (the
set Korean text nearly always stays within), every other syllable the seed catalog uses (so
no name of the catalog falls back to a system font), and Latin with the marks of McCune-
Reischauer (ŏ, ŭ, the apostrophe of aspiration) for the romanized forms next to them.
Layout tables (kerning, ligatures) are dropped: precomposed syllables need none, and the
file stays small. ``assets/VERSIONS`` records the package, its version and the file's SHA-256
(tests/web/test_fonts.py checks the file against it); ``assets/OFL.txt`` is the licence, as the
package ships it. A new build gets a new file name (``FONT``), so browsers holding the old one
for a year (``web.fonts.CACHE_CONTROL``) fetch the new one.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

from fontTools import subset
from fontTools.merge import Merger
from fontTools.ttLib import TTFont

from web.fonts import ASSETS, FONT

PACKAGE = "@fontsource/noto-sans-kr"
VERSION = "5.3.0"
SLICES = "package/files/noto-sans-kr-*-400-normal.woff2"
SEED = Path(__file__).resolve().parents[2] / "seeds" / "catalog.json"
HANGUL_SYLLABLES = range(0xAC00, 0xD7A4)
LATIN = [
    *range(0x20, 0x7F),  # ASCII
    *range(0xA0, 0x180),  # Latin-1, Latin Extended-A (ŏ ŭ of McCune-Reischauer)
    *(0x2BC, 0x306, 0x30C),  # modifier apostrophe, combining breve and caron
    *range(0x2010, 0x2028),  # dashes, quotation marks, ellipsis
    *range(0x2030, 0x203B),  # per mille, primes, single guillemets
    0x2212,  # minus
]


def ks_x_1001_syllables() -> set[int]:
    """The 2,350 Hangul syllables of KS X 1001: rows 0xB0-0xC8 of EUC-KR, 94 cells each."""
    found = set()
    for lead in range(0xB0, 0xC9):
        for trail in range(0xA1, 0xFF):
            found.add(ord(bytes([lead, trail]).decode("euc_kr")))
    assert len(found) == 2350, len(found)
    return found


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def seed_syllables() -> set[int]:
    """Every Hangul syllable in the seed catalog's strings."""
    data = json.loads(SEED.read_text("utf-8"))
    return {ord(c) for text in _strings(data) for c in text if ord(c) in HANGUL_SYLLABLES}


def wanted() -> set[int]:
    return ks_x_1001_syllables() | seed_syllables() | set(LATIN)


def _options() -> subset.Options:
    options = subset.Options()
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "STAT", "vhea", "vmtx"]
    options.name_IDs = ["*"]  # the copyright and licence notices stay in the font
    options.notdef_outline = True
    return options


def build(package: Path, work: Path) -> bytes:
    codepoints = wanted()
    pieces: list[str] = []
    for woff2 in sorted(package.glob(SLICES.removeprefix("package/"))):
        font = TTFont(woff2)
        here = codepoints & set(font.getBestCmap())
        if not here:
            continue
        cutter = subset.Subsetter(_options())
        cutter.populate(unicodes=here)
        cutter.subset(font)
        font.flavor = None
        piece = work / f"{woff2.stem}.ttf"
        font.save(piece)
        pieces.append(str(piece))
    merged = Merger().merge(pieces)
    covered = set(merged.getBestCmap())
    # Each slice brought its own .notdef and shared outlines: one more cut keeps one of each.
    cutter = subset.Subsetter(_options())
    cutter.populate(unicodes=covered)
    cutter.subset(merged)
    missing = sorted((ks_x_1001_syllables() | seed_syllables()) - covered)
    if missing:
        raise SystemExit(f"the package lacks {''.join(map(chr, missing))}")
    merged.flavor = "woff2"
    out = work / "merged.woff2"
    merged.save(out)
    return out.read_bytes()


def make() -> None:
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp)
        packed = (
            subprocess.run(
                ["npm", "pack", f"{PACKAGE}@{VERSION}", "--silent"],
                cwd=work,
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        with tarfile.open(work / packed) as archive:
            archive.extractall(work, filter="data")
        font = build(work / "package", work)
        for old in ASSETS.glob("*.woff2"):
            old.unlink()
        (ASSETS / FONT).write_bytes(font)
        licence = (work / "package" / "LICENSE").read_text("utf-8")
        (ASSETS / "OFL.txt").write_text(licence, "utf-8")
    digest = hashlib.sha256((ASSETS / FONT).read_bytes()).hexdigest()
    (ASSETS / "VERSIONS").write_text(f"{FONT} {PACKAGE}@{VERSION} {SLICES} {digest}\n", "utf-8")


if __name__ == "__main__":
    make()
    sys.exit(0)
