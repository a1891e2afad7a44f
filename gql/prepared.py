"""Prepared requests: requests the compiled path (``gql.compiled``) answered once, kept with
their plan and cost so that the next identical request runs the plan directly
(``gql.fast_lane``): no parsing, validation, limits, costing or planning again.

Keyed like the response cache (``gql.response_cache.request_key``: a digest of the document,
the variables and the operation name), so an entry stands for one exact request that has
already passed every limit under this process's settings, and planning (which coerces the
variables and checks every argument as the resolvers would) has already succeeded for it.
The plan holds no data, only what to read: unlike a cached response it never goes stale,
and the catalog version is read again for each request that runs it.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the plan's modules reach the context, which holds these
    from gql.compiled.plan import Plan


@dataclass(frozen=True)
class Prepared:
    plan: Plan
    cost: int  # reported in extensions.cost, as gql.limits computed it


class PreparedRequests:
    """A bounded LRU of prepared requests by request key."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, Prepared] = OrderedDict()
        self.hits = 0  # plans run again (gets that found one)

    @property
    def enabled(self) -> bool:
        return self.max_entries > 0

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def get(self, key: str) -> Prepared | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
            self.hits += 1
        return entry

    def put(self, key: str, prepared: Prepared) -> None:
        if not self.enabled:
            return
        self._entries[key] = prepared
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
