"""Fuzzing the mutations with an admin token (and the same writes without one), against the
real ASGI app over a catalog of its own, then checking that nothing was half-written.

The catalog: a database of the backend under test, migrated and seeded with the bundled
catalog, with one admin token; nothing else reads or writes it. Four suites write to it:

- the mutations without a token (inputs that would apply with one): each must be refused
  ``UNAUTHENTICATED`` and write nothing;
- ``test_admin_mutations``, per Mutation field: inputs generated from the catalog's state read
  just before each example (``writes.valid_case``: records that exist, at their current
  version), most of which apply, a quarter made hostile (``writes.hostile_case``: NUL, lone
  surrogates, zero-width or over-long text, 40,000-item lists, integers past 32 bits ...),
  sometimes two mutations in one operation, sometimes as literals instead of variables;
- ``test_admin_hostile_sweep``, per Mutation field: each input value of one valid input
  replaced in turn by each kind of hostile value (``writes.hostile_sweep``), so that every
  run, whatever Hypothesis draws, shows every class;
- hypothesis-graphql's mutations (valid, then with one schema violation each), with the
  token, argument values drawn from the catalog's slugs and keys;
- Schemathesis on every Mutation field, with the token (``schemathesis (admin)``).

Every answer is judged by ``tests/support/fuzz/oracle.py`` (5xx, an error without a code,
``INTERNAL_SERVER_ERROR``, a leak, data off the schema; with the token also any
``UNAUTHENTICATED``/``FORBIDDEN``).
Failures are collected, not raised inside Hypothesis (the catalog changes under every example,
so replaying or shrinking one proves nothing): each test fails at its end listing every
distinct failure with one request that shows it.

Then ``test_every_mutation_was_sent_and_applied`` holds the coverage (each Mutation field sent
with the token at least ``MIN_SENT`` times, applied at least ``MIN_APPLIED`` times), and
``test_nothing_was_half_written`` the database: the audit trail is exactly the writes the
responses say applied, each record's audit entries chain to what is stored, derived columns
agree, nothing is orphaned, positions are 0 … n-1 (``tests/support/fuzz/writes.py``), and the
catalog exports, seeds into an empty database and exports again byte for byte.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import random
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import hypothesis_graphql as hg
import pytest
import schemathesis
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import checks
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from cli import _run, migrate
from db.engine import engine_from_settings, session_factory
from db.interchange.export import export_catalog
from db.tokens import create_token
from gql.schema import schema as strawberry_schema
from seeds import BUNDLED_CATALOG, seed
from settings import Settings
from tests.support.client import asgi_client, make_app
from tests.support.databases import Databases, backend_name
from tests.support.fuzz import fuzz_examples
from tests.support.fuzz.oracle import (
    ARGUMENT_CODES,
    DOCUMENT_CODES,
    INVALID,
    LIMIT_CODES,
    VALID,
    Expect,
    Oracle,
    Sent,
    known_bugs,
    record,
    tally,
)
from tests.support.fuzz.writes import (
    COVERAGE,
    MUTATION_FIELDS,
    SCHEMA,
    Baseline,
    Case,
    Coverage,
    State,
    audit_problems,
    baseline,
    document,
    fresh,
    hostile_case,
    hostile_sweep,
    literal_safe,
    mutation_fields,
    observe,
    read_state,
    row_problems,
    valid_case,
)
from web.app import GRAPHQL_PATH

ADMIN_HG = "hypothesis-graphql (admin)"
ADMIN_ST = "schemathesis (admin)"
EXAMPLES = fuzz_examples()
PER_FIELD = max(1, EXAMPLES // 6)  # state-aware examples per Mutation field
SCHEMATHESIS_PER_FIELD = max(1, EXAMPLES // 10)
MIN_SENT = min(20, PER_FIELD)
MIN_APPLIED = min(3, PER_FIELD)
BODY_BYTES = Settings().max_body_bytes
DOCUMENT_BYTES = Settings().max_document_bytes
TOKEN_NAME = "fuzz-admin"
SETTINGS = settings(
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no replay, no shrinking: the catalog moves on
    suppress_health_check=list(HealthCheck),
)
ADMIN = replace(VALID, authenticated=True)
ADMIN_INVALID = replace(INVALID, authenticated=True)


# -- the catalog and the clients -----------------------------------------------------------------


@dataclass
class Failure:
    fields: list[str]  # the Mutation fields the request ran
    problems: list[str]
    request: str
    status: int
    response: str


@dataclass
class Writable:
    """The fuzzers' own catalog: its URL, the admin token, and what the fuzzing saw."""

    url: str
    token: str
    base: Baseline
    coverage: Coverage = field(default_factory=Coverage)
    failures: dict[str, list[Failure]] = field(default_factory=dict)


