"""The documents the project's own pages send, as `nkcinema documents add --examples` reads
them: every GraphiQL example tab and every document of the example frontend, exactly as the
browser builds it, valid against the schema; trusted, they all run with trusted documents on."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from graphql import OperationDefinitionNode, parse, validate
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.persisted_documents import trust_documents
from gql.schema import schema
from settings import Settings
from tests.support.client import app_client
from tests.support.documents import OPERATIONS, example_operations
from web.app import EXAMPLES
from web.example_documents import ExampleError, example_documents, frontend_documents

APP_JS = EXAMPLES / "app.js"
# Variables for the frontend's documents, by name (each takes those it declares).
VARIABLES = {"slug": "sea-of-blood", "first": 5, "after": None, "query": "blood"}


def _operation(document: str) -> OperationDefinitionNode:
    [operation] = [d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode)]
    return operation


def test_every_document_of_the_frontend_is_read_as_the_browser_builds_it() -> None:
    documents = frontend_documents(APP_JS)
    source = APP_JS.read_text("utf-8")
    # one per operation the script declares, in order
    declared = re.findall(r"^\s*(?:query:\s*`)?\s*query (\w+)", source, re.M)
    names = [_operation(d).name.value for d in documents]  # type: ignore[union-attr]
    assert names == declared and len(names) == len(set(names)) >= 10
    for document in documents:
        assert "${" not in document
        assert validate(schema._schema, parse(document)) == [], document
    directors = documents[names.index("Directors")]
    assert "works(role: DIRECTOR, first: 5)" in directors  # a number it interpolates
    titles = documents[names.index("WorkTitles")]
    assert titles.endswith("\nfragment Src on Source { key title url }")  # a string


def test_example_documents_are_graphiqls_tabs_then_the_frontends() -> None:
    found = example_documents(EXAMPLES)
    tabs = sorted(OPERATIONS.glob("*.graphql"))
    assert [d for _, d in found[: len(tabs)]] == [t.read_text("utf-8") for t in tabs]
    assert [d for _, d in found[len(tabs) :]] == frontend_documents(APP_JS)


def test_what_it_cannot_read_is_an_error(tmp_path: Path) -> None:
    script = tmp_path / "app.js"
    script.write_text('const query = `query Q { work(slug: "${slug}") { title } }`;\n')
    with pytest.raises(ExampleError, match="slug"):
        frontend_documents(script)


async def test_a_trusted_deployment_answers_its_own_pages(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], session: AsyncSession
) -> None:
    documents = [document for _, document in example_documents(EXAMPLES)]
    await trust_documents(session, documents)
    await session.commit()
    trusted = dataclasses.replace(settings, trusted_documents=True)
    async with app_client(trusted, sessions=sessions) as client:
        tab_variables = [variables for _, variables in example_operations()]
        for index, document in enumerate(documents):
            if index < len(tab_variables):
                variables = tab_variables[index]
            else:
                declared = _operation(document).variable_definitions or ()
                variables = {
                    v.variable.name.value: VARIABLES[v.variable.name.value] for v in declared
                }
            response = await client.post(
                "/graphql", json={"query": document, "variables": variables}
            )
            body = response.json()
            assert "errors" not in body, (document, body)
            assert body["data"]
        refused = await client.post("/graphql", json={"query": "{ __typename }"})
        assert refused.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_REQUIRED"
