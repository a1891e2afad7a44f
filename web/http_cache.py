"""HTTP caching of GET queries: entity tags from the catalog version and the request.

A GET query's answer depends only on the catalog (its version, ``db.catalog_version``) and on
the request's ``query``, ``variables`` and ``operationName``; the tag is made of exactly these,
so a client (or a cache in between) that sends ``If-None-Match`` with a current tag gets
``304 Not Modified`` without the query being run, and every change to the catalog changes
every tag.
"""

from __future__ import annotations


def entity_tag(version: int, request_key: str) -> str:
    """A strong tag, quoted as HTTP wants it: ``"<version>-<request digest>"``; the request
    key is ``web.response_cache.request_key`` of the request's parameters."""
    return f'"{version}-{request_key[:32]}"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``tag`` (weak comparison, RFC 9110 13.1.2)."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*":
            return True
        if candidate.removeprefix("W/") == tag:
            return True
    return False


def cache_control(max_age: int) -> str:
    """For answers that carry a tag: caches may keep them, revalidating after ``max_age``."""
    return f"public, max-age={max_age}, must-revalidate"


UNCACHEABLE = "no-store"  # errors, and answers to requests that carry credentials


def vary(headers: list[tuple[bytes, bytes]], name: bytes) -> None:
    """Add ``name`` to the ``Vary`` of an answer's headers (in place; one ``Vary`` header,
    each name once)."""
    if b"vary" not in dict(headers):  # most answers: nothing to merge
        headers.append((b"vary", name))
        return
    found = [i for i, (k, _) in enumerate(headers) if k == b"vary"]
    named = b", ".join(headers[i][1] for i in found)
    if name.lower() in [n.strip().lower() for n in named.split(b",")]:
        return
    for i in reversed(found):
        del headers[i]
    headers.append((b"vary", named + b", " + name if named else name))
