"""An exception's chain of causes, as the data layer's callers read it.

SQLAlchemy wraps a driver's exception (``DBAPIError.orig``), and the driver's own may be
raised from another (asyncpg's from an ``OSError``): what an error means is often in one of
the exceptions behind it, so whoever classifies database errors walks the whole chain.
"""

from __future__ import annotations

from collections.abc import Iterator


def causes(error: BaseException, *, implicit: bool = False) -> Iterator[BaseException]:
    """``error``, then what it wraps or was raised from, and so on: a wrapper's ``orig``,
    otherwise ``__cause__`` (with ``implicit``, else the exception being handled when it was
    raised, ``__context__``). Each exception once, so a cycle ends the walk."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        if isinstance(orig, BaseException):
            current = orig
        elif implicit:
            current = current.__cause__ or current.__context__
        else:
            current = current.__cause__
