"""The README's examples are true: each GraphQL block followed by a JSON block is run against
the seeded catalog and must answer exactly that JSON."""

from __future__ import annotations

import json

import pytest

from tests.support.documents import readme_examples
from tests.support.graphql import GraphQL


def test_the_readme_has_examples() -> None:
    assert len(readme_examples()) >= 2


@pytest.mark.parametrize(("query", "answer"), readme_examples())
async def test_readme_example_answers_as_shown(gql: GraphQL, query: str, answer: str) -> None:
    response = await gql.response(query)
    assert response.json() == json.loads(answer)
