"""Enforce the layering rule: each layer imports only the layers below it.

    model (+ errors)  <-  authoring  <-  runtime  <-  engine  <-  control  <-  testing
          ^                                                                     |
          +------------------  storage  <---------------------------------------+
    actors, the package root and examples may use everything but the command line.
    cli (``cli/``, installed as ``aion_ray.cli``) sits on top: it may use the public package,
    the model, authoring, display, testing (replay), storage (offline files) and actors
    (connect); nothing imports it.

- model: events, payloads, ids, clock, lease, run segments, visibility; ``aion_ray/errors.py``
  belongs to it (every layer raises its errors);
- control: the control plane's logic (placement, residency, supervision, recovery), with
  no I/O of its own: the registry actor and the TestEngine both run it;
- display: HTML tables, the timeline model and its picture, progress; pure Python over the
  model (matplotlib, tqdm and pyarrow are imported only inside the calls that draw or convert);
- storage (``storage/``, installed as ``aion_ray.storage``) sees only the model: the engine
  reaches a store through the protocols it declares, never through the store's modules;
- ray lives only in ``actors/`` (and the demo in ``examples/``); duckdb and pyarrow only in
  ``storage/`` and ``actors/``.
Exits non-zero and names each offending import.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = {
    "model": {"model"},
    "authoring": {"model"},
    "runtime": {"model", "authoring"},
    "engine": {"model", "authoring", "runtime"},
    "control": {"model", "authoring", "runtime", "engine"},
    "testing": {"model", "authoring", "runtime", "engine", "control", "storage", "display"},
    "storage": {"model"},
    "display": {"model", "runtime", "storage"},
    "cli": {"package", "model", "authoring", "display", "testing", "storage", "actors"},
}
THIRD_PARTY = {
    "ray": {"actors", "examples", "cli"},
    "duckdb": {"storage", "actors"},
    "pyarrow": {"storage", "actors", "display"},
}
EVERYTHING = {"actors", "package", "examples"}


def layer_of_file(relative: str) -> str | None:
    """The layer a source file belongs to (None: not checked)."""
    parts = relative.split("/")
    if parts[0] in ("storage", "actors", "examples", "cli"):
        return parts[0]
    if parts[0] != "aion_ray":
        return None
    if parts[1] == "errors.py":
        return "model"
    if parts[1] == "__init__.py":
        return "package"
    return parts[1] if parts[1] in ALLOWED else "unplaced"


def layer_of_module(module: str) -> str | None:
    """The layer an imported module belongs to (None: outside the project)."""
    parts = module.split(".")
    if parts[0] != "aion_ray":
        return None
    if len(parts) == 1:
        return "package"
    if parts[1] == "errors":
        return "model"
    return parts[1]


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def problem(layer: str, module: str) -> bool:
    top = module.split(".")[0]
    if top in THIRD_PARTY:
        return layer not in THIRD_PARTY[top]
    target = layer_of_module(module)
    if target == "cli" and layer != "cli":
        return True  # the command line is on top of everything: nothing imports it
    if target is None or layer in EVERYTHING or target == layer:
        return False
    return layer == "unplaced" or target not in ALLOWED[layer]


def violations(root: Path = ROOT) -> list[str]:
    problems = []
    for folder in ("aion_ray", "storage", "actors", "examples", "cli"):
        for path in sorted((root / folder).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            layer = layer_of_file(relative)
            if layer is None:
                continue
            if layer == "unplaced":
                problems.append(f"{relative}: not in a layer ({', '.join(sorted(ALLOWED))})")
                continue
            for line, module in imported_modules(path):
                if problem(layer, module):
                    problems.append(f"{relative}:{line}: {layer} must not import {module}")
    return problems


def main() -> int:
    problems = violations()
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
