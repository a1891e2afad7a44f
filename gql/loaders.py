"""Per-request DataLoaders: one statement per batch, one result per key, in key order.

All loaders share the request's ``RequestDatabase`` (``db.sessions``): one session whose
statements run one at a time (an ``AsyncSession`` allows no concurrency, while several
loaders may dispatch in the same tick).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from db import external_ids as x
from db import facet_counts, facets, similar, structure
from db import models as m
from db import queries as q
from db import statements as st
from db.aliases import SqlExpression
from db.enums import CreditRole
from db.facets import KindsAndDecades
from db.pagination import Page, PageRequest, count_per_parent, fetch_pages
from db.sessions import RequestDatabase

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True)
class NestedCount:
    """Which nested works list to count; equal ones batch into one statement."""

    parent: q.Parent | None  # None: the root works list (its one "parent" is 0)
    role: CreditRole | None
    filter: q.WorkFilter | None


@dataclass(frozen=True)
class NestedWorks(NestedCount):
    """Which page of a nested works list; loads with equal args batch into one statement."""

    orders: tuple[q.WorkOrder, ...]
    request: PageRequest


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


class Loader(DataLoader[K, V]):
    """A DataLoader whose waiters cannot cancel each other's result.

    ``DataLoader.load`` hands every caller of a key the same future, and cancelling a task
    cancels the future it awaits. GraphQL execution cancels sibling resolvers when a
    non-null field fails (graphql-core's ``gather_with_cancel``): a cancelled resolver then
    cancelled the shared future, and every other field awaiting that key (another alias of
    the same work, say) raised ``CancelledError`` out of the request. Here each caller awaits
    its own shield of the shared future.
    """

    def load(self, key: K) -> Awaitable[V]:
        return asyncio.shield(super().load(key))


class _Lazy(Generic[K, V]):
    """A loader of ``Loaders``, made the first time a request uses it and kept on the
    instance from then on (a non-data descriptor: the instance's attribute shadows it).
    A request uses a handful of the loaders; making all of them for each was measurable."""

    def __init__(self, make: Callable[[Loaders], Loader[K, V]]) -> None:
        self.make = make
        self.name = ""

    def __set_name__(self, owner: type[Loaders], name: str) -> None:
        self.name = name

    @overload
    def __get__(self, loaders: None, owner: type[Loaders]) -> _Lazy[K, V]: ...

    @overload
    def __get__(self, loaders: Loaders, owner: type[Loaders]) -> Loader[K, V]: ...

    def __get__(self, loaders: Loaders | None, owner: type[Loaders]) -> Loader[K, V] | _Lazy[K, V]:
        if loaders is None:
            return self
        loader = loaders.__dict__[self.name] = self.make(loaders)
        return loader


def _rows(batch: Callable[[AsyncSession, Sequence[K]], Awaitable[list[V]]]) -> _Lazy[K, V]:
    """A loader of ``batch``'s rows: one statement per batch of keys."""
    return _Lazy(lambda loaders: loaders._loader(batch))


class Loaders:
    def __init__(self, database: RequestDatabase) -> None:
        self.database = database

    work = _rows(q.works_by_id)
    work_by_slug = _rows(q.works_by_slug)
    person = _rows(q.people_by_id)
    person_by_slug = _rows(q.people_by_slug)
    theme = _rows(q.themes_by_id)
    theme_by_slug = _rows(q.themes_by_slug)
    source = _rows(q.sources_by_id)
    alternative_titles = _rows(q.alternative_titles)
    alternative_names = _rows(q.alternative_names)
    work_credits = _rows(q.credits_of_works)
    person_credits = _rows(q.credits_of_people)
    credit_sources = _rows(q.sources_of_credits)
    work_themes = _rows(q.themes_of_works)
    work_relations = _rows(q.relations_of_works)
    work_sources = _rows(q.sources_of_works)
    person_sources = _rows(q.sources_of_people)
    work_disputes = _rows(q.disputes_of_works)
    work_attributions = _rows(q.attributions_of_works)
    person_attributions = _rows(q.attributions_of_people)
    # a work's structure and studios (issue #22)
    studio = _rows(structure.studios_by_id)
    studio_by_slug = _rows(structure.studios_by_slug)
    studio_sources = _rows(structure.sources_of_studios)
    work_forms = _rows(structure.forms_of_works)
    work_audience = _rows(structure.audiences_of_works)
    work_parts = _rows(structure.parts_of_works)
    work_events = _rows(structure.events_of_works)
    work_origins = _rows(structure.origins_of_works)
    work_studios = _rows(structure.studios_of_works)
    work_statement_sources = _rows(structure.statement_sources_of_works)
    work_titles = _rows(st.titles_of_works)
    person_names = _rows(st.names_of_people)
    dispute_people = _rows(st.people_of_disputes)
    person_reported = _rows(st.reported_of_people)
    relation_sources = _rows(st.sources_of_relations)
    nested_works: _Lazy[tuple[int, NestedWorks], Page] = _Lazy(
        lambda loaders: loaders._batched(loaders._nested_works)
    )
    nested_works_count: _Lazy[tuple[int, NestedCount], int] = _Lazy(
        lambda loaders: loaders._batched(loaders._nested_works_count)
    )
    kinds_and_decades: _Lazy[tuple[int, NestedCount], KindsAndDecades] = _Lazy(
        lambda loaders: loaders._batched(loaders._kinds_and_decades)
    )
    top_themes: _Lazy[tuple[int, tuple[NestedCount, int]], list[tuple[m.Theme, int]]] = _Lazy(
        lambda loaders: loaders._batched(loaders._top_themes)
    )
    work_external_ids = _rows(x.external_ids_of_works)
    person_external_ids = _rows(x.external_ids_of_people)
    work_by_external_id = _rows(x.works_by_external_id)
    person_by_external_id = _rows(x.people_by_external_id)
    similar_works: _Lazy[tuple[int, PageRequest], Page] = _Lazy(
        lambda loaders: loaders._batched(similar.similar_pages)
    )
    similar_works_count = _rows(similar.similar_counts)

    def _query(self, fn: Callable[..., Awaitable[V]]) -> Callable[..., Awaitable[V]]:
        """``fn(session, *args)`` as ``run(*args)`` on the request's database."""

        async def run(*args: Any) -> V:
            return await self.database.run(fn, *args)

        return run

    def _batched(self, fn: Callable[..., Awaitable[list[V]]]) -> Loader[Any, V]:
        """A loader of keys ``(parent, args)``: ``fn(session, args, parents)`` runs once per
        distinct args (``_Batched``)."""
        return Loader(load_fn=_Batched(self._query(fn)))

    def _loader(
        self, batch: Callable[[AsyncSession, Sequence[K]], Awaitable[list[V]]]
    ) -> Loader[K, V]:
        async def load(keys: Sequence[K]) -> list[V]:
            return await self.database.run(batch, list(keys))

        return Loader(load_fn=load)

    @staticmethod
    def _nested_query(args: NestedCount) -> tuple[Select[Any], SqlExpression]:
        assert args.parent is not None  # nested lists always hang from a parent
        return q.nested_works_query(args.parent, args.role, args.filter)

    @classmethod
    async def _nested_works(
        cls, session: AsyncSession, args: NestedWorks, parents: list[int]
    ) -> list[Page]:
        query, parent = cls._nested_query(args)
        ordering = q.work_ordering(args.orders)
        return await fetch_pages(session, query, parent, parents, ordering, args.request)

    @classmethod
    async def _nested_works_count(
        cls, session: AsyncSession, args: NestedCount, parents: list[int]
    ) -> list[int]:
        query, parent = cls._nested_query(args)
        return await count_per_parent(session, query, parent, parents)

    @classmethod
    def _works_of(cls, args: NestedCount) -> tuple[Select[Any], SqlExpression | None]:
        if args.parent is None:
            return q.works_query(args.filter), None
        return cls._nested_query(args)

    @classmethod
    async def _kinds_and_decades(
        cls, session: AsyncSession, args: NestedCount, parents: list[int]
    ) -> list[KindsAndDecades]:
        query, parent = cls._works_of(args)
        if parent is None:
            kept = await facet_counts.kinds_and_decades(session, args.filter)
            if kept is not None:
                return [kept]
            return await facets.kinds_and_decades(session, query)
        return await facets.kinds_and_decades(session, query, parent, parents)

    @classmethod
    async def _top_themes(
        cls, session: AsyncSession, args: tuple[NestedCount, int], parents: list[int]
    ) -> list[list[tuple[m.Theme, int]]]:
        works, limit = args
        query, parent = cls._works_of(works)
        if parent is None:
            kept = await facet_counts.top_themes(session, works.filter, limit)
            if kept is not None:
                return [kept]
            return await facets.top_themes(session, query, limit)
        return await facets.top_themes(session, query, limit, parent, parents)

    async def run(self, fn: Callable[..., Awaitable[V]], *args: Any) -> V:
        """Run a one-off query function (root lists, search) on the request's session."""
        return await self.database.run(fn, *args)


__all__ = ["Loaders", "NestedCount", "NestedWorks", "m"]
