"""The GraphQL the project shows its users, read from where they read it: the README's examples
(a GraphQL block followed by the JSON it answers) and the operations in ``examples/operations``
(GraphiQL's tabs), each with the variables beside it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
OPERATIONS = ROOT / "examples" / "operations"

_README_EXAMPLE = re.compile(r"```graphql\n(?P<query>.*?)```\s*```json\n(?P<answer>.*?)```", re.S)


def readme_examples() -> list[tuple[str, str]]:
    """Every README example as (query, the JSON text it answers)."""
    return [(m["query"], m["answer"]) for m in _README_EXAMPLE.finditer(README.read_text("utf-8"))]


def example_operations() -> list[tuple[str, Any]]:
    """Every operation in examples/operations as (document, variables or None), in file order."""
    operations = []
    for path in sorted(OPERATIONS.glob("*.graphql")):
        variables_path = path.with_suffix(".json")
        variables = (
            json.loads(variables_path.read_text("utf-8")) if variables_path.exists() else None
        )
        operations.append((path.read_text("utf-8"), variables))
    return operations
