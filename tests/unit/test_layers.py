"""The layering lint: each layer imports only the layers below it, Ray and DuckDB stay out."""

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
    write(tmp_path, "aion_ray/runtime/run.py", "import ray\nfrom duckdb import connect\n")
    write(tmp_path, "aion_ray/runtime/ok.py", "import json\nfrom aion_ray.model.events import E\n")
    write(tmp_path, "aion_ray/engine/leak.py", "from aion_ray.storage.memory import X\n")
    write(tmp_path, "aion_ray/control/wired.py", "import ray\nfrom aion_ray.engine import host\n")
    write(tmp_path, "aion_ray/model/up.py", "from aion_ray.runtime.run import WorkflowRun\n")
    write(tmp_path, "aion_ray/errors.py", "from aion_ray.engine import driver\n")
    write(tmp_path, "aion_ray/stray.py", "import json\n")
    write(tmp_path, "storage/store.py", "import duckdb\nimport ray.util\n")
    write(tmp_path, "storage/engine_use.py", "from aion_ray.engine.recorder import Recorder\n")
    write(tmp_path, "actors/actor.py", "import ray, duckdb\nfrom aion_ray.storage import S\n")
    write(tmp_path, "actors/up.py", "from aion_ray.cli.main import main\n")
    write(tmp_path, "aion_ray/display/up.py", "from aion_ray.cli import output\n")
    write(tmp_path, "cli/ok.py", "import ray\nimport aion_ray\nfrom aion_ray.actors import c\n")
    write(tmp_path, "cli/ok2.py", "from aion_ray.storage import S\nfrom aion_ray.cli import x\n")
    write(tmp_path, "cli/deep.py", "import duckdb\nfrom aion_ray.runtime.run import Run\n")
    assert violations(tmp_path) == [
        "aion_ray/control/wired.py:1: control must not import ray",
        "aion_ray/display/up.py:1: display must not import aion_ray.cli",
        "aion_ray/engine/leak.py:1: engine must not import aion_ray.storage.memory",
        "aion_ray/errors.py:1: model must not import aion_ray.engine",
        "aion_ray/model/up.py:1: model must not import aion_ray.runtime.run",
        "aion_ray/runtime/run.py:1: runtime must not import ray",
        "aion_ray/runtime/run.py:2: runtime must not import duckdb",
        "aion_ray/stray.py: not in a layer "
        "(authoring, cli, control, display, engine, model, runtime, storage, testing)",
        "storage/engine_use.py:1: storage must not import aion_ray.engine.recorder",
        "storage/store.py:2: storage must not import ray.util",
        "actors/up.py:1: actors must not import aion_ray.cli.main",
        "cli/deep.py:1: cli must not import duckdb",
        "cli/deep.py:2: cli must not import aion_ray.runtime.run",
    ]
