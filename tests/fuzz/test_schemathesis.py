"""Fuzzing /graphql with Schemathesis's GraphQL support, against the real ASGI app.

The schema is the app's own (``gql.schema``'s SDL, ``schemathesis.graphql.from_file``), loaded
when the module is imported so that each root field of ``Query`` is a test of its own (the
``from_fixture`` route that would load it from the app at run time is broken on pytest 9:
``Function._nodeid``); a separate test checks that the app serves that same schema over
introspection (``schemathesis.graphql.from_asgi``). Each root field is tested with positive
cases (valid operations) and negative ones (one schema violation each), sent to the real ASGI
app (``case.call(app=...)``). Every answer is judged twice: by Schemathesis's own checks where
they apply, and by ``tests/support/fuzz/oracle.py``.

Schemathesis's checks: all its defaults but ``positive_data_acceptance``, which expects every
schema-valid operation to succeed, while the API refuses some valid ones on purpose (a negative
page size, ``first`` with ``last``: ``BAD_USER_INPUT``). Its ``not_a_server_error`` treats an
error with a ``path`` whose code it does not know as a server error; a ``filter_failure`` hook
drops exactly those failures whose errors all carry the API's documented client-side codes
(argument values, limits, invalid documents); any other error, and any 5xx, still fails.

Event loops: Schemathesis calls an ASGI app on one event loop of its own, in a thread (an
anyio blocking portal shared by the process), and runs the app's lifespan there; the app owns
its engine, so connections are opened on that loop and disposed by the lifespan's shutdown,
which Schemathesis's pytest plugin runs after each test. The tests are synchronous.

``NKCINEMA_FUZZ_EXAMPLES`` (default 200) divided by five gives the examples per root field.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import re
from typing import Any

import graphql
import pytest
import schemathesis

# Schemathesis's checks import this module lazily, on their first call: deep inside a
# Hypothesis test, where pytest's assertion rewriting (Schemathesis is a pytest plugin) parsed
# its large nested literals near the recursion limit and CPython 3.11.7 raised "SystemError:
# AST constructor recursion depth mismatch" (a CPython bug: a RecursionError reported wrongly)
# in one CI run. Imported here, at collection, it is parsed with a shallow stack.
import schemathesis.specs.openapi.schemas
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from starlette.applications import Starlette

from gql.ids import to_global_id
from gql.schema import schema as strawberry_schema
from seeds import BUNDLED_CATALOG
from settings import Settings
from tests.support.client import make_app
from tests.support.databases import backend_name
from tests.support.fuzz import fuzz_examples
from tests.support.fuzz.oracle import (
    ARGUMENT_CODES,
    AUTH_CODES,
    DOCUMENT_CODES,
    INVALID,
    LIMIT_CODES,
    VALID,
    Oracle,
    Sent,
    known_bugs,
    record,
    report,
    tally,
)
from web.app import GRAPHQL_PATH

SUITE = "schemathesis"
PER_OPERATION = max(1, fuzz_examples() // 5)
CLIENT_CODES = ARGUMENT_CODES | LIMIT_CODES | AUTH_CODES | DOCUMENT_CODES


def _dictionaries() -> dict[str, Any]:
    """Schemathesis configuration: argument values from the bundled catalog (slugs, global IDs,
    names, external identifiers, sensible page sizes and years), drawn for positive cases with
    some probability (otherwise Schemathesis generates its own), so that its operations reach
    records and not only argument errors. Negative cases never use them."""
    catalog = json.loads(BUNDLED_CATALOG.read_text(encoding="utf-8"))
    kinds = {"works": "Work", "people": "Person", "themes": "Theme"}
    slugs = {key: [record["slug"] for record in catalog[key]] for key in kinds}
    ids = [to_global_id(kinds[key], n) for key in kinds for n in range(1, len(catalog[key]) + 1)]
    words = [
        text
        for key in kinds
        for record in catalog[key]
        for field in ("title", "name", "originalTitle", "originalName")
        if isinstance(text := record.get(field), str)
    ]
    external = [e["value"] for key in kinds for r in catalog[key] for e in r.get("externalIds", [])]
    values = {
        "slugs": slugs["works"] + slugs["people"] + slugs["themes"],
        "people": slugs["people"],
        "themes": slugs["themes"],
        "ids": ids,
        "words": words,
        "external": external or ["tt0168937"],
        "pages": [0, 1, 2, 5, 10, 20, 99, 100],
        "years": [1940, 1960, 1971, 1989, 2000, 2030],
    }
    bindings = {
        "slug": "slugs",
        "id": "ids",
        "ids[*]": "ids",
        "value": "external",
        "query": "words",
        "first": "pages",
        "last": "pages",
        "filter.director": "people",
        "filter.directors[*]": "people",
        "filter.theme": "themes",
        "filter.themes[*]": "themes",
        "filter.search": "words",
        "filter.yearFrom": "years",
        "filter.yearTo": "years",
    }
    return {
        "dictionaries": {name: {"values": v} for name, v in values.items()},
        "parameters": {
            f"*.*.{path}": {"dictionary": name, "probability": 0.7}
            for path, name in bindings.items()
        },
    }


schema = schemathesis.graphql.from_file(
    strawberry_schema.as_str(), config=SchemathesisConfig.from_dict(_dictionaries())
)
schema.location = GRAPHQL_PATH  # where the operations are sent (from_asgi sets it the same way)


@schema.hook
def filter_failure(_context: Any, failure: Any, _case: Any, _response: Any) -> bool:
    """Keep a failure unless it is a "GraphQL server error" made only of documented client
    errors (Schemathesis does not know this API's codes)."""
    errors = getattr(failure, "errors", None)
    if type(failure).__name__ != "GraphQLServerError" or not isinstance(errors, list):
        return True
    codes = [(e.get("extensions") or {}).get("code") for e in errors if isinstance(e, dict)]
    return not (codes and len(codes) == len(errors) and all(c in CLIENT_CODES for c in codes))


@pytest.fixture(scope="module")
def graphql_app(catalog_url: str) -> Starlette:
    return make_app(Settings(database_url=catalog_url))


def _content_type(response: Any) -> str:
    value = response.headers.get("content-type") or [""]  # Schemathesis: a list per header
    return value[0] if isinstance(value, list) else str(value)


def _sent(case: Any) -> Sent:
    query = case.body if isinstance(case.body, str) else None
    return Sent(query, raw=json.dumps({"query": query}))


@schema.parametrize()
@settings(
    max_examples=PER_OPERATION,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
def test_schemathesis(case: Any, graphql_app: Starlette, oracle: Oracle) -> None:
    counts = tally(SUITE, backend_name())
    negative = case.meta is not None and case.meta.generation.mode.is_negative
    sent = _sent(case)
    try:
        response = case.call(app=graphql_app)
    except (Exception, asyncio.CancelledError, concurrent.futures.CancelledError) as error:
        # Escaped the app (Schemathesis's ASGI client re-raises it): no answer, or a 500.
        counts.operations += 1
        counts.failures += 1
        raise AssertionError(f"the app raised {error!r} for {sent.describe()}") from error
    text = response.text
    problems = oracle.check(
        sent,
        response.status_code,
        _content_type(response),
        text,
        INVALID if negative else VALID,
    )
    problems, known = known_bugs(sent, problems)
    try:
        case.validate_response(response, excluded_checks=[checks.positive_data_acceptance])
    except FailureGroup as group:
        problems += [
            f"schemathesis: {failure.title}: {failure.message}" for failure in group.exceptions
        ]
    record(counts, text, problems, known)
    assert not problems, report(sent, response.status_code, text, problems)


def test_the_app_serves_the_schema(graphql_app: Starlette) -> None:
    """The schema fuzzed above is the one the app serves (introspection over HTTP)."""
    served = schemathesis.graphql.from_asgi(GRAPHQL_PATH, graphql_app)

    def printed(built: graphql.GraphQLSchema) -> str:
        text = graphql.print_schema(graphql.lexicographic_sort_schema(built))
        # a custom scalar's @specifiedBy URL travels by introspection, not in Strawberry's SDL
        return re.sub(r' @specifiedBy\(url: "[^"]*"\)', "", text)

    served_schema = graphql.build_client_schema(served.raw_schema)
    assert printed(served_schema) == printed(graphql.build_schema(strawberry_schema.as_str()))


def test_schemathesis_sent_enough(request: pytest.FixtureRequest) -> None:
    """Every root field got its examples (a misconfigured run must not pass quietly)."""
    ran = [
        item
        for item in request.session.items
        if item.module is request.module and item.name.startswith("test_schemathesis[")
    ]
    if not ran:
        pytest.skip("the Schemathesis tests were not selected")
    operations = tally(SUITE, backend_name()).operations
    expected = PER_OPERATION * len(ran)
    assert operations >= expected, f"only {operations} operations sent, expected {expected}"
