"""Prepared requests: requests the compiled path (``gql.execution``) answered once, kept with
their plan and cost so that the next identical request runs the plan directly
(``web.fast_lane``): no parsing, validation, limits, costing or planning again.

Keyed like the response cache (``web.response_cache.request_key``: a digest of the document,
the variables and the operation name), so an entry stands for one exact request that has
already passed every limit under this process's settings, and planning (which coerces the
variables and checks every argument as the resolvers would) has already succeeded for it.
The plan holds no data, only what to read: unlike a cached response it never goes stale,
and the catalog version is read again for each request that runs it.
"""

from __future__ import annotations

from dataclasses import dataclass

from cachetools import LRUCache

from gql.compiled.plan import Plan


@dataclass(frozen=True)
class Prepared:
    plan: Plan
    cost: int  # reported in extensions.cost, as gql.limits computed it
    # passed the gate for expensive operations (gql.admission): passes it again each time
    expensive: bool = False


class PreparedRequests:
    """A bounded LRU of prepared requests by request key."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: LRUCache[str, Prepared] | None = (
            LRUCache(max_entries) if max_entries > 0 else None
        )
        self.hits = 0  # plans run again (gets that found one)

    @property
    def enabled(self) -> bool:
        return self._entries is not None

    def __contains__(self, key: str) -> bool:
        return self._entries is not None and key in self._entries

    def get(self, key: str) -> Prepared | None:
        if self._entries is None:
            return None
        try:
            entry = self._entries[key]
        except KeyError:
            return None
        self.hits += 1
        return entry

    def put(self, key: str, prepared: Prepared) -> None:
        if self._entries is not None:
            self._entries[key] = prepared

    def __len__(self) -> int:
        return 0 if self._entries is None else len(self._entries)
