"""bench-breakdown's pure parts: marks written by a process and read back, numbered per
workflow and label, and the table of median offsets and gaps built from them."""

from __future__ import annotations

from pathlib import Path

from benchmarks import ray_breakdown, ray_marks

MS = 1_000_000


def test_marks_are_numbered_per_workflow_and_label_and_read_back(tmp_path: Path) -> None:
    marks = ray_marks.Marks(tmp_path)
    marks.mark(["a", "b"], "store: in")
    marks.mark(["a"], "store: in")
    marks.close()
    read = ray_marks.read(tmp_path)
    assert set(read) == {"a", "b"}
    assert set(read["a"]) == {"store: in #1", "store: in #2"}
    assert set(read["b"]) == {"store: in #1"}
    assert read["a"]["store: in #1"] <= read["a"]["store: in #2"]


def test_the_table_orders_marks_by_median_offset_with_gaps_from_the_one_before() -> None:
    timelines = {
        wid: {"client: start sent": 0, "client: result returned": 10 * MS} for wid in "abc"
    }
    marks = {
        "a": {"host: end to waiters #1": 6 * MS, "host: result in #1": 4 * MS},
        "b": {"host: end to waiters #1": 8 * MS, "host: result in #1": 9 * MS},
        "c": {"host: end to waiters #1": 2 * MS, "host: result in #1": 1 * MS},
    }
    lines = ray_breakdown.table(timelines, marks).splitlines()
    order = [line.split()[0:3] for line in lines[1:5]]
    assert [" ".join(words) for words in order] == [
        "client: start sent",
        "host: result in",
        "host: end to",
        "client: result returned",
    ]
    # result in: 4, 9 and 1 ms after the start; the end 2, -1 and 1 ms after it.
    assert lines[2].split()[-3:] == ["4.00", "4.00", "8.00"]
    assert lines[3].split()[-3:] == ["6.00", "1.00", "1.80"]
    assert lines[-1].endswith("after the end in 33% of runs")  # b's only
