"""The fuzzers' helpers (tests/fuzz, and the differential test in tests/gql): the oracle every
response is judged by, the writes with an admin token and the state they must leave, the values
operations are generated from, and how many examples a run generates.

``NKCINEMA_FUZZ_EXAMPLES`` sets the examples per hypothesis-graphql test (default 200)."""

from __future__ import annotations

import os

import pytest

DEFAULT_EXAMPLES = 200


def fuzz_examples() -> int:
    raw = os.environ.get("NKCINEMA_FUZZ_EXAMPLES", "").strip()
    try:
        value = int(raw) if raw else DEFAULT_EXAMPLES
    except ValueError:
        raise pytest.UsageError(f"NKCINEMA_FUZZ_EXAMPLES must be an integer, got {raw!r}") from None
    if value < 1:
        raise pytest.UsageError(f"NKCINEMA_FUZZ_EXAMPLES must be at least 1, got {value}")
    return value
