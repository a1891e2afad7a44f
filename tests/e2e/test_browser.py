"""A real browser uses the app's pages with no network beyond the app itself.

`tests/e2e/js/browser.mjs` drives headless Chromium (Debian's, through playwright-core; no browser
is ever downloaded) against a live `nkcinema serve`. Every request each page makes is
recorded, and any request off the server's origin is both reported and aborted, so these
prove the pages work offline:

- the example frontend at /examples/ renders the directors -> works -> themes the API returns
  (Choe Ik-kyu with The Flower Girl and its themes on the first page), pages forward and back
  through a stack of cursors with a matching status line, and shows an error response's
  message and extensions.code as text;
- its search box finds Sea of Blood by 피바다 and Choe Ik-kyu by 최익규 (the hits are what
  ``searchHits`` answers); the work page shows every statement with the sources that state it,
  each dispute beside what the record states, the credits and their sources, and links to the
  credited person's page; a series found by a title only a reference gives (Boy General) shows
  its parts with their broadcast years, its studio and dated events, each with its sources (its
  page is the README's screenshot), a film in parts likewise, and a film its premiere and
  release (month, place); the person page shows their credited works (and, where the schema
  has ``Person.reported``, the works references report against the record); each compared
  with what the API serves. Hangul is drawn with the app's own font (/fonts/), on a machine
  with no Korean font: Chromium reports the glyphs came from that web font;
- GraphiQL at /graphql loads from the app's vendored assets, runs its first example tab
  (director -> works -> themes) against the server and shows "The Flower Girl", and opens the
  docs explorer on the schema.

Screenshots go to test-output/browser/; with ``NKCINEMA_SCREENSHOTS_TO_DOCS=1`` the ones the
README shows are copied to docs/ as well (a plain run leaves the work tree alone). Without
Chromium, node or playwright-core the tests are skipped locally and fail in CI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.live import Server
from tests.support.node import JS_DIR, ROOT, missing, node_with, report, run_script
from web.app import FONTS
from web.fonts import FONT

SCRIPT = JS_DIR / "browser.mjs"
OUTPUT = ROOT / "test-output" / "browser"
DOCS = ROOT / "docs"
TO_DOCS = "NKCINEMA_SCREENSHOTS_TO_DOCS"  # =1: refresh the README's screenshots in docs/
DEFAULT_CHROMIUM = Path("/usr/bin/chromium")
BROWSER_TESTS = "the browser tests"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Browser:
    node: str
    chromium: str


def _chromium() -> str | None:
    configured = os.environ.get("CHROMIUM_PATH", "").strip()
    if configured:
        return configured if Path(configured).is_file() else None
    if DEFAULT_CHROMIUM.is_file():
        return str(DEFAULT_CHROMIUM)
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def browser() -> Browser:
    """Node and Chromium; skipped locally (failed in CI) when either or playwright-core is
    missing. Requested before ``live_server``, so a skip comes before the server starts."""
    chromium = _chromium()
    if chromium is None:
        where = os.environ.get("CHROMIUM_PATH") or f"{DEFAULT_CHROMIUM} or on PATH"
        missing(
            f"no Chromium at {where}: apt-get install chromium (or set CHROMIUM_PATH)",
            BROWSER_TESTS,
        )
    return Browser(node=node_with("playwright-core", BROWSER_TESTS), chromium=chromium)


def _report(result: subprocess.CompletedProcess[str], server: Server) -> str:
    return report(result, SCRIPT, server, role="browser")


def run_check(browser: Browser, server: Server, check: str) -> dict[str, Any]:
    """Run one check of browser.mjs; return its JSON summary once it has passed."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for stale in OUTPUT.glob(f"{check}*.png"):  # a screenshot must come from this run
        stale.unlink()
    log_before = len(server.stderr)  # the server is shared: judge only this check's log
    result = run_script(
        browser.node,
        SCRIPT,
        server.base_url,
        str(OUTPUT),
        "--only",
        check,
        server=server,
        role="browser",
        env={**os.environ, "CHROMIUM_PATH": browser.chromium},
    )
    assert result.returncode == 0, _report(result, server)
    try:
        summary: dict[str, Any] = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"the summary is not JSON\n{_report(result, server)}")

    # The script's own verdict, re-checked here so it cannot pass by checking nothing.
    assert summary["ok"] is True, _report(result, server)
    assert [c["name"] for c in summary["checks"]] == [check], summary["checks"]
    assert summary["checks"][0]["ok"] is True, _report(result, server)
    origin = urlsplit(server.base_url)
    foreign = [
        r["url"]
        for r in summary["requests"]
        if not r["url"].startswith(("data:", "blob:"))
        and urlsplit(r["url"])[:2] != (origin.scheme, origin.netloc)
    ]
    assert foreign == [] and summary["foreign_requests"] == [], _report(result, server)
    assert "Traceback" not in server.stderr[log_before:], server.output()
    return summary


