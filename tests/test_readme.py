"""The README's examples run as written (the workflow and its unit test; the client on Ray
is exercised by ``tests/ray``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_examples_work() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert len(blocks) == 3
    workflow, _on_ray, unit_test = blocks
    namespace: dict[str, Any] = {"__name__": "readme"}
    exec(compile(workflow + unit_test, str(README), "exec"), namespace)
    namespace["test_nightly_deploys_when_approved"]()
