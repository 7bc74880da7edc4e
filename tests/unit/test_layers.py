"""The layering lint: the core stays free of Ray and DuckDB, storage free of Ray."""

from __future__ import annotations

from pathlib import Path

from tools.check_layers import violations


def write(root: Path, relative: str, source: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)


def test_the_repository_respects_its_layers() -> None:
    assert violations() == []


def test_forbidden_imports_are_named(tmp_path: Path) -> None:
    write(tmp_path, "aion_ray/runtime.py", "import ray\nfrom duckdb import connect\n")
    write(tmp_path, "aion_ray/ok.py", "import json\nfrom aion_ray.events import Event\n")
    write(tmp_path, "aion_ray/leak.py", "from aion_ray.storage.memory import X\n")
    write(tmp_path, "storage/store.py", "import duckdb\nimport ray.util\n")
    write(tmp_path, "actors/actor.py", "import ray\nimport duckdb\n")
    assert violations(tmp_path) == [
        "aion_ray/leak.py:1: aion_ray must not import aion_ray.storage.memory",
        "aion_ray/runtime.py:1: aion_ray must not import ray",
        "aion_ray/runtime.py:2: aion_ray must not import duckdb",
        "storage/store.py:2: storage must not import ray.util",
    ]
