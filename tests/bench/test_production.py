"""bench.production: the order of the sides, the medians and ratios, the report, the request
lines wrk sends, and the OTLP sink a traced app exports to."""

from __future__ import annotations

import argparse
import hashlib
import json
import math
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bench.loadgen import Run, request_line
from bench.production import (
    Comparison,
    OtlpSink,
    Results,
    alternated,
    answered_by,
    get_target,
    hash_target,
    persisted_extension,
    ratio,
    report,
)


def _run(requests: int, p50: float, not_modified: int = 0) -> Run:
    return Run(requests, 2.0, p50, p50 * 3, 0, 0, 0, 0, 1.0, None, not_modified)


def test_the_order_of_the_sides_reverses_every_other_round() -> None:
    sides = ["default", "again", "metrics off", "tracing on"]
    assert alternated(sides, 0) == sides
    assert alternated(sides, 1) == sides[::-1]
    assert alternated(sides, 2) == sides


def test_each_side_is_the_median_of_its_rounds_and_ratios_are_over_the_first_side() -> None:
    comparison = Comparison("replica", "W2", ["primary", "replica"])
    for requests, p50 in ((2000, 5.0), (1000, 9.0), (2200, 4.0)):  # one noisy round
        comparison.add("primary", _run(requests, p50))
    for requests, p50 in ((2400, 4.0), (2600, 3.5), (2300, 4.5)):
        comparison.add("replica", _run(requests, p50))
    assert comparison.median("primary", "rps") == 1000.0
    assert comparison.median("replica", "rps") == 1200.0
    assert comparison.ratio("replica", "rps") == 1.2
    assert comparison.ratio("replica", "p50") == 4.0 / 5.0
    assert comparison.ratio("primary", "rps") == 1.0
    assert round(comparison.spread("primary"), 2) == 1.2  # 2200 / 1000 - 1


def test_a_side_that_completed_nothing_gives_no_ratio_rather_than_a_fault() -> None:
    assert math.isnan(ratio(0.0, 10.0)) and math.isnan(ratio(10.0, 0.0))
    comparison = Comparison("observability", "W2", ["default", "tracing on"])
    comparison.add("default", _run(0, 0.0))
    comparison.add("tracing on", _run(10, 100.0))
    assert math.isnan(comparison.ratio("tracing on", "rps"))
    assert math.isnan(comparison.spread("default"))
    assert math.isnan(comparison.median("never measured", "rps"))


def test_the_report_has_a_table_per_part_with_the_ratios_and_the_load_average() -> None:
    replica = Comparison("replica", "W1", ["primary", "replica"])
    replica.add("primary", _run(2000, 4.0))
    replica.add("replica", _run(3000, 2.0))
    replica.executions = {"primary": "compiled", "replica": "compiled"}
    apq = Comparison("persisted queries", "W1, cache on", ["POST", "GET, hash only, 304"])
    apq.add("POST", _run(2000, 4.0))
    apq.add("GET, hash only, 304", _run(8000, 1.0, not_modified=8000))
    apq.executions = {"POST": "compiled", "GET, hash only, 304": "304"}
    results = Results(
        comparisons=[replica, apq],
        notes=["The OTLP sink received 3 export POSTs"],
        load_average=((1.5, 2.0, 2.5), (3.0, 2.0, 1.0)),
        postgres="15.8",
        seconds=300,
    )
    args = argparse.Namespace(works=10_000, seconds=2.0, warmup=0.5, rounds=3)
    text = report(results, args)
    assert text.startswith("# Production: replicas, metrics, tracing, persisted queries")
    assert "## 1. Reads through the replica against the primary" in text
    assert "## 2. Metrics and tracing" not in text  # a part not measured gets no table
    assert "| W1 | replica | 1,500 | 1.50 | 2.00 | 0.50 |" in text
    assert "| W1, cache on | GET, hash only, 304 | 4,000 | 4.00 | 1.00 | 0.25 |" in text
    assert "at the start 1.50, 2.00, 2.50, at the end 3.00, 2.00, 1.00" in text
    assert "PostgreSQL 15.8" in text and "- The OTLP sink received 3 export POSTs" in text


def test_a_hash_only_get_carries_the_hash_and_variables_and_no_document() -> None:
    query = "query W($slug: String!) { work(slug: $slug) { title } }"
    parameters = parse_qs(urlsplit(hash_target(query, {"slug": "sea-of-blood"})).query)
    assert "query" not in parameters
    assert json.loads(parameters["variables"][0]) == {"slug": "sea-of-blood"}
    assert json.loads(parameters["extensions"][0]) == persisted_extension(query)
    extension = persisted_extension(query)["persistedQuery"]
    assert extension == {"version": 1, "sha256Hash": hashlib.sha256(query.encode()).hexdigest()}
    document = parse_qs(urlsplit(get_target(query, {"slug": "x"})).query)
    assert document["query"] == [query]


def test_request_lines_are_tab_separated_and_refuse_what_would_break_them() -> None:
    assert request_line("GET", "/graphql?a=1") == "GET\t/graphql?a=1\t-\t"
    assert request_line("GET", "/g", if_none_match='"2-ab"') == 'GET\t/g\t"2-ab"\t'
    assert (
        request_line("POST", "/graphql", '{"query":"{a}"}') == 'POST\t/graphql\t-\t{"query":"{a}"}'
    )
    with pytest.raises(ValueError, match="tabs or newlines"):
        request_line("POST", "/graphql", "{\n}")


def test_how_a_request_was_answered_is_told_from_its_status_and_headers() -> None:
    assert answered_by(304, {}) == "304"
    assert answered_by(200, {"x-cache": "hit"}) == "cache hit"
    assert answered_by(200, {"x-execution": "compiled"}) == "compiled"
    assert answered_by(200, {}) == "resolver"


def test_the_otlp_sink_accepts_a_post_and_counts_it() -> None:
    sink = OtlpSink()
    with sink.serving():
        response = httpx.post(
            sink.endpoint + "/v1/traces",
            content=b"\x0a\x00spans",
            headers={"Content-Type": "application/x-protobuf"},
            timeout=5,
        )
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/x-protobuf"
        assert response.content == b""
    assert (sink.posts, sink.bytes) == (1, 7)


def test_the_otlp_exporter_delivers_spans_to_the_sink() -> None:
    """What the traced app does: the SDK's OTLP/HTTP exporter, pointed at the sink, succeeds."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    sink = OtlpSink()
    with sink.serving():
        provider = TracerProvider()
        provider.add_span_processor(
            SimpleSpanProcessor(OTLPSpanExporter(endpoint=sink.endpoint + "/v1/traces"))
        )
        with provider.get_tracer("bench").start_as_current_span("request"):
            pass
        provider.shutdown()
    assert sink.posts == 1 and sink.bytes > 0
