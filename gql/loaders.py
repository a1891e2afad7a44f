"""Per-request DataLoaders: one statement per batch, one result per key, in key order.

All loaders share the request's session; a lock serializes their statements, since an
``AsyncSession`` runs one at a time while several loaders may dispatch in the same tick.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from db import models as m
from db import queries as q
from db.enums import CreditRole
from db.pagination import Page, PageRequest, count_per_parent, fetch_pages

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True)
class NestedWorks:
    """What a nested works list asks for; loads with equal args batch into one statement."""

    role: CreditRole | None
    filter: q.WorkFilter | None
    orders: tuple[q.WorkOrder, ...]
    request: PageRequest


@dataclass(frozen=True)
class NestedCount:
    role: CreditRole | None
    filter: q.WorkFilter | None


class _Batched(Generic[K, V]):
    """Groups keys ``(parent, args)`` by args and runs one batch per distinct args."""

    def __init__(self, run: Callable[[Any, list[Any]], Awaitable[list[V]]]) -> None:
        self.run = run

    async def __call__(self, keys: Sequence[tuple[Any, Any]]) -> list[V]:
        by_args: dict[Any, list[Any]] = {}
        for parent, args in keys:
            by_args.setdefault(args, []).append(parent)
        results: dict[tuple[Any, Any], V] = {}
        for args, parents in by_args.items():
            unique = list(dict.fromkeys(parents))
            for parent, value in zip(unique, await self.run(args, unique), strict=True):
                results[(parent, args)] = value
        return [results[key] for key in keys]


class Loaders:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.lock = asyncio.Lock()
        L = self._loader
        self.work = L(q.works_by_id)
        self.work_by_slug = L(q.works_by_slug)
        self.person = L(q.people_by_id)
        self.person_by_slug = L(q.people_by_slug)
        self.theme = L(q.themes_by_id)
        self.theme_by_slug = L(q.themes_by_slug)
        self.source = L(q.sources_by_id)
        self.alternative_titles = L(q.alternative_titles)
        self.alternative_names = L(q.alternative_names)
        self.work_credits = L(q.credits_of_works)
        self.person_credits = L(q.credits_of_people)
        self.credit_sources = L(q.sources_of_credits)
        self.work_themes = L(q.themes_of_works)
        self.work_relations = L(q.relations_of_works)
        self.work_sources = L(q.sources_of_works)
        self.person_sources = L(q.sources_of_people)
        self.work_disputes = L(q.disputes_of_works)
        self.work_attributions = L(q.attributions_of_works)
        self.person_attributions = L(q.attributions_of_people)
        self.person_works: DataLoader[tuple[int, NestedWorks], Page] = DataLoader(
            load_fn=_Batched(self._locked(self._person_works))
        )
        self.person_works_count: DataLoader[tuple[int, NestedCount], int] = DataLoader(
            load_fn=_Batched(self._locked(self._person_works_count))
        )
        self.theme_works: DataLoader[tuple[int, NestedWorks], Page] = DataLoader(
            load_fn=_Batched(self._locked(self._theme_works))
        )
        self.theme_works_count: DataLoader[tuple[int, NestedCount], int] = DataLoader(
            load_fn=_Batched(self._locked(self._theme_works_count))
        )

    def _locked(self, fn: Callable[..., Awaitable[V]]) -> Callable[..., Awaitable[V]]:
        async def run(*args: Any) -> V:
            async with self.lock:
                return await fn(*args)

        return run

    def _loader(
        self, batch: Callable[[AsyncSession, Sequence[K]], Awaitable[list[V]]]
    ) -> DataLoader[K, V]:
        async def load(keys: Sequence[K]) -> list[V]:
            async with self.lock:
                return await batch(self.session, list(keys))

        return DataLoader(load_fn=load)

    async def _person_works(self, args: NestedWorks, parents: list[int]) -> list[Page]:
        query, parent = q.person_works_query(args.role, args.filter)
        return await fetch_pages(
            self.session, query, parent, parents, q.work_ordering(args.orders), args.request
        )

    async def _person_works_count(self, args: NestedCount, parents: list[int]) -> list[int]:
        query, parent = q.person_works_query(args.role, args.filter)
        return await count_per_parent(self.session, query, parent, parents)

    async def _theme_works(self, args: NestedWorks, parents: list[int]) -> list[Page]:
        query, parent = q.theme_works_query(args.filter)
        return await fetch_pages(
            self.session, query, parent, parents, q.work_ordering(args.orders), args.request
        )

    async def _theme_works_count(self, args: NestedCount, parents: list[int]) -> list[int]:
        query, parent = q.theme_works_query(args.filter)
        return await count_per_parent(self.session, query, parent, parents)

    async def run(self, fn: Callable[..., Awaitable[V]], *args: Any) -> V:
        """Run a one-off query function (root lists, search) on the shared session."""
        async with self.lock:
            return await fn(self.session, *args)


__all__ = ["Loaders", "NestedCount", "NestedWorks", "m"]
