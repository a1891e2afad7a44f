"""Traces (tracing.py), from the real app over HTTP into the SDK's in-memory exporter: a
span per request, per operation and per SQL statement, parented in that order, on the
resolver path, the compiled path and the fast lane; with no endpoint, nothing installed;
with one, spans leave over OTLP/HTTP."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

import tracing
from settings import Settings
from tests.support.client import app_client, make_app

ROOT = Path(__file__).resolve().parents[1]
COMPILED = "query Compiled { works(first: 2) { nodes { title } } }"
# not compiled: a similar list's facets (null) are the resolvers' alone
RESOLVED = (
    'query Finding { work(slug: "sea-of-blood") { similar(first: 2) { facets { __typename } } } }'
)


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    spans = InMemorySpanExporter()
    tracing.install(spans, batch=False)
    try:
        yield spans
    finally:
        tracing.uninstall()


def _request_spans(spans: list[ReadableSpan]) -> list[list[ReadableSpan]]:
    """The spans of each request, the request's own span first, in the order they began."""
    roots = sorted(
        (s for s in spans if s.kind == SpanKind.SERVER and s.name.startswith(("GET", "POST"))),
        key=lambda s: s.start_time or 0,
    )
    assert roots, [s.name for s in spans]
    grouped = []
    for root in roots:
        assert root.context is not None
        trace_id = root.context.trace_id
        grouped.append(
            [root]
            + [s for s in spans if s is not root and s.context and s.context.trace_id == trace_id]
        )
    return grouped


def _parent_chain(span: ReadableSpan, spans: list[ReadableSpan]) -> list[str]:
    """The names of a span's ancestors, nearest first."""
    by_id = {s.context.span_id: s for s in spans if s.context is not None}
    names = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        names.append(span.name)
    return names


def _check_request(request: list[ReadableSpan], operation: str) -> list[ReadableSpan]:
    """The request's span is the root, the operation's span its child, and every SQL
    statement's span lies under the operation's; the statements' spans."""
    root, others = request[0], request[1:]
    assert root.parent is None
    assert root.attributes is not None and root.attributes["http.response.status_code"] == 200
    [span] = [s for s in others if s.name == f"GraphQL Query: {operation}"]
    assert span.parent is not None and root.context is not None
    assert span.parent.span_id == root.context.span_id
    statements = [s for s in others if s.kind == SpanKind.CLIENT]
    assert statements, [s.name for s in others]
    for statement in statements:
        assert statement.attributes is not None and statement.attributes.get("db.statement")
        chain = _parent_chain(statement, request)
        assert span.name in chain and chain[-1] == root.name, chain
    return statements


async def test_a_resolver_request_has_request_operation_and_statement_spans(
    catalog_url: str, exporter: InMemorySpanExporter
) -> None:
    async with app_client(Settings(database_url=catalog_url), lifespan=True) as client:
        answer = await client.post("/graphql", json={"query": RESOLVED})
        assert answer.status_code == 200 and "x-execution" not in answer.headers
        await client.get("/healthz")  # not traced
        await client.get("/metrics")
    spans = list(exporter.get_finished_spans())
    [request] = _request_spans(spans)
    assert request[0].name == "POST /graphql"
    statements = _check_request(request, "Finding")
    # Strawberry's own spans are there too: a resolver's, under the operation's
    assert any(s.name == "GraphQL Resolving: work" for s in request)
    resolver = next(s for s in request if s.name == "GraphQL Resolving: work")
    assert "GraphQL Query: Finding" in _parent_chain(resolver, request)
    assert any("GraphQL Resolving: work" in _parent_chain(s, request) for s in statements)
    # nothing a client typed: no resolver arguments, no query string
    for span in request:
        assert not any(k.startswith("graphql.param") for k in (span.attributes or {}))
        assert "sea-of-blood" not in json.dumps(dict(span.attributes or {})).lower() or (
            span.name == "GraphQL Query: Finding"  # the document itself, as Strawberry keeps it
        )


async def test_compiled_requests_on_the_full_path_and_the_fast_lane(
    catalog_url: str, exporter: InMemorySpanExporter
) -> None:
    settings = Settings(database_url=catalog_url, compiled=True, response_cache_entries=0)
    async with app_client(settings, lifespan=True) as client:
        answers = [await client.post("/graphql", json={"query": COMPILED}) for _ in range(2)]
    assert [a.headers["x-execution"] for a in answers] == ["compiled", "compiled"]
    spans = list(exporter.get_finished_spans())
    full, lane = _request_spans(spans)
    _check_request(full, "Compiled")
    _check_request(lane, "Compiled")
    # the lane's operation span is ours (Strawberry did not run: no parsing span)
    assert any(s.name == "GraphQL Parsing" for s in full)
    assert not any(s.name == "GraphQL Parsing" for s in lane)
    [operation] = [s for s in lane if s.name == "GraphQL Query: Compiled"]
    assert operation.attributes is not None
    assert operation.attributes["nkcinema.execution"] == "compiled"


async def test_a_cached_answer_has_its_operation_span(
    catalog_url: str, exporter: InMemorySpanExporter
) -> None:
    async with app_client(Settings(database_url=catalog_url), lifespan=True) as client:
        for _ in range(2):
            answer = await client.get("/graphql", params={"query": COMPILED})
    assert answer.headers["x-cache"] == "hit"
    _, hit = _request_spans(list(exporter.get_finished_spans()))
    assert hit[0].name == "GET /graphql"
    [operation] = [s for s in hit if s.name == "GraphQL Query: Compiled"]
    assert (
        operation.attributes is not None and operation.attributes["nkcinema.execution"] == "cached"
    )


async def test_a_client_trace_is_continued(
    catalog_url: str, exporter: InMemorySpanExporter
) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    header = f"00-{trace_id}-00f067aa0ba902b7-01"
    async with app_client(Settings(database_url=catalog_url), lifespan=True) as client:
        await client.post("/graphql", json={"query": COMPILED}, headers={"traceparent": header})
    spans = list(exporter.get_finished_spans())
    assert spans and all(
        s.context is not None and f"{s.context.trace_id:032x}" == trace_id for s in spans
    )


def test_off_nothing_is_installed(catalog_url: str) -> None:
    """Without an endpoint: no SDK imported, no middleware, no extension, no SQL listener."""
    program = f"""
import sys
from settings import Settings
from web.app import create_app
app = create_app(Settings(database_url={catalog_url!r}))
names = [m.cls.__name__ for m in app.user_middleware]
assert "RequestSpans" not in names, names
print(sorted(m for m in sys.modules if m.startswith("opentelemetry.sdk")
             or m.startswith("opentelemetry.instrumentation")))
"""
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


class _Collector(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        body = self.rfile.read(length)
        self.received.append((self.path, self.headers.get("content-type", ""), body))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


async def test_with_an_endpoint_spans_leave_over_otlp_http(
    catalog_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Collector.received = []
    try:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
        app = make_app(Settings(database_url=catalog_url))  # reads the environment
        assert tracing.installed()
        try:
            async with app_client(app, lifespan=True) as client:
                await client.post("/graphql", json={"query": COMPILED})
        finally:
            tracing.uninstall()  # flushes the batch
    finally:
        server.shutdown()
    assert _Collector.received, "nothing was exported"
    path, content_type, body = _Collector.received[0]
    assert path == "/v1/traces" and content_type == "application/x-protobuf"
    assert b"GraphQL Query: Compiled" in body and b"POST /graphql" in body
