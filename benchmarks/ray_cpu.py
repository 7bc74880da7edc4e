"""CPU time taken by named Ray actors over a stretch of work, from their processes' counters.

A singleton actor (the registry, the store) runs on one core at most: its CPU per workflow
bounds how many workflows per second a whole cluster can push through it, however many
hosts there are. The counters are the processes' own (user + system time of every thread,
as the kernel reports them in ``/proc/<pid>/stat``, so Linux only), read before and after.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ray

MS = 1000.0


def _own_pid(_: object) -> int:
    return os.getpid()


def actor_pid(name: str, namespace: str) -> int:
    """The pid of the process hosting the named actor (asked of the actor itself)."""
    handle = ray.get_actor(name, namespace=namespace)
    ref: Any = handle.__ray_call__.remote(_own_pid)  # Ray's stubs type this call's ref wrongly
    pid: int = ray.get(ref)
    return pid


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (every thread of it)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of the whole line
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CpuMeter:
    """CPU seconds of some actors' processes, read when created; ``per_item`` reads again."""

    pids: dict[str, int]
    before: dict[str, float]

    @classmethod
    def start(cls, names: list[str], namespace: str) -> CpuMeter:
        pids = {name: actor_pid(name, namespace) for name in names}
        return cls(pids, {name: cpu_seconds(pid) for name, pid in pids.items()})

    def per_item(self, items: int) -> dict[str, float]:
        """Milliseconds of CPU per item, by actor name, since ``start``."""
        return {
            name: (cpu_seconds(pid) - self.before[name]) * MS / items
            for name, pid in self.pids.items()
        }


def ceiling(cpu_ms_per_item: float) -> float:
    """Items per second one core can take at that CPU cost (inf when it costs nothing)."""
    return MS / cpu_ms_per_item if cpu_ms_per_item > 0 else float("inf")