@pytest.fixture(scope="module")
def writable(databases: Databases) -> Writable:
    url = databases.create_seeded()

    async def prepare(engine: AsyncEngine) -> tuple[str, Baseline]:
        async with session_factory(engine)() as session:
            token = await create_token(session, TOKEN_NAME, "admin")
            await session.commit()
            return token, await baseline(session)

    token, base = _run(prepare, url)
    writable = Writable(url, token, base)
    COVERAGE[backend_name()] = writable.coverage
    return writable


def _names(query: str | None) -> list[str]:
    return [name for _, name, _node in mutation_fields(query)]


def _fail(writable: Writable, suite: str, failure: Failure) -> None:
    writable.failures.setdefault(suite, []).append(failure)


_VARYING = re.compile(r"'[^']*'|\\\"[^\\\"]*\\\"|\d+")


def _classes(failures: list[Failure]) -> dict[str, list[Failure]]:
    """Failures grouped by what went wrong (values and numbers taken out)."""
    grouped: dict[str, list[Failure]] = {}
    for failure in failures:
        problems = sorted({_VARYING.sub("…", p)[:300] for p in failure.problems})
        key = f"{'+'.join(failure.fields) or '-'}: {' | '.join(problems)}"
        grouped.setdefault(key, []).append(failure)
    return grouped


def assert_no_failures(writable: Writable, suite: str) -> None:
    failures = writable.failures.pop(suite, [])
    if not failures:
        return
    lines = [f"{len(failures)} answers broke the oracle in {suite}; distinct failures:"]
    for key, group in _classes(failures).items():
        example = group[0]
        lines += [
            f"\n* {len(group)}x {key}",
            f"  request: {example.request[:1500]}",
            f"  response {example.status}: {example.response[:1500]}",
        ]
    pytest.fail("\n".join(lines), pytrace=False)


@dataclass
class Writer:
    """The app on a private event loop (an anyio portal), with and without the token."""

    portal: BlockingPortal
    engine: AsyncEngine
    admin: httpx.AsyncClient
    anonymous: httpx.AsyncClient
    oracle: Oracle
    writable: Writable

    def state(self) -> State:
        async def read() -> State:
            async with session_factory(self.engine)() as session:
                return await read_state(session)

        return self.portal.call(read)

    def send(
        self,
        suite: str,
        query: str,
        variables: Any,
        expect: Expect,
        *,
        authenticated: bool = True,
        label: str = "",
    ) -> Any:
        """POST one operation; judge and count its answer; its JSON body (or None)."""
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        raw = json.dumps(payload, separators=(",", ":"))
        statuses = set(expect.statuses)
        if len(query.encode(errors="surrogatepass")) > DOCUMENT_BYTES:
            statuses.add(413)
        if len(raw.encode(errors="surrogatepass")) > BODY_BYTES:  # refused before GraphQL
            statuses.add(413)
            expect = replace(expect, valid=False)
        expect = replace(expect, statuses=frozenset(statuses))
        client = self.admin if authenticated else self.anonymous
        counts = tally(suite, backend_name())
        sent = Sent(query, variables, raw=raw[:20_000])
        post = partial(
            client.post,
            GRAPHQL_PATH,
            content=raw.encode(),
            headers={"content-type": "application/json"},
        )
        try:
            response = self.portal.call(post)
        except (asyncio.CancelledError, concurrent.futures.CancelledError):
            counts.operations += 1
            counts.failures += 1
            self.writable.coverage.unknown += 1
            _fail(
                self.writable,
                suite,
                Failure(_names(query), ["the app raised CancelledError"], raw, 0, ""),
            )
            return None
        try:
            body = response.json()
        except ValueError:
            body = None
        problems = self.oracle.check(
            sent,
            response.status_code,
            response.headers.get("content-type", ""),
            response.text,
            expect,
        )
        problems += observe(
            self.writable.coverage,
            query,
            None,
            body,
            authenticated=authenticated,
            variables=variables,
        )
        problems, known = known_bugs(sent, problems)
        record(counts, response.text, problems, known)
        if problems:
            _fail(
                self.writable,
                suite,
                Failure(
                    _names(query) + ([label] if label else []),
                    problems,
                    sent.describe(),
                    response.status_code,
                    response.text,
                ),
            )
        return body


