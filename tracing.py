"""Traces (OpenTelemetry): a span per HTTP request, per GraphQL operation and per SQL
statement, exported over OTLP.

Off unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (``from_environment``, called as the app is
built) or a test installs an exporter (``install``). Off means nothing is installed: no
middleware, no schema extension, no SQL event listener, not even the SDK imported; what
checks for it does so once, as the app is built (``installed``).

On, the spans of one request, parented in this order:

- the HTTP request (``RequestSpans``, a server span; a ``traceparent`` header from the
  client continues its trace);
- the GraphQL operation: Strawberry's ``OpenTelemetryExtension`` on the resolver path
  (``operation_extension``, with its parsing, validation and resolver spans), or the fast
  lane's own span for the answers it gives without Strawberry (``operation_span``);
- each SQL statement: ``opentelemetry-instrumentation-sqlalchemy``'s listeners on the app's
  engines (``instrument_engine``), and the fast lane's statements run on the driver directly
  (``statement_span``).

What spans never carry, as in the logs: query strings, variables and resolver arguments
(they can hold what a client typed), headers. SQL spans carry the statement's text, with
placeholders, never its parameters.

The exporter is OTLP over HTTP (``opentelemetry-exporter-otlp-proto-http``), configured by the
standard variables (``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_EXPORTER_OTLP_HEADERS``,
``OTEL_SERVICE_NAME`` (default ``nkcinema``), ``OTEL_TRACES_SAMPLER`` …), batching spans in
the background.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span, Tracer
    from sqlalchemy.ext.asyncio import AsyncEngine
    from strawberry.extensions import SchemaExtension

ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
SERVICE_NAME = "nkcinema"
NOT_TRACED = ("/metrics", "/healthz", "/readyz")  # scraped and probed all day: no spans

_provider: TracerProvider | None = None


def install(exporter: SpanExporter, *, batch: bool = True) -> TracerProvider:
    """Trace from now on into ``exporter`` (``batch=False``: each span exported as it ends,
    for tests). Apps built afterwards are traced."""
    global _provider
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    uninstall()
    name = os.environ.get("OTEL_SERVICE_NAME") or SERVICE_NAME
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)
    _provider = provider
    return provider


def uninstall() -> None:
    """Stop tracing (apps built from now on are not traced), flushing what is pending."""
    global _provider
    if _provider is not None:
        _provider.shutdown()
        _provider = None


def from_environment() -> bool:
    """Install the OTLP exporter if ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set and nothing is
    installed yet; whether tracing is on."""
    if _provider is None and os.environ.get(ENDPOINT):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        install(OTLPSpanExporter())
    return installed()


def installed() -> bool:
    return _provider is not None


def tracer() -> Tracer:
    """The service's tracer (only while tracing is installed)."""
    assert _provider is not None, "tracing is not installed"
    return _provider.get_tracer("nkcinema")


# -- requests --------------------------------------------------------------------------------


class RequestSpans:
    """A server span per HTTP request, named ``METHOD /path``, with the method, path, scheme
    and status, continuing the client's trace (W3C ``traceparent``). Our own rather than
    ``opentelemetry-instrumentation-asgi``'s, which records the query string (a GET's
    variables) and a span per ASGI message.

    Usage: ``Middleware(RequestSpans, tracer=tracing.tracer())``, outermost, only while
    tracing is installed."""

    def __init__(self, app: ASGIApp, *, tracer: Tracer) -> None:
        from opentelemetry import propagate, trace

        self.app = app
        self.tracer = tracer
        self.propagate = propagate
        self.trace = trace

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in NOT_TRACED:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        method, path = scope["method"], scope["path"]
        attributes = {
            "http.request.method": method,
            "url.path": path,
            "url.scheme": scope.get("scheme", "http"),
        }
        with self.tracer.start_as_current_span(
            f"{method} {path}",
            context=self.propagate.extract(headers),
            kind=self.trace.SpanKind.SERVER,
            attributes=attributes,
        ) as span:

            async def send_and_note(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(self.trace.StatusCode.ERROR)
                await send(message)

            await self.app(scope, receive, send_and_note)


# -- operations ------------------------------------------------------------------------------


def operation_extension() -> type[SchemaExtension]:
    """Strawberry's ``OpenTelemetryExtension`` on our tracer provider, keeping no resolver
    arguments, and with the operation's span current while the operation runs, so that what
    runs outside resolvers (the compiled path, the catalog version read) is its child."""
    assert _provider is not None, "tracing is not installed"
    return _operation_extension(_provider)


@functools.lru_cache(maxsize=4)
def _operation_extension(provider: TracerProvider) -> type[SchemaExtension]:
    from opentelemetry import context, trace
    from strawberry.extensions import LifecycleStep
    from strawberry.extensions.tracing import OpenTelemetryExtension

    class OperationSpans(OpenTelemetryExtension):
        def __init__(self, *, execution_context: Any = None) -> None:
            super().__init__(
                execution_context=execution_context,
                arg_filter=lambda _args, _info: {},
                tracer_provider=provider,
            )

        def on_operation(self) -> Generator[None, None, None]:
            spans = super().on_operation()
            next(spans)  # the operation's span is started
            operation = self._span_holder[LifecycleStep.OPERATION]
            token = context.attach(trace.set_span_in_context(operation))
            try:
                yield
            finally:
                context.detach(token)
                next(spans, None)  # named, and ended

    return OperationSpans


def operation_span(
    tracer: Tracer, name: str | None, path: str
) -> contextlib.AbstractContextManager[Span]:
    """The span of an operation answered without Strawberry (the fast lane), named as
    Strawberry names its own, current while it runs."""
    from opentelemetry.trace import SpanKind

    span_name = f"GraphQL Query: {name}" if name else "GraphQL Query"
    return tracer.start_as_current_span(
        span_name,
        kind=SpanKind.SERVER,
        attributes={"component": "graphql", "nkcinema.execution": path},
    )


# -- SQL -------------------------------------------------------------------------------------


def instrument_engine(engine: AsyncEngine) -> None:
    """A span per SQL statement the engine runs (the instrumentation library's listeners)."""
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.metrics import NoOpMeter

    usage = NoOpMeter("nkcinema").create_up_down_counter("db.client.connections.usage")
    EngineTracer(tracer(), engine.sync_engine, usage)  # type: ignore[no-untyped-call]


@contextlib.contextmanager
def statement_span(tracer: Tracer, engine: AsyncEngine, sql: str) -> Iterator[None]:
    """The span of a statement run on the driver's connection directly, which SQLAlchemy's
    events do not see: named and described as the instrumentation library's."""
    from opentelemetry.trace import SpanKind

    keyword = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "SQL"
    database = engine.url.database or ""
    with tracer.start_as_current_span(
        f"{keyword} {os.path.basename(database)}".strip(),
        kind=SpanKind.CLIENT,
        attributes={"db.system": engine.dialect.name, "db.statement": sql},
    ):
        yield
