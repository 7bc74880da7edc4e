"""Schedules as pure logic over a clock: the ticks a spec names (``times``), what a tick does
while a run is open (``overlap``), and how a schedule's stored state moves on (``plan``).

No I/O: a host (the TestEngine's ``aion_ray.testing.schedules``, the control plane on Ray)
reads a ``StoredSchedule``, asks ``plan`` for a ``Step``, starts, cancels and terminates the
runs the step names (a start is idempotent: the workflow id is derived from the schedule id
and the tick), then stores the step's schedule.
"""
