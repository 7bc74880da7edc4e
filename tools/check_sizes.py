"""Enforce the size rule: small modules, classes and functions, so each reads as one job.

- a module (a ``.py`` file under ``aion_ray/``, ``storage/``, ``actors/`` or ``cli/``) has at
  most 300 lines;
- a class body has at most 300 lines;
- a function body (methods and nested functions too) has at most 40 lines.

A body is counted from its first statement (a docstring included) to its last line, so a
signature that lists its parameters one per line, or the decorators above it, does not count.
Exits non-zero and prints one line per offender: ``path:line kind name: N lines (limit L)``.
Usage: ``python tools/check_sizes.py [ROOT]`` (the repository by default).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("aion_ray", "storage", "actors", "cli")
MAX_MODULE_LINES = 300
MAX_CLASS_LINES = 300
MAX_FUNCTION_LINES = 40

Definition = ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef


def body_lines(node: Definition) -> int:
    """How many lines the body of ``node`` spans, from its first statement to its end."""
    assert node.end_lineno is not None
    return node.end_lineno - node.body[0].lineno + 1


def definitions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, Definition]]:
    """Every class and function in ``tree`` with its dotted name (``Class.method``)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, Definition):
            name = f"{prefix}{node.name}"
            yield name, node
            yield from definitions(node, f"{name}.")
        else:
            yield from definitions(node, prefix)


def module_offences(path: Path, relative: str) -> list[str]:
    """The size offences of one module, in line order."""
    source = path.read_text()
    found = []
    lines = len(source.splitlines())
    if lines > MAX_MODULE_LINES:
        found.append(f"{relative}:1 module {path.name}: {lines} lines (limit {MAX_MODULE_LINES})")
    for name, node in definitions(ast.parse(source, filename=relative)):
        is_class = isinstance(node, ast.ClassDef)
        limit = MAX_CLASS_LINES if is_class else MAX_FUNCTION_LINES
        length = body_lines(node)
        if length > limit:
            kind = "class" if is_class else "function"
            found.append(f"{relative}:{node.lineno} {kind} {name}: {length} lines (limit {limit})")
    return found


def offences(root: Path = ROOT) -> list[str]:
    """Every module, class and function over its limit under ``root``'s checked folders."""
    found = []
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*.py")):
            found += module_offences(path, path.relative_to(root).as_posix())
    return found


def main(argv: list[str]) -> int:
    """Check the repository, or the tree at ``argv[0]`` if given."""
    found = offences(Path(argv[0]) if argv else ROOT)
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
