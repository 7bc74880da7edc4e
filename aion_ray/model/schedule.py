"""ScheduleSpec: when a schedule fires and what it does when a tick meets a run still going.

A spec names its ticks by ``every`` (an interval, anchored at ``start_at`` or else at the Unix
epoch, so ``every=timedelta(hours=1)`` ticks on the hour) or by ``cron`` (five standard
fields, read in ``timezone``: a tick on a local time that a daylight-saving change skips runs
at the first minute after the gap, one that the change repeats runs once). ``overlap`` says
what a tick does while an earlier run of the schedule is open (see ``OVERLAP_POLICIES``);
``catchup_window`` how late a tick may still run (after downtime); ``jitter`` delays each
tick by a fixed pseudo-random amount below it, derived from the schedule id and the tick.

``schedule_spec`` is the checked constructor: bad input raises ScheduleSpecError naming it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from pydantic import BaseModel, ConfigDict, Field

from aion_ray.errors import InvalidInputError, ScheduleSpecError
from aion_ray.model.event_base import MAX_DURATION_SECONDS, SearchAttributeValue, UtcDatetime
from aion_ray.model.visibility import checked_search_attributes

Overlap = Literal[
    "skip", "buffer_one", "buffer_all", "cancel_other", "terminate_other", "allow_all"
]
OVERLAP_POLICIES: tuple[str, ...] = get_args(Overlap)
"""What a tick does while a run of its schedule is open: ``skip`` it (the default);
``buffer_one`` (keep one tick to start when the run ends; further ones are skipped);
``buffer_all`` (keep every tick, started one after another); ``cancel_other`` (cancel the
open run and start the tick when it has ended); ``terminate_other`` (terminate the open run,
start the tick now); ``allow_all`` (start it now, runs overlap)."""

MIN_INTERVAL = timedelta(seconds=1)
"""The shortest ``every``: ticks closer together are a loop, not a schedule."""
MAX_NOTE_LENGTH = 1024
MAX_SCHEDULE_ID_LENGTH = 200
"""The longest schedule id: a tick's workflow id adds ``@`` and the tick (at most 28
characters) and must stay within a workflow id's 255."""
SCHEDULE_ATTRIBUTE = "aion_schedule_id"
"""The search attribute naming the schedule that started a run."""
SCHEDULED_TIME_ATTRIBUTE = "aion_scheduled_time"
"""The search attribute holding a run's scheduled time (ISO 8601, UTC)."""


