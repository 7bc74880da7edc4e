"""What a tick does while runs of its schedule are open: the six overlap policies as one
pure decision (see ``aion_ray.model.schedule.OVERLAP_POLICIES``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from aion_ray.model.schedule import Overlap

Action = Literal["start", "buffer", "skip"]


@dataclass(frozen=True)
class Decision:
    """``action`` for the tick; ``cancel`` / ``terminate``: whether the open runs are to be
    cancelled or terminated first; ``replace_buffer``: the tick takes the place of any tick
    buffered before it (rather than queueing behind them)."""

    action: Action
    cancel: bool = False
    terminate: bool = False
    replace_buffer: bool = False


def decide(policy: Overlap, open_runs: int, buffered: int) -> Decision:
    """What a tick does under ``policy`` with ``open_runs`` runs open and ``buffered`` ticks
    already waiting. A tick waits its turn behind buffered ticks even when no run is open."""
    if policy == "allow_all":
        return Decision("start")
    if policy == "terminate_other":
        return Decision("start", terminate=open_runs > 0)
    if open_runs == 0 and buffered == 0:
        return Decision("start")
    if policy == "skip":
        return Decision("skip")
    if policy == "buffer_one":
        return Decision("buffer") if buffered == 0 else Decision("skip")
    if policy == "buffer_all":
        return Decision("buffer")
    # cancel_other: the newest tick replaces what waited and starts once the runs have ended.
    return Decision("buffer", cancel=open_runs > 0, replace_buffer=True)


def may_release(open_runs: int, buffered: int) -> bool:
    """Whether the first buffered tick may start now: no run of the schedule is open."""
    return open_runs == 0 and buffered > 0
