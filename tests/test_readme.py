"""The README's examples run as written (the workflow and its unit test)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_examples_work() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert len(blocks) == 2
    namespace: dict[str, Any] = {"__name__": "readme"}
    exec(compile(blocks[0] + blocks[1], str(README), "exec"), namespace)
    namespace["test_nightly_deploys_when_approved"]()