class ScheduleSpec(BaseModel):
    """A checked schedule spec (build it with ``schedule_spec``); see the module docstring."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    every: timedelta | None = None
    cron: str | None = None
    timezone: str = "UTC"
    overlap: Overlap = "skip"
    catchup_window: timedelta = timedelta(minutes=1)
    jitter: timedelta | None = None
    start_at: UtcDatetime | None = None
    end_at: UtcDatetime | None = None
    paused: bool = False
    note: str = ""
    search_attributes: dict[str, SearchAttributeValue] = Field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def same_ticks(self, other: ScheduleSpec) -> bool:
        """Whether ``other`` describes the same schedule: every field but the pause state
        (pausing is what a schedule does, not what it is)."""
        ignored = {"paused", "note"}
        return self.model_dump(exclude=ignored) == other.model_dump(exclude=ignored)


def schedule_spec(**fields: Any) -> ScheduleSpec:
    """A ScheduleSpec of ``fields`` (ScheduleSpec's field names), checked: ScheduleSpecError
    names the first field that cannot work."""
    unknown = sorted(set(fields) - set(ScheduleSpec.model_fields))
    if unknown:
        raise ScheduleSpecError(f"unknown schedule option(s): {', '.join(unknown)}")
    every, cron = fields.get("every"), fields.get("cron")
    if (every is None) == (cron is None):
        raise ScheduleSpecError("a schedule needs exactly one of every= and cron=")
    if every is not None:
        _check_duration("every", every, minimum=MIN_INTERVAL)
    if cron is not None:
        _check_cron(cron)
    _check_zone(fields.get("timezone", "UTC"))
    _check_overlap(fields.get("overlap", "skip"))
    _check_duration("catchup_window", fields.get("catchup_window", timedelta(minutes=1)))
    if fields.get("jitter") is not None:
        _check_duration("jitter", fields["jitter"])
    _check_window(fields.get("start_at"), fields.get("end_at"))
    _check_pause(fields.get("paused", False), fields.get("note", ""))
    try:
        attributes = checked_search_attributes(fields.get("search_attributes") or {})
    except InvalidInputError as exc:
        raise ScheduleSpecError(str(exc)) from None
    return ScheduleSpec(**{**fields, "search_attributes": attributes})


def checked_schedule_id(schedule_id: object) -> str:
    """``schedule_id`` if it can name a schedule (and its ticks' runs); else
    ScheduleSpecError."""
    if not isinstance(schedule_id, str):
        raise ScheduleSpecError(f"a schedule id must be a str, got {type(schedule_id).__name__}")
    if not schedule_id or schedule_id.strip() != schedule_id or not schedule_id.isprintable():
        raise ScheduleSpecError(
            f"schedule id {schedule_id[:80]!r} must be printable, non-empty, no outer spaces"
        )
    if len(schedule_id) > MAX_SCHEDULE_ID_LENGTH:
        raise ScheduleSpecError(
            f"schedule id is {len(schedule_id)} characters; the limit is {MAX_SCHEDULE_ID_LENGTH}"
        )
    return schedule_id


def _check_duration(name: str, value: object, *, minimum: timedelta = timedelta(0)) -> None:
    if not isinstance(value, timedelta):
        raise ScheduleSpecError(f"{name} must be a timedelta, got {value!r:.80}")
    if value < minimum or value.total_seconds() > MAX_DURATION_SECONDS:
        raise ScheduleSpecError(
            f"{name}={value!r} is out of range: at least {minimum}, at most a century"
        )


def _check_cron(cron: object) -> None:
    if not isinstance(cron, str) or len(cron.split()) != 5:
        raise ScheduleSpecError(
            f"cron={cron!r:.80} is not a cron expression of five fields "
            "(minute hour day-of-month month day-of-week)"
        )
    try:
        CronSim(cron, datetime(2000, 1, 1, tzinfo=UTC))
    except CronSimError as exc:
        raise ScheduleSpecError(f"cron={cron!r} is invalid: {exc}") from None


def _check_zone(timezone: object) -> None:
    if not isinstance(timezone, str) or not timezone:
        raise ScheduleSpecError(f"timezone must be an IANA zone name, got {timezone!r:.80}")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleSpecError(
            f"timezone={timezone!r} is not a known IANA time zone (e.g. 'Europe/Paris')"
        ) from None


def _check_overlap(overlap: object) -> None:
    if overlap not in OVERLAP_POLICIES:
        raise ScheduleSpecError(
            f"overlap={overlap!r:.80} is not a policy; one of {', '.join(OVERLAP_POLICIES)}"
        )


def _check_window(start_at: object, end_at: object) -> None:
    for name, value in (("start_at", start_at), ("end_at", end_at)):
        if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
            raise ScheduleSpecError(f"{name} must be an aware datetime, got {value!r:.80}")
    if isinstance(start_at, datetime) and isinstance(end_at, datetime) and end_at <= start_at:
        raise ScheduleSpecError(f"end_at {end_at} is not after start_at {start_at}")


def _check_pause(paused: object, note: object) -> None:
    if not isinstance(paused, bool):
        raise ScheduleSpecError(f"paused must be a bool, got {paused!r:.80}")
    if not isinstance(note, str) or len(note) > MAX_NOTE_LENGTH:
        raise ScheduleSpecError(f"note must be a str of at most {MAX_NOTE_LENGTH} characters")
