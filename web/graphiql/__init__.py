"""GraphiQL, served by the app itself: no CDN, so it works with no internet.

The page (``page.html``) loads GraphiQL 3, React 18 and the explorer plugin from
``assets/``, files vendored unchanged from their npm packages (``vendor.py`` fetches them
again; ``assets/VERSIONS`` lists versions and checksums). Its tabs open on the catalog's
example operations, which the app reads from ``examples/operations`` (``load_examples``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

ASSETS = Path(__file__).resolve().parent / "assets"
_PAGE = Path(__file__).resolve().parent / "page.html"


@dataclass(frozen=True)
class Example:
    """An example operation: its GraphQL document and its variables (as JSON text)."""

    name: str
    query: str
    variables: str


def load_examples(directory: Path) -> list[Example]:
    """``NN-name.graphql`` files (in name order), each with an optional ``NN-name.json``."""
    examples = []
    for document in sorted(directory.glob("*.graphql")):
        variables = document.with_suffix(".json")
        examples.append(
            Example(
                name=document.stem,
                query=document.read_text("utf-8"),
                variables=variables.read_text("utf-8").strip() if variables.exists() else "",
            )
        )
    return examples


def _script_json(value: object) -> str:
    """JSON safe inside a <script> element: no ``</script>``, no HTML comment openers."""
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_page(examples: list[Example], *, endpoint: str, assets: str) -> str:
    """The GraphiQL page for ``endpoint`` with ``examples`` as its default tabs; ``assets`` is
    the URL path the ``assets/`` directory is served at."""
    config = {
        "endpoint": endpoint,
        "tabs": [{"query": e.query, "variables": e.variables} for e in examples],
    }
    return (
        _PAGE.read_text("utf-8")
        .replace("{{assets}}", assets.rstrip("/"))
        .replace("{{config}}", _script_json(config))
    )
