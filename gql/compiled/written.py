"""Search statements on PostgreSQL with their key's values written into the text.

A search statement is built and compiled once per shape of key, its values parameters
(``db.search.KeyShape``), and run on PostgreSQL with them written into its text: bound, its
plan would be PostgreSQL's choice between planning it at each execution for the values
(15-35 ms of planning at 100,000 works: four ranks and the typo candidates a kind, each
``LIKE`` priced against 300-entry statistics) and a generic plan for any key, which walks a
whole index or table for each rank (0.5-2 s for W6's terms). Written in, each key is planned
for what it matches, once per connection while the driver keeps the prepared statement
(bench/README.md, "Search statements per shape of key"). Its values are a search key's
letters and digits with ``%``, ``|`` or ``"`` around them (``db.search.key_parameters``),
and the statement's own integers; anything that could end a literal is refused.
"""

from __future__ import annotations

import re
from typing import Any

# asyncpg's placeholders as SQLAlchemy compiles them (with the type it casts strings to)
_PLACEHOLDER = re.compile(r"\$(\d+)(?:::VARCHAR)?")

Pieces = tuple[str | int, ...]  # text, the index of a parameter, text, …


def pieces(sql: str) -> Pieces:
    """A compiled statement's text cut at its placeholders (``$1`` …)."""
    parts = _PLACEHOLDER.split(sql)
    return tuple(int(part) - 1 if i % 2 else part for i, part in enumerate(parts))


def written(cut: Pieces, arguments: list[Any]) -> str:
    """The statement's text with its arguments (in placeholder order) written in."""
    out: list[str] = []
    for i, piece in enumerate(cut):
        if i % 2 == 0:
            out.append(str(piece))
            continue
        value = arguments[int(piece)]
        if type(value) is int:  # the statement's own numbers (the catalog's row id)
            out.append(str(value))
        elif isinstance(value, str) and "'" not in value and "\\" not in value:
            out.append(f"'{value}'")
        else:
            raise ValueError(f"not a search value: {value!r}")
    return "".join(out)
