"""The notebooks in notebooks/ run end to end, each in a fresh kernel against real local Ray and
a real DuckDB file; and a workflow defined in a notebook outlives the kernel that started it."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

Notebook = Any
"""nbformat's notebook node (its functions carry no type annotations)."""
untyped_nbformat: Any = nbformat

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

pytestmark = [pytest.mark.ray, pytest.mark.slow]


def execute(notebook: Notebook, cwd: Path) -> Notebook:
    """Run every cell in a new kernel started in ``cwd``; a failing cell raises. The kernel
    is shut down afterwards (and with it the local Ray cluster it started)."""
    client = NotebookClient(
        notebook, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    client.execute()
    return notebook


def printed(notebook: Notebook) -> list[str]:
    """The lines the code cells printed, in order."""
    text = "".join(
        output.text
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "stream" and output.name == "stdout"
    )
    return text.splitlines()


def notebook_of(*sources: str) -> Notebook:
    notebook = untyped_nbformat.v4.new_notebook()
    notebook.cells = [untyped_nbformat.v4.new_code_cell(source) for source in sources]
    return notebook


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_notebook_runs_end_to_end(path: Path, tmp_path: Path) -> None:
    notebook = execute(untyped_nbformat.read(path, as_version=4), tmp_path)
    produced = [o for c in notebook.cells for o in c.get("outputs", [])]
    assert [o for o in produced if o.output_type == "error"] == []
    # A display that raised would only print a traceback (IPython keeps the cell going).
    assert not [o for o in produced if "Traceback" in o.get("text", "")]
    kinds = {kind for o in produced for kind in o.get("data", {})}
    assert {"text/html", "image/svg+xml"} <= kinds or path.stem == "exploring_histories"
    assert list(tmp_path.glob(".aion/*.duckdb")), "the notebook kept its histories in a file"


def test_there_are_the_three_notebooks_a_new_user_opens_first() -> None:
    assert [p.stem for p in NOTEBOOKS] == ["exploring_histories", "ml_pipeline", "quickstart"]
    for path in NOTEBOOKS:  # committed with their outputs, so they read well on GitHub
        cells = json.loads(path.read_text())["cells"]
        assert any(c.get("outputs") for c in cells if c["cell_type"] == "code"), path.name


def cluster_stopped(address: str, within: float = 30.0) -> bool:
    """Whether the Ray cluster at ``address`` (its GCS) stops taking connections in time."""
    host, port = address.rsplit(":", 1)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, int(port)), timeout=1).close()
        except OSError:
            return True
        time.sleep(0.5)
    return False


STORE = "store = '.aion/outlive.duckdb'"

DEFINE_AND_START = """
import ray
import aion_ray as aion

client = aion.connect(store_path=store, namespace="outlive")

@aion.activity
def square(x: int) -> int:
    return x * x

@aion.workflow
async def outlives(ctx: aion.WorkflowContext, base: int) -> int:
    extra = await ctx.wait_signal("go")
    return await ctx.run(square, base + extra)

handle = client.start(outlives, 3, id="outlive-1")
print(handle.describe().status)
print(ray.get_runtime_context().gcs_address)
"""

FINISH_ELSEWHERE = """
import ray
import aion_ray as aion

client = aion.connect(store_path=store, namespace="outlive")
print(ray.get_runtime_context().gcs_address)
handle = client.get("outlive-1")
handle.signal("go", 4)
print(handle.result(timeout=120))
print("outlives" in globals())
client.shutdown()
"""


def test_a_notebook_workflow_outlives_its_kernel(tmp_path: Path) -> None:
    status, first_cluster = printed(execute(notebook_of(STORE, DEFINE_AND_START), tmp_path))
    assert status == "running"
    assert cluster_stopped(first_cluster)
    # The first kernel is gone, and its Ray cluster with it; this one never defined the
    # workflow: the engine runs it from the definition it kept in the store.
    second = printed(execute(notebook_of(STORE, FINISH_ELSEWHERE), tmp_path))
    second_cluster, result, defined_here = second
    assert second_cluster != first_cluster
    assert result == "49"
    assert defined_here == "False"
