"""Fetch GraphiQL's browser files from npm into ``assets/`` (run by hand to upgrade them).

    python -m web.graphiql.vendor          # needs npm and the registry; writes assets/VERSIONS

Each file is copied unchanged from its package except for a trailing ``sourceMappingURL``
comment, removed because the maps are not vendored (a browser with developer tools open would
otherwise ask the app for them). ``assets/VERSIONS`` records each file's package, version and
SHA-256; tests/web/test_graphiql.py checks the files against it.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ASSETS = Path(__file__).resolve().parent / "assets"
LICENSES = ASSETS / "licenses"

# (package, version, file in the package, file in assets/)
FILES = (
    ("react", "18.2.0", "umd/react.production.min.js", "react.production.min.js"),
    ("react-dom", "18.2.0", "umd/react-dom.production.min.js", "react-dom.production.min.js"),
    ("graphiql", "3.8.3", "graphiql.min.js", "graphiql.min.js"),
    ("graphiql", "3.8.3", "graphiql.min.css", "graphiql.min.css"),
    ("@graphiql/plugin-explorer", "1.0.2", "dist/index.umd.js", "plugin-explorer.umd.js"),
    ("@graphiql/plugin-explorer", "1.0.2", "dist/style.css", "plugin-explorer.css"),
)
_SOURCE_MAP = re.compile(rb"\n?(//# sourceMappingURL=\S+|/\*# sourceMappingURL=\S+ ?\*/)\s*$")


def strip_source_map(content: bytes) -> bytes:
    return _SOURCE_MAP.sub(b"\n", content)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _pack(package: str, version: str, directory: Path) -> tarfile.TarFile:
    result = subprocess.run(
        ["npm", "pack", f"{package}@{version}", "--silent"],
        cwd=directory,
        check=True,
        capture_output=True,
        text=True,
    )
    return tarfile.open(directory / result.stdout.strip().splitlines()[-1])


def vendor() -> None:
    with tempfile.TemporaryDirectory() as work:
        packs: dict[tuple[str, str], tarfile.TarFile] = {}
        lines = []
        for package, version, inside, name in FILES:
            pack = packs.get((package, version)) or _pack(package, version, Path(work))
            packs[(package, version)] = pack
            member = pack.extractfile(f"package/{inside}")
            assert member is not None, (package, inside)
            (ASSETS / name).write_bytes(strip_source_map(member.read()))
            lines.append(f"{name} {package}@{version} {inside} {sha256(ASSETS / name)}")
            try:
                license_file = pack.extractfile("package/LICENSE")
            except KeyError:
                license_file = None  # plugin-explorer ships none: licenses/ has a note
            if license_file is not None:
                short = package.rsplit("/", 1)[-1]
                (LICENSES / f"{short}.LICENSE").write_bytes(license_file.read())
        (ASSETS / "VERSIONS").write_text("\n".join(lines) + "\n", "utf-8")


if __name__ == "__main__":
    vendor()
    sys.exit(0)
