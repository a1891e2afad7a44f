"""The web font the example frontend draws Hangul with, served by the app itself (at
``/fonts/``, like GraphiQL's assets): a machine with no Korean font still shows 혈해, not boxes.

``assets/`` holds one WOFF2, a subset of Noto Sans KR (SIL Open Font License 1.1, in
``assets/OFL.txt``) made by ``make.py`` (how, and from which package: its docstring and
``assets/VERSIONS``). Its name changes with every build, so it is served as immutable for a
year (``CACHE_CONTROL``): a page asks for it once per browser, not once per visit.
"""

from __future__ import annotations

from pathlib import Path

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

ASSETS = Path(__file__).resolve().parent / "assets"
FONT = "noto-sans-kr-ksx1001-400.v1.woff2"  # a new build takes a new name (see make.py)
FAMILY = "Noto Sans KR Subset"  # the @font-face name examples/style.css gives it
CACHE_CONTROL = "public, max-age=31536000, immutable"


class FontFiles(StaticFiles):
    """``assets/`` as static files, each with a year's ``Cache-Control`` (errors without)."""

    def __init__(self) -> None:
        super().__init__(directory=ASSETS)

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            response.headers["Cache-Control"] = CACHE_CONTROL
        return response
