"""A cache of whole responses to repeated read operations, per process.

Keyed by a digest of the document, the variables and the operation name; each entry holds the
catalog version (``db.catalog_version``) it was computed at and the response body. It is
served only while the database still says that version: a write anywhere bumps it, so no
worker on any host serves an answer older than the catalog it reads. Only query operations
that passed every limit and answered without errors get in (so a hit never needs the limits
checked again); requests that carry credentials are never cached.

Filled by the full path (``web.caching.Repeats`` marks what may be kept, ``web.view`` keeps
it) and by the fast lane; read by the fast lane (``web.fast_lane``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from cachetools import LRUCache

CATALOG_VERSION = "nkcinema.catalog_version"  # scope key: the version, once read this request


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


def hash_only(parameters: Mapping[str, Any]) -> str | None:
    """The ``sha256Hash`` (lowercase) of a request that names its document by hash alone
    (``extensions.persistedQuery``, version 1, and no ``query``) and is otherwise well formed
    (as ``is_well_formed``; over GET, ``variables`` and ``extensions`` are JSON text); else
    None. Such a request's key is ``request_key(parameters, persisted=<hash>)``."""
    if parameters.get("query") not in (None, ""):
        return None
    extensions = parameters.get("extensions")
    variables = parameters.get("variables")
    try:
        if isinstance(extensions, str):
            extensions = json.loads(extensions)
        if isinstance(variables, str) and variables:
            variables = json.loads(variables)
    except (ValueError, RecursionError):
        return None
    if not isinstance(extensions, dict) or not isinstance(variables, (dict, type(None), str)):
        return None
    if not isinstance(parameters.get("operationName"), (str, type(None))):
        return None
    persisted = extensions.get("persistedQuery")
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        return None
    sha256 = persisted.get("sha256Hash")
    if not isinstance(sha256, str) or len(sha256) != 64:
        return None
    sha256 = sha256.lower()
    return sha256 if all(c in "0123456789abcdef" for c in sha256) else None


def request_key(parameters: Mapping[str, Any], *, persisted: str | None = None) -> str:
    """The cache key of a request: a digest of its query, variables and operation name; for a
    request naming its document by hash (``hash_only``), of that hash instead of the query
    (never the key of a request that sends the document: a query is never an object)."""
    variables = parameters.get("variables")
    if isinstance(variables, str):  # GET: JSON in the query string
        try:
            variables = json.loads(variables)
        except ValueError:
            variables = {"__unparsable__": variables}
    document = {"sha256": persisted} if persisted is not None else parameters.get("query")
    canonical = json.dumps(
        [document, variables or {}, parameters.get("operationName")],
        sort_keys=True,
        separators=(",", ":"),  # ASCII: escapes even text UTF-8 cannot carry (lone surrogates)
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ResponseCache:
    """A bounded LRU of (catalog version, response body) by request key, bounded by count
    and by bytes."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries = _Answers(max_entries, max_bytes)
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.max_entries > 0 and self.max_bytes > 0

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def get(self, key: str, version: int) -> bytes | None:
        """The body kept for ``key`` if it was computed at ``version``."""
        try:
            entry = self._entries[key]
        except KeyError:
            entry = None
        if entry is None or entry[0] != version:
            self.misses += 1
            return None
        self.hits += 1
        return entry[1]

    def put(self, key: str, version: int, body: bytes) -> None:
        if not self.enabled or len(body) > self.max_bytes // 4:  # no one answer fills it
            return
        self._entries[key] = (version, body)

    def __len__(self) -> int:
        return len(self._entries)


class _Answers(LRUCache[str, tuple[int, bytes]]):
    """An LRU sized by its bodies' bytes that also holds at most ``max_entries`` of them."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        super().__init__(max_bytes, getsizeof=lambda entry: len(entry[1]))
        self.max_entries = max_entries

    def __setitem__(self, key: str, value: tuple[int, bytes]) -> None:
        super().__setitem__(key, value)
        while len(self) > self.max_entries:
            self.popitem()