@pytest.fixture(scope="module")
def writer(writable: Writable, oracle: Oracle) -> Iterator[Writer]:
    configuration = Settings(database_url=writable.url)
    with start_blocking_portal() as portal:
        engine = portal.call(engine_from_settings, configuration)
        app = make_app(configuration, engine=engine)
        admin = asgi_client(
            app,
            raise_app_exceptions=False,
            headers={"authorization": f"Bearer {writable.token}"},
        )
        anonymous = asgi_client(app, raise_app_exceptions=False)
        try:
            yield Writer(portal, engine, admin, anonymous, oracle, writable)
        finally:
            portal.call(admin.aclose)
            portal.call(anonymous.aclose)
            portal.call(engine.dispose)


# -- the state-aware fuzzers -------------------------------------------------------------------


SEEDS = st.integers(min_value=0, max_value=2**64 - 1)


def _draw_cases(data: st.DataObject, name: str, state: State) -> tuple[list[Case], bool]:
    """One or two mutations for an example (the first of field ``name``), and whether to
    send them as literals (never a hostile one: its values go as variables)."""
    seed = data.draw(SEEDS, label="seed")
    chooser = random.Random(seed)
    case = valid_case(name, state, seed)
    if chooser.randrange(4) == 0:
        case = hostile_case(case, seed)
    cases = [case]
    if chooser.randrange(7) == 0:
        cases.append(valid_case(chooser.choice(MUTATION_FIELDS), state, seed + 1))
    literal = not case.hostile and literal_safe(cases) and chooser.randrange(3) == 0
    return cases, literal


