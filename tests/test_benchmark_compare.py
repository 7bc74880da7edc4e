"""The A/B tool (benchmarks/compare.py) builds runnable copies of two versions and runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import compare


def test_a_ref_and_the_working_tree_run_side_by_side(capsys: pytest.CaptureFixture[str]) -> None:
    compare.main(["HEAD", "--rounds", "1", "--events", "20", "--batch", "10"])
    out = capsys.readouterr().out
    assert "working tree / HEAD:" in out
    assert out.count("events/s") >= 4  # one run of each version, then both medians


def test_a_copy_is_laid_out_as_the_installed_package(tmp_path: Path) -> None:
    tree = compare.package_copy(compare.checkout("HEAD", tmp_path / "ref"), tmp_path / "pkg")
    assert (tree / "aion_ray" / "storage" / "duckdb" / "store.py").is_file()
    assert (tree / "aion_ray" / "actors").is_dir()
    assert (tree / "benchmarks" / "store_bench.py").is_file()


@pytest.mark.parametrize(
    "argv", [["HEAD", "--rounds", "0"], ["HEAD", "--batch", "0"], ["HEAD", "--events", "5"]]
)
def test_nonsense_arguments_are_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        compare.parse_args(argv)


def test_an_unknown_ref_is_refused_with_gits_message(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="cannot read 'no-such-ref-anywhere' from git"):
        compare.checkout("no-such-ref-anywhere", tmp_path / "ref")


def test_a_tree_without_the_package_layout_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ref" / "aion_ray").mkdir(parents=True)
    with pytest.raises(SystemExit, match="lacks storage, actors"):
        compare.package_copy(tmp_path / "ref", tmp_path / "pkg")
