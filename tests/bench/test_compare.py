"""bench.compare: which ratios of a load report moved the wrong way."""

from __future__ import annotations

from pathlib import Path

from bench.compare import compare, main

OLD = """## PostgreSQL, 10,000 works, 1 worker

| workload | server | req/s | req/s ÷ floor | p50 ÷ floor | same data |
|---|---|---|---|---|---|
| W1 | **app** | 300 | 0.50 | 2.00 | yes |
| W2 | app (compiled) | 1,300 | 0.70 | 1.40 | yes |
| W2 | floor | 1,800 |  |  | reference |
"""


def test_a_lower_throughput_ratio_or_a_higher_latency_ratio_is_a_drop(tmp_path: Path) -> None:
    new = OLD.replace("| 0.50 | 2.00 |", "| 0.40 | 2.02 |").replace("| 1.40 |", "| 1.20 |")
    changes = {(c.key[-2], c.column): c.relative() for c in compare(OLD, new)}
    assert changes[("W1", "req/s ÷ floor")] < -0.05  # 0.50 → 0.40: slower
    assert -0.05 < changes[("W1", "p50 ÷ floor")] < 0  # 2.00 → 2.02: within the tolerance
    assert changes[("W2", "p50 ÷ floor")] > 0  # 1.40 → 1.20: faster
    (tmp_path / "old.md").write_text(OLD, "utf-8")
    (tmp_path / "new.md").write_text(new, "utf-8")
    (tmp_path / "same.md").write_text(OLD, "utf-8")
    assert main([str(tmp_path / "old.md"), str(tmp_path / "new.md")]) == 1
    assert main([str(tmp_path / "old.md"), str(tmp_path / "same.md")]) == 0


OLD_PEERS = """## The app against PostGraphile (PostgreSQL, W1-W3)

| catalog | workers | workload | ours | ours ÷ PostGraphile req/s |
|---|---|---|---|---|
| 10,000 | 1 | W1 | app (compiled) | 3.00 |
"""
NEW_PEERS = """## The app against PostGraphile (PostgreSQL)

| catalog | workers | workload | ours | PostGraphile | ours ÷ PostGraphile req/s |
|---|---|---|---|---|---|
| 10,000 | 1 | W1 | app (compiled) | v4 | 2.00 |
| 10,000 | 1 | W1 | app (compiled) | v5 | 3.00 |
"""


def test_the_peer_table_before_v5_compares_with_v4s_rows() -> None:
    changes = {c.key[-1]: c for c in compare(OLD_PEERS, NEW_PEERS)}
    assert set(changes) == {"v4"}  # v5 has no row in the old report
    assert (changes["v4"].old, changes["v4"].new) == (3.0, 2.0)
    assert changes["v4"].relative() < 0
