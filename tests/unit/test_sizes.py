"""The size lint: modules and class bodies up to 300 lines, function bodies up to 40."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tools.check_sizes import ROOT, offences


def write(root: Path, relative: str, source: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)


def statements(count: int, indent: str) -> str:
    return "".join(f"{indent}x{i} = {i}\n" for i in range(count))


def function(name: str, body: int, indent: str = "") -> str:
    return f"{indent}def {name}() -> None:\n" + statements(body, indent + "    ")


def test_an_oversized_module_and_class_are_named(tmp_path: Path) -> None:
    write(tmp_path, "aion_ray/engine/long.py", statements(301, ""))
    write(tmp_path, "aion_ray/engine/full.py", statements(300, ""))  # at the limit: fine
    write(tmp_path, "storage/wide.py", "import os\n\n\nclass Wide:\n" + statements(301, "    "))
    write(tmp_path, "actors/fits.py", "class Fits:\n" + statements(299, "    "))
    write(tmp_path, "tests/huge.py", statements(400, ""))  # not a checked folder
    assert offences(tmp_path) == [
        "aion_ray/engine/long.py:1 module long.py: 301 lines (limit 300)",
        "storage/wide.py:1 module wide.py: 305 lines (limit 300)",
        "storage/wide.py:4 class Wide: 301 lines (limit 300)",
    ]


def test_a_long_function_body_is_named_wherever_it_is_defined(tmp_path: Path) -> None:
    parameters = "".join(f"    a{i}: int,\n" for i in range(20))
    long_signature = "def many(\n" + parameters + ") -> None:\n"
    source = (
        function("at_limit", 40)
        + function("over", 41)
        + long_signature
        + statements(40, "    ")  # a long signature does not count
        + "class Host:\n"
        + function("method", 41, "    ")
        + "    async def outer(self) -> None:\n"
        + function("inner", 41, "        ")
    )
    write(tmp_path, "cli/commands.py", source)
    assert offences(tmp_path) == [
        "cli/commands.py:42 function over: 41 lines (limit 40)",
        "cli/commands.py:147 function Host.method: 41 lines (limit 40)",
        "cli/commands.py:189 function Host.outer: 42 lines (limit 40)",
        "cli/commands.py:190 function Host.outer.inner: 41 lines (limit 40)",
    ]


def test_the_command_exits_non_zero_with_one_line_per_offender(tmp_path: Path) -> None:
    write(tmp_path, "aion_ray/model/ok.py", function("short", 3))
    script = [sys.executable, str(ROOT / "tools" / "check_sizes.py"), str(tmp_path)]
    clean = subprocess.run(script, capture_output=True, text=True, check=False)
    assert (clean.returncode, clean.stdout) == (0, "")
    write(tmp_path, "storage/big.py", statements(320, ""))
    write(tmp_path, "actors/slow.py", function("slow", 50))
    found = subprocess.run(script, capture_output=True, text=True, check=False)
    assert found.returncode == 1
    assert found.stdout.splitlines() == [
        "storage/big.py:1 module big.py: 320 lines (limit 300)",
        "actors/slow.py:1 function slow: 50 lines (limit 40)",
    ]
