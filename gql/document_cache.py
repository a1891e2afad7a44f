"""Parsed and validated documents, kept per process: a frontend sends the same few documents
over and over, and parsing plus validation cost more than executing a small query.

- Parsing: an LRU of documents by (query text, parse options). graphql-core's ``max_tokens``
  is one of the options, so the token limit (``gql.limits``) still applies to every new text;
  a document that does not parse is not kept, and the normal parse reports its error.
- Validation: only *successes* are remembered, by (query text, validation rules). Failures
  are validated again every time, so their messages are built fresh for each request's
  settings (``gql.extensions.ErrorCodes`` rewrites them in place).

The limits on depth, aliases and cost still apply to every request (``gql.limits``, which
keeps what does not change between requests of one text the same way), before and after
validation as before: this extension must come after ``OperationLimits``.

Usage: ``extensions=[..., OperationLimits, DocumentCache, ...]``.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any

from cachetools import LRUCache
from graphql import DocumentNode, GraphQLError, parse
from strawberry.extensions import SchemaExtension

DOCUMENTS = 512  # distinct query texts kept parsed, and kept as validated


@functools.lru_cache(maxsize=DOCUMENTS)
def _parse(query: str, options: tuple[tuple[str, Any], ...]) -> DocumentNode:
    return parse(query, **dict(options))


# (query text, validation rules) that validated without errors
VALIDATED: LRUCache[tuple[str, tuple[Any, ...]], bool] = LRUCache(DOCUMENTS)


class DocumentCache(SchemaExtension):
    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query and context.graphql_document is None:
            options = tuple(sorted(context.parse_options.items()))
            # Not kept when it fails: the normal parse runs and reports the error.
            with contextlib.suppress(GraphQLError):
                context.graphql_document = _parse(context.query, options)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        key = (context.query or "", tuple(context.validation_rules))
        known = bool(context.query) and VALIDATED.get(key, False)
        if known and context.pre_execution_errors is None:
            context.pre_execution_errors = []  # validated before, with the same rules
        yield
        if not known and context.query and context.pre_execution_errors == []:
            VALIDATED[key] = True
