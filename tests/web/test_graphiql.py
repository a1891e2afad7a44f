"""GraphiQL is served by the app itself: the page, its vendored assets and its example tabs.

(The browser test, tests/e2e/test_browser.py, proves it runs with no network; these are the
HTTP-level facts behind it.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from settings import Settings
from tests.support.client import app_client
from tests.support.graphql import GraphQL
from web.app import EXAMPLES
from web.graphiql import ASSETS, load_examples, render_page, vendor

PAGE_HEADERS = {"Accept": "text/html"}


async def _page(client: httpx.AsyncClient) -> str:
    response = await client.get("/graphql", headers=PAGE_HEADERS)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    return response.text


async def test_the_page_loads_only_assets_the_app_serves(client: httpx.AsyncClient) -> None:
    page = await _page(client)
    addresses = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert addresses, page
    for address in addresses:
        if address.startswith("data:"):
            continue
        assert address.startswith("/graphiql/"), address  # no CDN, no other host
        asset = await client.get(address)
        assert asset.status_code == 200, address
        assert asset.content == (ASSETS / address.removeprefix("/graphiql/")).read_bytes()


async def test_no_vendored_asset_refers_to_another_host_for_code() -> None:
    for asset in sorted(ASSETS.glob("*.*")):
        text = asset.read_text("utf-8")
        assert "sourceMappingURL" not in text, asset  # no fetch of maps the app does not serve
        for pattern in ("unpkg.com", "cdn.jsdelivr", "fonts.googleapis", "@import url(http"):
            assert pattern not in text, (asset, pattern)


def _config(page: str) -> dict[str, object]:
    found = re.search(r'<script id="nkcinema-config" type="application/json">(.*?)</script>', page)
    assert found, page
    config: dict[str, object] = json.loads(found[1])
    return config


async def test_the_example_operations_are_the_default_tabs(client: httpx.AsyncClient) -> None:
    config = _config(await _page(client))
    examples = load_examples(EXAMPLES / "operations")
    assert [t["query"] for t in config["tabs"]] == [e.query for e in examples]  # type: ignore[attr-defined]
    assert "DirectorWorksThemes" in examples[0].query  # the first tab: director -> works -> themes
    assert config["endpoint"] == "/graphql"


@pytest.mark.parametrize("example", load_examples(EXAMPLES / "operations"), ids=lambda e: e.name)
async def test_every_example_operation_runs(gql: GraphQL, example: object) -> None:
    query, variables = example.query, json.loads(example.variables or "{}")  # type: ignore[attr-defined]
    data = await gql(query, variables)
    assert all(value is not None for value in data.values()), data


async def test_the_node_example_finds_a_work(gql: GraphQL) -> None:
    [example] = [e for e in load_examples(EXAMPLES / "operations") if "node" in e.name]
    data = await gql(example.query, json.loads(example.variables))
    assert data["node"]["__typename"] == "Work"


def test_the_config_cannot_close_its_script_element(tmp_path: Path) -> None:
    query = '{ work(slug: "</script><script>alert(1)</script>") { title } }'
    (tmp_path / "01-x.graphql").write_text(query, "utf-8")
    page = render_page(load_examples(tmp_path), endpoint="/graphql", assets="/graphiql")
    assert "alert(1)</script>" not in page
    assert _config(page)["tabs"] == [{"query": query, "variables": ""}]


@pytest.mark.parametrize("examples", [True, False])
async def test_graphiql_and_the_examples_can_be_switched_off(
    catalog_url: str, sessions: async_sessionmaker[AsyncSession], examples: bool
) -> None:
    settings = Settings(database_url=catalog_url, graphiql=False, examples=examples)
    async with app_client(settings, sessions=sessions) as client:
        page = await client.get("/graphql", headers=PAGE_HEADERS)
        assert "nkcinema-config" not in page.text
        assert (await client.get("/graphiql/graphiql.min.js")).status_code == 404
        assert ((await client.get("/examples/")).status_code == 200) is examples
        answer = await client.post("/graphql", json={"query": "{ __typename }"})
        assert answer.json()["data"] == {"__typename": "Query"}


def test_the_vendored_assets_are_the_files_their_packages_ship() -> None:
    """assets/VERSIONS (written by `python -m web.graphiql.vendor`) names each file's package
    and checksum: a vendored file edited by hand, or added without the script, fails here."""
    listed = {}
    for line in (ASSETS / "VERSIONS").read_text("utf-8").splitlines():
        name, package, _inside, digest = line.split()
        listed[name] = digest
        assert vendor.sha256(ASSETS / name) == digest, (name, package)
    ours = {"nkcinema-graphiql.js"}
    shipped = {p.name for p in ASSETS.glob("*.js")} | {p.name for p in ASSETS.glob("*.css")}
    assert shipped - ours == set(listed)
