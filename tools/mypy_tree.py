"""Type-check the project with mypy --strict through a link tree.

mypy cannot follow setuptools' ``package-dir`` mapping (``storage/`` installed as
``aion_ray.storage``), so this builds ``.mypy_tree/aion_ray`` out of symlinks that mirror the
installed layout and runs mypy there. Error paths are reported relative to that tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TREE = ROOT / ".mypy_tree"
LAYOUT = {
    "aion_ray": "aion_ray",
    "aion_ray/storage": "storage",
    "aion_ray/actors": "actors",
    "aion_ray/cli": "cli",
}
EXTRA = ("tests", "benchmarks", "tools", "examples")


def build_tree() -> None:
    shutil.rmtree(TREE, ignore_errors=True)
    for target, source in LAYOUT.items():
        for path in sorted((ROOT / source).rglob("*.py")):
            relative = path.relative_to(ROOT / source)
            if relative.parts[0] in ("storage", "actors") and source == "aion_ray":
                continue
            link = TREE / target / relative
            link.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(path, link)
    (TREE / "aion_ray" / "py.typed").touch()
    for extra in EXTRA:
        if (ROOT / extra).exists():
            os.symlink(ROOT / extra, TREE / extra)


def main() -> int:
    build_tree()
    packages = ["aion_ray", *[e for e in EXTRA if (ROOT / e).exists()]]
    command = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")]
    for package in packages:
        command += ["-p", package]
    return subprocess.call(command, cwd=TREE)


if __name__ == "__main__":
    sys.exit(main())
