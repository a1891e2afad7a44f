"""Fixtures and hooks of the fuzz tests: the oracle, and the counts printed at the end of the run.

``NKCINEMA_FUZZ_EXAMPLES`` sets the examples per hypothesis-graphql test (default 200; five
tests) and, divided by five, per root field for Schemathesis (every Query and Mutation field,
anonymous); the authenticated fuzzers (``test_authenticated.py``) scale with it too. The
defaults send about 3,500 operations per backend; under CI a run of all the fuzzers that sent
fewer than 2,000 fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import build_schema

from gql.schema import schema
from tests.support.databases import IN_CI, backend_name
from tests.support.fuzz.oracle import TALLIES, Oracle
from tests.support.fuzz.writes import COVERAGE

CI_MINIMUM_OPERATIONS = 2000
ALL_SUITES = frozenset(
    {"hypothesis-graphql", "schemathesis", "hypothesis-graphql (admin)", "schemathesis (admin)"}
)
REPO = Path(__file__).resolve().parents[2]


def _secrets(database_url: str) -> tuple[str, ...]:
    """Strings no response may contain: the database URL and its parts, the checkout's path."""
    _, _, rest = database_url.partition("://")
    secrets = [database_url, str(REPO)]
    if database_url.startswith("sqlite"):
        secrets.append(rest.lstrip("/").rsplit("/", 1)[0])  # the database file's directory
    else:
        secrets.append(rest.rsplit("/", 1)[-1])  # the database's name
    return tuple(s for s in secrets if len(s) >= 6)


@pytest.fixture(scope="session")
def oracle(catalog_url: str) -> Oracle:
    return Oracle(build_schema(schema.as_str()), secrets=_secrets(catalog_url))


def _summary() -> list[str]:
    lines = []
    tallies = {key: counts for key, counts in TALLIES.items() if counts.operations}
    for backend in sorted({b for _, b in tallies}):
        parts, total, failures = [], 0, 0
        for (suite, b), counts in sorted(tallies.items()):
            if b != backend:
                continue
            total += counts.operations
            failures += counts.failures
            part = (
                f"{suite} {counts.operations} operations ({counts.answered} with data), "
                f"{counts.failures} failures"
            )
            if counts.known_bugs:
                part += f" ({counts.known_bugs} answers tolerated as known bugs)"
            parts.append(part)
        lines.append(
            f"fuzz: {'; '.join(parts)}; total {total} operations, {failures} failures "
            f"(backend {backend})"
        )
        for (suite, b), counts in sorted(tallies.items()):
            if b == backend and counts.codes:
                codes = ", ".join(f"{c} {n}" for c, n in sorted(counts.codes.items()))
                lines.append(f"fuzz: {suite} error codes: {codes}")
    for backend, coverage in sorted(COVERAGE.items()):
        fields = ", ".join(
            f"{name} {coverage.sent[name]}/{coverage.applied[name]}"
            for name in sorted(coverage.sent)
        )
        lines.append(f"fuzz: mutations sent with the token / applied ({backend}): {fields}")
        if coverage.user_errors:
            codes = ", ".join(f"{c} {n}" for c, n in sorted(coverage.user_errors.items()))
            lines.append(f"fuzz: mutation userErrors ({backend}): {codes}")
    return lines


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = _summary()
    if lines:
        terminalreporter.section("fuzz")
        for line in lines:
            terminalreporter.write_line(line)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI a run of all the fuzz suites must send at least CI_MINIMUM_OPERATIONS
    operations to the backend."""
    ran = {suite: c for (suite, b), c in TALLIES.items() if b == backend_name()}
    total = sum(c.operations for c in ran.values())
    every = set(ran) >= ALL_SUITES
    if IN_CI and every and total < CI_MINIMUM_OPERATIONS and session.exitstatus == 0:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_line(
                f"fuzz: only {total} operations sent; CI needs at least {CI_MINIMUM_OPERATIONS}",
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
