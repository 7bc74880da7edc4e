"""Enforce the layering rule: dependencies point one way.

    aion_ray core  <-  aion_ray.storage  <-  aion_ray.actors  <-  client, CLI, demo

- the core (aion_ray/, except the edge modules below) imports neither ray, duckdb nor
  pyarrow, and nothing from aion_ray.storage or aion_ray.actors;
- storage/ may use duckdb and pyarrow, never ray or aion_ray.actors;
- actors/ may use everything.
Edge modules of the core package that may reach further are listed in EDGE_MODULES.
Exits non-zero and names each offending import.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EDGE_MODULES = {
    # The test kit ships the in-memory reference store to users.
    "aion_ray/testing/__init__.py": {"aion_ray.storage"},
    "aion_ray/testing/host.py": {"aion_ray.storage"},
    # The store demo runs the real store until the Ray engine replaces it.
    "aion_ray/demo.py": {"aion_ray.storage"},
}
RULES = {
    "aion_ray": {"ray", "duckdb", "pyarrow", "aion_ray.storage", "aion_ray.actors"},
    "storage": {"ray", "aion_ray.actors"},
    "actors": set(),
}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def violations(root: Path = ROOT) -> list[str]:
    problems = []
    for layer, banned in RULES.items():
        for path in sorted((root / layer).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            allowed = EDGE_MODULES.get(relative, set())
            for line, module in imported_modules(path):
                for prefix in banned - allowed:
                    if module == prefix or module.startswith(prefix + "."):
                        problems.append(f"{relative}:{line}: {layer} must not import {module}")
    return problems


def main() -> int:
    problems = violations()
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
