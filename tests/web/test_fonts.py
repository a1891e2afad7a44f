"""The example frontend's Hangul web font is served by the app itself, cached for a year, is
the file its build recorded, and comes with its licence.

(The browser test, tests/e2e/test_browser.py, proves Chromium draws Hangul with it on a
machine with no Korean font; these are the HTTP-level and file facts behind it.)"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import web
from settings import Settings
from tests.support.client import app_client
from web.app import EXAMPLES, FONTS
from web.fonts import ASSETS, CACHE_CONTROL, FAMILY, FONT

WOFF2_SIGNATURE = b"wOF2"


async def test_the_font_is_served_as_woff2_and_cached_for_a_year(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(f"{FONTS}/{FONT}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "font/woff2"
    assert response.headers["cache-control"] == CACHE_CONTROL
    assert response.content == (ASSETS / FONT).read_bytes()
    assert response.content[:4] == WOFF2_SIGNATURE
    # A revalidation (the browser's conditional request) keeps the long lifetime too.
    again = await client.get(f"{FONTS}/{FONT}", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["cache-control"] == CACHE_CONTROL


async def test_a_missing_file_is_not_cached(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{FONTS}/no-such-font.woff2")
    assert response.status_code == 404
    assert "immutable" not in response.headers.get("cache-control", "")


async def test_the_licence_is_served_beside_the_font(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{FONTS}/OFL.txt")
    assert response.status_code == 200
    assert "SIL OPEN FONT LICENSE Version 1.1" in response.text


@pytest.mark.parametrize(
    ("examples", "graphiql"), [(True, False), (False, True), (True, True), (False, False)]
)
async def test_the_font_goes_with_the_pages_that_draw_hangul(
    catalog_url: str, sessions: async_sessionmaker[AsyncSession], examples: bool, graphiql: bool
) -> None:
    settings = Settings(database_url=catalog_url, examples=examples, graphiql=graphiql)
    async with app_client(settings, sessions=sessions) as client:
        response = await client.get(f"{FONTS}/{FONT}")
        assert (response.status_code == 200) is (examples or graphiql)


def test_graphiql_draws_hangul_with_the_served_font_and_only_hangul() -> None:
    """GraphiQL's page puts the subset first in its two font stacks, for Hangul only, so the
    results pane shows 최익규 and not three boxes where no Korean font is installed."""
    page = (Path(web.__file__).parent / "graphiql" / "page.html").read_text("utf-8")
    [face] = re.findall(r"@font-face\s*{([^}]*)}", page)
    assert f'url("{FONTS}/{FONT}") format("woff2")' in face
    assert "unicode-range: U+3130-318F, U+AC00-D7A3;" in face
    assert '--font-family: "nkcinema Hangul"' in page
    assert '--font-family-mono: "nkcinema Hangul"' in page


def test_the_font_is_the_file_its_build_wrote() -> None:
    """assets/VERSIONS (written by `python -m web.fonts.make`) names the package and the
    checksum: a font replaced by hand, or a second one left behind, fails here."""
    [line] = (ASSETS / "VERSIONS").read_text("utf-8").splitlines()
    name, package, _inside, digest = line.split()
    assert name == FONT
    assert package.startswith("@fontsource/noto-sans-kr@")
    assert hashlib.sha256((ASSETS / FONT).read_bytes()).hexdigest() == digest
    assert [p.name for p in ASSETS.glob("*.woff2")] == [FONT]


def test_the_stylesheet_draws_hangul_with_the_served_font() -> None:
    """examples/style.css declares the family from this very URL, for Hangul at least."""
    css = (EXAMPLES / "style.css").read_text("utf-8")
    faces = re.findall(r"@font-face\s*{([^}]*)}", css)
    assert len(faces) == 1, faces
    [face] = faces
    assert f'font-family: "{FAMILY}"' in face
    assert f'url("{FONTS}/{FONT}") format("woff2")' in face
    assert "U+AC00-D7A3" in face  # the Hangul syllables
    assert css.count(f'"{FAMILY}"') > 1  # declared, and used
