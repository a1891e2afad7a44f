"""A cache of whole responses to repeated read operations, per process.

Keyed by a digest of the document, the variables and the operation name; each entry holds the
catalog version (``db.catalog_version``) it was computed at and the response body. It is
served only while the database still says that version: a write anywhere bumps it, so no
worker on any host serves an answer older than the catalog it reads. Only query operations
that passed every limit and answered without errors get in (so a hit never needs the limits
checked again); requests that carry credentials are never cached.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from graphql import GraphQLSyntaxError, OperationDefinitionNode, OperationType, parse


@functools.lru_cache(maxsize=1024)
def is_query_document(document: str, operation_name: str | None) -> bool:
    """Whether the operation ``document`` runs (by ``operation_name``) is a query.

    Parsed once per distinct document (an LRU of the last 1024); unparsable documents are not
    queries (they answer errors, which are not cached anyway). Limits apply to parsing here
    too: only documents that passed the size checks reach this."""
    try:
        parsed = parse(document, no_location=True, max_tokens=100_000)
    except GraphQLSyntaxError:
        return False
    operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    return len(operations) == 1 and operations[0].operation == OperationType.QUERY


def is_well_formed(parameters: Any) -> bool:
    """Whether a POST body is a request the app would run (a JSON object with a string
    ``query``; ``variables`` and ``extensions`` objects or null; ``operationName`` a string or
    null). Only these get a key: the key leaves ``extensions`` out and reads missing, null and
    empty ``variables`` alike, so a malformed request must never share one with a good one
    (it would be answered from the cache instead of refused)."""
    return (
        isinstance(parameters, dict)
        and isinstance(parameters.get("query"), str)
        and isinstance(parameters.get("variables"), (dict, type(None)))
        and isinstance(parameters.get("extensions"), (dict, type(None)))
        and isinstance(parameters.get("operationName"), (str, type(None)))
    )


def request_key(parameters: Mapping[str, Any]) -> str:
    """The cache key of a request: a digest of its query, variables and operation name."""
    variables = parameters.get("variables")
    if isinstance(variables, str):  # GET: JSON in the query string
        try:
            variables = json.loads(variables)
        except ValueError:
            variables = {"__unparsable__": variables}
    canonical = json.dumps(
        [parameters.get("query"), variables or {}, parameters.get("operationName")],
        sort_keys=True,
        separators=(",", ":"),  # ASCII: escapes even text UTF-8 cannot carry (lone surrogates)
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ResponseCache:
    """A bounded LRU of (catalog version, response body) by request key (count and bytes)."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, tuple[int, bytes]] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.max_entries > 0 and self.max_bytes > 0

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def get(self, key: str, version: int) -> bytes | None:
        """The body kept for ``key`` if it was computed at ``version``."""
        entry = self._entries.get(key)
        if entry is None or entry[0] != version:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry[1]

    def put(self, key: str, version: int, body: bytes) -> None:
        if not self.enabled or len(body) > self.max_bytes // 4:  # no one answer fills it
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= len(old[1])
        self._entries[key] = (version, body)
        self._bytes += len(body)
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            _, (_, evicted) = self._entries.popitem(last=False)
            self._bytes -= len(evicted)

    def __len__(self) -> int:
        return len(self._entries)
