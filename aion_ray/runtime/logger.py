"""``ctx.logger``: the workflow code's logger, with the workflow's ids, replay-aware.

Its records carry ``workflow_id``, ``run_id`` and ``workflow_type`` as record attributes
(see ``authoring.logs``). While a rebuilt run's code does again what it did before
(``WorkflowRun.repeating``: a host rebuilt it from history, after a crash, a suspension or a
move), its lines are not written a second time: the original run wrote them.
"""

from __future__ import annotations

import logging

from aion_ray.authoring.logs import FieldsAdapter, workflow_fields
from aion_ray.runtime.run_access import RunAccess

WORKFLOW_LOGGER = "aion_ray.workflow"
"""The logger ``ctx.logger`` writes to (configure its level and handlers by this name)."""


class WorkflowLogger(FieldsAdapter):
    """``ctx.logger``: writes to ``aion_ray.workflow`` with ``workflow_id``, ``run_id`` and
    ``workflow_type`` on every record, and nothing while the run's code repeats itself."""

    def __init__(self, run: RunAccess) -> None:
        started = run.started
        fields = workflow_fields(started.workflow_id, started.run_id)
        fields["workflow_type"] = started.workflow_type
        super().__init__(logging.getLogger(WORKFLOW_LOGGER), fields)
        self._run = run

    def isEnabledFor(self, level: int) -> bool:
        """False while the code repeats itself (callers that check first skip the work)."""
        return not self._run.repeating and self.logger.isEnabledFor(level)
