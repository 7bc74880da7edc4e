"""How the engine on Ray hosts one workflow type, where it differs from ``aion.connect``'s."""

from __future__ import annotations

from dataclasses import dataclass

from aion_ray.errors import InvalidInputError


@dataclass(frozen=True)
class Hosting:
    """``@aion.workflow(workflows_per_actor=..., idle_timeout=...)``; None: the engine's.

    A type with its own ``workflows_per_actor`` shares actors only with workflows of its own
    type (up to that many at once); types that keep the engine's setting share actors among
    themselves. ``idle_timeout`` is how long a blocked workflow of this type stays resident.
    """

    workflows_per_actor: int | None = None
    idle_timeout: float | None = None

    def __post_init__(self) -> None:
        per_actor = self.workflows_per_actor
        if per_actor is not None and (
            isinstance(per_actor, bool) or not isinstance(per_actor, int) or per_actor < 1
        ):
            raise InvalidInputError(f"workflows_per_actor must be an int >= 1, got {per_actor!r}")
        idle = self.idle_timeout
        if idle is not None and (
            isinstance(idle, bool) or not isinstance(idle, int | float) or not idle > 0
        ):
            raise InvalidInputError(f"idle_timeout must be > 0 seconds, got {idle!r}")

    def slot(self, workflow_type: str, engine_per_actor: int) -> tuple[str, int]:
        """Which actors a workflow of this type may share ("" for the engine's default
        group, else its type) and how many such workflows one actor holds."""
        if self.workflows_per_actor is None:
            return "", engine_per_actor
        return workflow_type, self.workflows_per_actor