def test_mutations_without_a_token_write_nothing(writer: Writer) -> None:
    """Inputs that would apply with a token: every mutation refused UNAUTHENTICATED (the
    audit trail stays empty: ``test_nothing_was_half_written``)."""
    suite = "hypothesis-graphql (anonymous writes)"

    @settings(SETTINGS, max_examples=max(len(MUTATION_FIELDS), EXAMPLES // 4))
    @given(st.data())
    def example(data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(MUTATION_FIELDS), label="field")
        cases, literal = _draw_cases(data, name, writer.state())
        query, variables = document(cases, literal=literal)
        writer.send(suite, query, variables, VALID, authenticated=False)

    example()
    assert_no_failures(writer.writable, suite)


def test_two_mutations_in_one_operation_both_apply(writer: Writer) -> None:
    """Each mutation of an operation commits on its own; the second one's token check must
    not fault on the token the first one's commit expired (it did: INTERNAL_SERVER_ERROR
    from SQLAlchemy's MissingGreenlet, the first write committed, ``data`` null)."""
    keys = [fresh("source"), fresh("source")]
    fields = " ".join(
        f'{alias}: createSource(input: {{key: "{key}", title: "T"}}) '
        "{ key userErrors { code } }"
        for alias, key in zip("ab", keys, strict=True)
    )
    body = writer.send(ADMIN_HG, f"mutation {{ {fields} }}", None, ADMIN)
    assert_no_failures(writer.writable, ADMIN_HG)
    assert isinstance(body, dict) and not body.get("errors"), body
    assert body["data"] == {
        "a": {"key": keys[0], "userErrors": []},
        "b": {"key": keys[1], "userErrors": []},
    }
    # and the second payload must not read what the first one's loaders hold (the rollback
    # opening the second write expired it: INTERNAL_SERVER_ERROR at b.work.directors)
    work = next(w for w in writer.state().works if w.credits)
    fields = " ".join(
        f"{alias}: updateWork(input: {{slug: {json.dumps(work.slug)}, version: {version}, "
        f"year: {year}}}) {{ work {{ year directors {{ slug }} }} userErrors {{ code }} }}"
        for alias, version, year in (("a", work.version, 1969), ("b", work.version + 1, 1970))
    )
    body = writer.send(ADMIN_HG, f"mutation {{ {fields} }}", None, ADMIN)
    assert_no_failures(writer.writable, ADMIN_HG)
    assert isinstance(body, dict) and not body.get("errors"), body
    assert body["data"]["b"]["work"]["year"] == 1970, body


def _data(writer: Writer, query: str) -> Any:
    """Send with the token (judged and counted like the fuzzers' requests); the data, which
    must come without errors."""
    body = writer.send(ADMIN_HG, query, None, ADMIN)
    assert_no_failures(writer.writable, ADMIN_HG)
    assert isinstance(body, dict) and not body.get("errors"), body
    return body["data"]


def _work_state(writer: Writer, slug: str) -> Any:
    return next(w for w in writer.state().works if w.slug == slug)


def test_removals_keep_the_positions_clients_see(writer: Writer) -> None:
    """removeDispute(position:) is the index among the work's disputes and Credit.position
    the billing position from 0: after a removal, or new directors, the rest move up (they
    kept their old positions: the second removeDispute(position: 0) was NOT_FOUND)."""
    work = _work_state(writer, "the-country-i-saw")
    assert work.disputes >= 2, work
    for version in (work.version, work.version + 1):
        data = _data(
            writer,
            f'mutation {{ removeDispute(input: {{slug: "{work.slug}", version: {version}, '
            "position: 0}) { work { disputes { field } } userErrors { code } } }",
        )
        assert data["removeDispute"]["userErrors"] == [], data
    assert len(data["removeDispute"]["work"]["disputes"]) == work.disputes - 2

    work = _work_state(writer, "the-flower-girl")
    assert len(work.credits) >= 2, work
    person, role = work.credits[0]
    data = _data(
        writer,
        f'mutation {{ removeCredit(input: {{slug: "{work.slug}", version: {work.version}, '
        f'person: "{person}", role: {role}}}) {{ work {{ credits {{ person {{ slug }} '
        "position } } userErrors { code } } }",
    )
    credits = data["removeCredit"]["work"]["credits"]
    assert [c["position"] for c in credits] == list(range(len(work.credits) - 1)), data
    assert [c["person"]["slug"] for c in credits] == [p for p, _ in work.credits[1:]], data

    # replacing the directors of a work that has other credits too
    work = _work_state(writer, "the-respected-mother")
    _data(
        writer,
        f'mutation {{ addCredit(input: {{slug: "{work.slug}", version: {work.version}, '
        'person: "pak-hak", role: WRITER}) { userErrors { code } } }',
    )
    data = _data(
        writer,
        f'mutation {{ updateWork(input: {{slug: "{work.slug}", version: {work.version + 1}, '
        'directors: ["kim-ki-nam"]}) { work { credits { person { slug } role position } } '
        "userErrors { code } } }",
    )
    assert data["updateWork"]["work"]["credits"] == [
        {"person": {"slug": "ko-yong-hui"}, "role": "SUBJECT", "position": 0},  # a reference's
        {"person": {"slug": "pak-hak"}, "role": "WRITER", "position": 1},
        {"person": {"slug": "kim-ki-nam"}, "role": "DIRECTOR", "position": 2},
    ], data


def test_an_update_keeps_alternative_names_searchable(writer: Writer) -> None:
    """A work's alternative titles and a person's alternative names stay in the search
    document when a curator changes the record (they were dropped by the first update)."""
    work = _work_state(writer, "the-flower-girl")
    _data(
        writer,
        f'mutation {{ updateWork(input: {{slug: "{work.slug}", version: {work.version}, '
        'synopsis: "A girl sells flowers."}) { userErrors { code } } }',
    )
    found = _data(writer, '{ works(filter: {search: "Kotpanun Chonio"}) { nodes { slug } } }')
    assert {"slug": work.slug} in found["works"]["nodes"], found
    person = next(p for p in writer.state().people if p.slug == "choe-ik-kyu")
    _data(
        writer,
        f'mutation {{ updatePerson(input: {{slug: "{person.slug}", version: {person.version}, '
        'biography: "A director."}) { userErrors { code } } }',
    )
    found = _data(writer, '{ people(filter: {search: "Choi Ik Kyu"}) { nodes { slug } } }')
    assert {"slug": person.slug} in found["people"]["nodes"], found


@pytest.mark.parametrize("name", MUTATION_FIELDS)
def test_admin_mutations(writer: Writer, name: str) -> None:
    """Mostly-valid inputs for one Mutation field from the catalog's current state, a
    quarter of them hostile, with the admin token: no answer breaks the oracle."""

    @settings(SETTINGS, max_examples=PER_FIELD)
    @given(st.data())
    def example(data: st.DataObject) -> None:
        cases, literal = _draw_cases(data, name, writer.state())
        for case in cases:
            if case.hostile:
                writer.writable.coverage.hostile[f"{case.field} {case.hostile}"] += 1
        query, variables = document(cases, literal=literal)
        writer.send(ADMIN_HG, query, variables, ADMIN)

    example()
    assert_no_failures(writer.writable, ADMIN_HG)


@pytest.mark.parametrize("name", MUTATION_FIELDS)
def test_admin_hostile_sweep(writer: Writer, name: str) -> None:
    """Every input value of a valid ``name`` mutation replaced, one at a time, by each of
    the sweep's hostile values (NUL, a lone surrogate, zero-width only, folding that grows,
    a slug past its column, over-long text, integers past 32 bits, a 40,000-item list):
    every answer coded, nothing half-written."""
    state = writer.state()
    case = valid_case(name, state, seed=len(name))
    for hostile in hostile_sweep(case):
        writer.writable.coverage.hostile[f"{name} {hostile.hostile}"] += 1
        query, variables = document([hostile], literal=False)
        writer.send(ADMIN_HG, query, variables, ADMIN, label=hostile.hostile or "")
    assert_no_failures(writer.writable, ADMIN_HG)


def _scalars(state: State) -> dict[str, st.SearchStrategy[Any]]:
    """hypothesis-graphql's String and Int values: mostly the catalog's slugs, keys and
    versions, and some hostile text (what a GraphQL literal can hold)."""
    slugs = [w.slug for w in state.works] + [p.slug for p in state.people]
    slugs += [t.slug for t in state.themes] + state.sources
    hostile = ["", " ", "\x00", "\u200b", "a" * 201, "ß" * 300, "x" * 30_000, "%_", "🎬"]
    strings = st.one_of(st.sampled_from(slugs), st.sampled_from(hostile), st.text(max_size=20))
    ints = st.one_of(
        st.integers(-1, 5),
        st.sampled_from([1971, 2100, 1887, 2**31 - 1, -(2**31)]),
        st.integers(-(2**31), 2**31 - 1),
    )
    return {"String": strings.map(hg.nodes.String), "Int": ints.map(hg.nodes.Int)}


def test_admin_generated_mutations(writer: Writer) -> None:
    """hypothesis-graphql's valid mutations (any fields, any arguments), with the token."""
    strategy = hg.from_schema(
        SCHEMA, fields=MUTATION_FIELDS, custom_scalars=_scalars(writer.state())
    )

    @settings(SETTINGS, max_examples=EXAMPLES)
    @given(strategy)
    def example(query: str) -> None:
        writer.send(ADMIN_HG, query, None, ADMIN)

    example()
    assert_no_failures(writer.writable, ADMIN_HG)


def test_admin_invalid_mutations(writer: Writer) -> None:
    """hypothesis-graphql's mutations with one schema violation each, with the token:
    refused with coded errors."""
    strategy = hg.from_schema(
        SCHEMA,
        fields=MUTATION_FIELDS,
        custom_scalars=_scalars(writer.state()),
        mode=hg.Mode.NEGATIVE,
    )

    @settings(SETTINGS, max_examples=max(1, EXAMPLES // 2))
    @given(strategy)
    def example(query: str) -> None:
        writer.send(ADMIN_HG, query, None, ADMIN_INVALID)

    example()
    assert_no_failures(writer.writable, ADMIN_HG)


# -- Schemathesis with the token -------------------------------------------------------------

CLIENT_CODES = ARGUMENT_CODES | LIMIT_CODES | DOCUMENT_CODES


def _dictionaries() -> dict[str, Any]:
    """Mutation inputs from the bundled catalog (the fuzzers' catalog starts as it): slugs,
    source keys and the versions records start at, drawn with some probability."""
    catalog = json.loads(BUNDLED_CATALOG.read_text(encoding="utf-8"))
    works = [r["slug"] for r in catalog["works"]]
    people = [r["slug"] for r in catalog["people"]]
    themes = [r["slug"] for r in catalog["themes"]]
    sources = [r["key"] for r in catalog["sources"]]
    values = {
        "slugs": works + people + themes,
        "works": works,
        "people": people,
        "themes": themes,
        "sources": sources,
        "versions": [1, 1, 1, 2, 3],
        "positions": [0, 1],
        "years": [1888, 1971, 2100],
    }
    bindings = {
        "input.slug": "slugs",
        "input.version": "versions",
        "input.person": "people",
        "input.theme": "themes",
        "input.work": "works",
        "input.source": "sources",
        "input.directors[*]": "people",
        "input.themes[*]": "themes",
        "input.order[*].person": "people",
        "input.position": "positions",
        "input.year": "years",
    }
    return {
        "dictionaries": {name: {"values": v} for name, v in values.items()},
        "parameters": {
            f"*.*.{path}": {"dictionary": name, "probability": 0.7}
            for path, name in bindings.items()
        },
    }


admin_schema = schemathesis.graphql.from_file(
    strawberry_schema.as_str(), config=SchemathesisConfig.from_dict(_dictionaries())
).include(name_regex=r"^Mutation\.")
admin_schema.location = GRAPHQL_PATH


@admin_schema.hook
def filter_failure(_context: Any, failure: Any, _case: Any, _response: Any) -> bool:
    """Keep a failure unless it is a "GraphQL server error" made only of documented client
    errors (Schemathesis does not know this API's codes)."""
    errors = getattr(failure, "errors", None)
    if type(failure).__name__ != "GraphQLServerError" or not isinstance(errors, list):
        return True
    codes = [(e.get("extensions") or {}).get("code") for e in errors if isinstance(e, dict)]
    return not (codes and len(codes) == len(errors) and all(c in CLIENT_CODES for c in codes))


@pytest.fixture(scope="module")
def admin_app(writable: Writable) -> Starlette:
    return make_app(Settings(database_url=writable.url))


def _content_type(response: Any) -> str:
    value = response.headers.get("content-type") or [""]
    return value[0] if isinstance(value, list) else str(value)


@admin_schema.parametrize()
@settings(SETTINGS, max_examples=SCHEMATHESIS_PER_FIELD)
def test_schemathesis_admin(
    case: Any, admin_app: Starlette, writable: Writable, oracle: Oracle
) -> None:
    """Schemathesis's mutations with the admin token; failures are collected and reported by
    ``test_schemathesis_admin_broke_nothing``."""
    counts = tally(ADMIN_ST, backend_name())
    negative = case.meta is not None and case.meta.generation.mode.is_negative
    query = case.body if isinstance(case.body, str) else None
    sent = Sent(query, raw=json.dumps({"query": query}))
    try:
        response = case.call(app=admin_app, headers={"authorization": f"Bearer {writable.token}"})
    except (Exception, asyncio.CancelledError, concurrent.futures.CancelledError) as error:
        counts.operations += 1
        counts.failures += 1
        writable.coverage.unknown += 1
        _fail(
            writable,
            ADMIN_ST,
            Failure(_names(query), [f"the app raised {error!r}"], sent.describe(), 0, ""),
        )
        return
    text = response.text
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    problems = oracle.check(
        sent,
        response.status_code,
        _content_type(response),
        text,
        ADMIN_INVALID if negative else ADMIN,
    )
    problems += observe(writable.coverage, query, None, body, authenticated=True)
    problems, known = known_bugs(sent, problems)
    try:
        case.validate_response(response, excluded_checks=[checks.positive_data_acceptance])
    except FailureGroup as group:
        problems += [f"schemathesis: {f.title}: {f.message}" for f in group.exceptions]
    record(counts, text, problems, known)
    if problems:
        _fail(
            writable,
            ADMIN_ST,
            Failure(_names(query), problems, sent.describe(), response.status_code, text),
        )


def test_schemathesis_admin_broke_nothing(writable: Writable) -> None:
    assert_no_failures(writable, ADMIN_ST)


# -- coverage and integrity --------------------------------------------------------------------


def _ran(request: pytest.FixtureRequest, prefix: str) -> bool:
    return any(
        item.module is request.module and item.name.startswith(prefix)
        for item in request.session.items
    )


def test_every_mutation_was_sent_and_applied(
    writable: Writable, request: pytest.FixtureRequest
) -> None:
    """Each Mutation field was sent with the admin token at least MIN_SENT times and
    applied at least MIN_APPLIED times (a fuzzer that never gets a write through proves
    little about writes)."""
    if not _ran(request, "test_admin_mutations["):
        pytest.skip("the admin fuzzers were not selected")
    coverage = writable.coverage
    short = {
        name: (coverage.sent[name], coverage.applied[name])
        for name in MUTATION_FIELDS
        if coverage.sent[name] < MIN_SENT or coverage.applied[name] < MIN_APPLIED
    }
    assert not short, (
        f"Mutation fields sent fewer than {MIN_SENT} times or applied fewer than "
        f"{MIN_APPLIED} times (sent, applied): {short}"
    )


def test_nothing_was_half_written(writable: Writable, databases: Databases, tmp_path: Path) -> None:
    """After all the fuzzing: the audit trail is exactly the applied writes and chains to
    the stored records; derived columns, references and positions hold; and the catalog
    exports, seeds into an empty database and exports again unchanged."""
    coverage = writable.coverage

    async def check(engine: AsyncEngine) -> tuple[list[str], str]:
        async with session_factory(engine)() as session:
            problems = await audit_problems(
                session, writable.base, coverage.applied, coverage.unknown
            )
            problems += await row_problems(session)
            return problems, await export_catalog(session)

    problems, exported = _run(check, writable.url)
    exported_file = tmp_path / "exported.json"
    exported_file.write_text(exported, encoding="utf-8")
    copy = databases.create()
    migrate(copy)
    try:
        _run(lambda engine: seed(session_factory(engine), [exported_file]), copy)
    except Exception as error:
        detail = getattr(error, "problems", None) or [repr(error)]
        problems.append(
            "the exported catalog does not seed into an empty database: "
            + "; ".join(map(str, detail))[:3000]
        )
    else:

        async def export_again(engine: AsyncEngine) -> str:
            async with session_factory(engine)() as session:
                return await export_catalog(session)

        if _run(export_again, copy) != exported:
            problems.append("export -> seed -> export is not byte-identical")
    assert not problems, "the database after the fuzzing:\n- " + "\n- ".join(problems)


def test_the_integrity_checks_can_fail(databases: Databases) -> None:
    """On a seeded catalog of its own: the checks pass, then each kind of damage a
    half-written write could leave is reported (or the check above proves nothing)."""
    url = databases.create_seeded()

    async def check(engine: AsyncEngine) -> tuple[list[str], list[str], list[str]]:
        async with session_factory(engine)() as session:
            base = await baseline(session)
            clean = await audit_problems(session, base, Counter(), 0)
            clean += await row_problems(session)
            for statement in (
                "UPDATE works SET title = 'Changed', version = 2 WHERE slug = 'pulgasari'",
                "UPDATE people SET search_text = '' WHERE slug = 'pak-hak'",
                "UPDATE disputes SET position = position + 5 WHERE work_id = "
                "(SELECT id FROM works WHERE slug = 'sea-of-blood')",
                # SQLite stores what does not fit the column; PostgreSQL refuses it
                *(
                    [
                        "UPDATE themes SET description = 'x', slug = '" + "x" * 201 + "' "
                        "WHERE slug = 'youth'"
                    ]
                    if backend_name() == "sqlite"
                    else []
                ),
            ):
                await session.execute(text(statement))
            audit = await audit_problems(session, base, Counter({"updateWork": 1}), 0)
            rows = await row_problems(session)
            await session.rollback()
            return clean, audit, rows

    clean, audit, rows = _run(check, url)
    assert clean == []
    assert any("does not match the writes" in p for p in audit), audit
    assert any("('work', 'pulgasari'): changed or created without" in p for p in audit), audit
    assert any("work 'pulgasari': sort key" in p for p in rows), rows
    assert any("person 'pak-hak': search document" in p for p in rows), rows
    assert any(p.startswith("disputes: positions") for p in rows), rows
    if backend_name() == "sqlite":
        assert any(p.startswith("themes.slug: 1 values over 200") for p in rows), rows