def requested_paths(summary: dict[str, Any], method: str) -> list[str]:
    return [urlsplit(r["url"]).path for r in summary["requests"] if r["method"] == method]


def assert_screenshots(summary: dict[str, Any], *names: str) -> None:
    written = {Path(p).name for p in summary["screenshots"]}
    for name in names:
        assert name in written, summary["screenshots"]
        shot = OUTPUT / name
        assert shot.read_bytes()[:8] == PNG_SIGNATURE, f"{shot} is not a PNG"


def copy_to_docs(*names: str) -> None:
    """The README's screenshots, refreshed from this run when asked to."""
    if os.environ.get(TO_DOCS) == "1":
        for name in names:
            shutil.copyfile(OUTPUT / name, DOCS / name)


@pytest.mark.serial
def test_the_example_frontend_pages_through_directors_works_and_themes_offline(
    browser: Browser, live_server: Server
) -> None:
    summary = run_check(browser, live_server, "examples")
    gets = requested_paths(summary, "GET")
    assert "/examples/" in gets
    assert {"/examples/app.js", "/examples/style.css"} <= set(gets)
    # First page, Next, Previous, Next, First, then the error, the failure and the retry.
    assert requested_paths(summary, "POST").count("/graphql") >= 8
    assert_screenshots(summary, "examples.png", "examples-error.png")
    copy_to_docs("examples.png")


@pytest.mark.serial
def test_the_example_frontend_searches_and_shows_a_work_and_a_person_offline(
    browser: Browser, live_server: Server
) -> None:
    summary = run_check(browser, live_server, "pages")
    gets = requested_paths(summary, "GET")
    # Hangul needs the app's own font, and nothing from elsewhere (run_check: no foreign host).
    assert f"{FONTS}/{FONT}" in gets, gets
    details = summary["checks"][0]["details"]
    for seen in ("work_hangul_fonts", "person_hangul_fonts"):
        fonts = details[seen]
        assert fonts and all(font["isCustomFont"] for font in fonts), (seen, fonts)
    # Each newer field the schema has was shown (the pages ask for them only then).
    has = set(details["schema_has"])
    assert ("work.titles" in has) == ("titles" in details["work_features"]), details
    assert ("person.reported" in has) == ("reported" in details["person_features"]), details
    # The README's work page is a series with structure to show (browser.mjs checked each
    # part, event, studio and origin against the API; here, that there was something to check).
    structure = details["structure"]
    if {"work.parts", "work.studios"} <= has:
        series = structure["boy-commander"]
        assert series["parts"] >= 2 and series["studios"] >= 1, structure
        assert structure["the-country-i-saw"]["parts"] >= 2, structure
    if "work.events" in has:
        assert structure["the-schoolgirls-diary"]["events"] >= 2, structure
    if "work.basedOn" in has:
        assert structure["sea-of-blood"]["basedOn"] >= 1, structure
    # Searches, the two records and their newer parts, the person reached by a link.
    assert requested_paths(summary, "POST").count("/graphql") >= 5
    shots = ("examples-search.png", "examples-work.png", "examples-person.png")
    assert_screenshots(summary, *shots)
    copy_to_docs(*shots)


@pytest.mark.serial
def test_graphiql_runs_the_director_example_and_shows_the_docs_offline(
    browser: Browser, live_server: Server
) -> None:
    summary = run_check(browser, live_server, "graphiql")
    gets = requested_paths(summary, "GET")
    assert "/graphql" in gets
    assert any(path.startswith("/graphiql/") for path in gets), gets  # the vendored assets
    assert "/graphql" in requested_paths(summary, "POST")  # the example ran on this server
    assert_screenshots(summary, "graphiql.png", "graphiql-docs.png")
    copy_to_docs("graphiql.png")
