"""The ticks a ScheduleSpec names, their jitter, and the workflow id of each tick's run.

Times are aware UTC datetimes; cron ticks are computed in the spec's time zone (``cronsim``
gives the daylight-saving behaviour of Debian's cron: a skipped local time fires at the first
minute after the gap, a repeated one fires once) and converted back to UTC.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice

from cronsim import CronSim

from aion_ray.model.schedule import ScheduleSpec

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ticks_after(spec: ScheduleSpec, after: datetime) -> Iterator[datetime]:
    """The ticks of ``spec`` strictly after ``after``, in order, within start_at and end_at."""
    if spec.start_at is not None and after < spec.start_at:
        after = spec.start_at - timedelta(microseconds=1)  # start_at itself may be a tick
    ticks = _interval_ticks(spec, after) if spec.every is not None else _cron_ticks(spec, after)
    for tick in ticks:
        if spec.end_at is not None and tick > spec.end_at:
            return
        yield tick


def ticks_between(spec: ScheduleSpec, start: datetime, end: datetime) -> list[datetime]:
    """The ticks in ``[start, end]``."""
    found = []
    for tick in ticks_after(spec, start - timedelta(microseconds=1)):
        if tick > end:
            break
        found.append(tick)
    return found


def next_fire_times(
    schedule_id: str, spec: ScheduleSpec, after: datetime, count: int
) -> list[datetime]:
    """When the next ``count`` ticks after ``after`` fire (jitter included)."""
    return [fire_time(schedule_id, spec, t) for t in islice(ticks_after(spec, after), count)]


def fire_time(schedule_id: str, spec: ScheduleSpec, tick: datetime) -> datetime:
    """When ``tick`` fires: the tick plus a delay below ``spec.jitter`` that depends only on
    the schedule id and the tick (the same on every host and after every restart)."""
    if not spec.jitter:
        return tick
    digest = hashlib.blake2b(f"{schedule_id}\0{tick.isoformat()}".encode(), digest_size=8)
    fraction = int.from_bytes(digest.digest(), "big") / 2**64
    return tick + timedelta(microseconds=int(spec.jitter / timedelta(microseconds=1) * fraction))


def tick_workflow_id(schedule_id: str, tick: datetime) -> str:
    """The workflow id of the run for ``tick``: ``<schedule id>@<tick, ISO 8601 UTC>``, so a
    tick fired again (a retry, a restart) names the run it started already."""
    stamp = tick.astimezone(UTC).isoformat(timespec="auto").replace("+00:00", "Z")
    return f"{schedule_id}@{stamp}"


def _interval_ticks(spec: ScheduleSpec, after: datetime) -> Iterator[datetime]:
    assert spec.every is not None
    anchor = spec.start_at or EPOCH
    step = spec.every
    index = max(0, (after - anchor) // step + 1)
    while True:
        yield anchor + index * step
        index += 1


def _cron_ticks(spec: ScheduleSpec, after: datetime) -> Iterator[datetime]:
    assert spec.cron is not None
    # CronSim yields times strictly after its start, to the minute.
    for local in CronSim(spec.cron, after.astimezone(spec.zone)):
        yield local.astimezone(UTC)
