"""gql.loaders: each of a request's loaders is made on its first use, then kept for the
request (so that its batches and its cache are the request's), and never shared between
requests."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models as m
from db.sessions import RequestDatabase
from gql.loaders import Loader, Loaders


async def test_a_loader_is_made_on_first_use_and_kept(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    database = RequestDatabase(sessions())
    try:
        loaders = Loaders(database)
        assert "work" not in vars(loaders)  # nothing made yet
        work = loaders.work
        assert isinstance(work, Loader)
        assert loaders.work is work  # the request's own, with its cache
        assert set(vars(loaders)) == {"database", "work"}
        first = await work.load(1)
        assert isinstance(first, m.Work) and first.id == 1
        assert await work.load(1) is first
        other = Loaders(database)
        assert other.work is not work  # another request's loaders are its own
        assert other.nested_works is other.nested_works
        assert other.nested_works is not loaders.nested_works
    finally:
        await database.close()
