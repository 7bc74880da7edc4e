"""The engine benchmark's parts run and report what they claim (numbers are not asserted)."""

from __future__ import annotations

from pathlib import Path

from benchmarks import engine_bench


def test_every_shape_meets_its_write_target() -> None:
    results = engine_bench.count_shapes()
    assert [r.name for r in results] == [f"writes: {name}" for name in engine_bench.SHAPES]
    assert all(r.meets for r in results)


def test_the_one_step_run_counts_its_store_calls(tmp_path: Path) -> None:
    latencies, store = engine_bench.one_step_latencies(str(tmp_path), 3)
    assert len(latencies) == 3
    assert (store.writes, store.reads) == (6, 0)


def test_shipping_reports_both_forms_and_both_sides() -> None:
    names = [r.name for r in engine_bench.measure_shipping()]
    assert names == [f"ship as {f}: {s}" for f in ("models", "rows") for s in ("caller", "store")]
