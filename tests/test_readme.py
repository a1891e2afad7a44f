"""The README's examples are true: each GraphQL block followed by a JSON block is run against
the seeded catalog and must answer exactly that JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.support.graphql import GraphQL

README = Path(__file__).resolve().parents[1] / "README.md"
EXAMPLE = re.compile(r"```graphql\n(?P<query>.*?)```\s*```json\n(?P<answer>.*?)```", re.S)


def _examples() -> list[tuple[str, str]]:
    return [(m["query"], m["answer"]) for m in EXAMPLE.finditer(README.read_text("utf-8"))]


def test_the_readme_has_examples() -> None:
    assert len(_examples()) >= 2


@pytest.mark.parametrize(("query", "answer"), _examples())
async def test_readme_example_answers_as_shown(gql: GraphQL, query: str, answer: str) -> None:
    response = await gql.response(query)
    assert response.json() == json.loads(answer)
