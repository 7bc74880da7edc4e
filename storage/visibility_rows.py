"""WorkflowInfo <-> ``workflows`` table rows, and paging shared by both stores."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from aion_ray.model.history import WorkflowStatus
from aion_ray.model.visibility import WorkflowFilter, WorkflowInfo


def workflow_row(info: WorkflowInfo) -> dict[str, Any]:
    return {
        "workflow_id": info.workflow_id,
        "run_id": info.run_id,
        "workflow_type": info.workflow_type,
        "status": info.status.value,
        "started_at": info.started_at,
        "closed_at": info.closed_at,
        "search_attributes": json.dumps(info.search_attributes),
        "parent_workflow_id": info.parent_workflow_id,
    }


def info_from_row(
    workflow_id: str,
    run_id: str,
    workflow_type: str,
    status: str,
    started_at: datetime,
    closed_at: datetime | None,
    search_attributes: str,
    parent_workflow_id: str | None,
) -> WorkflowInfo:
    return WorkflowInfo(
        workflow_id=workflow_id,
        run_id=run_id,
        workflow_type=workflow_type,
        status=WorkflowStatus(status),
        started_at=started_at,
        closed_at=closed_at,
        search_attributes=json.loads(search_attributes),
        parent_workflow_id=parent_workflow_id,
    )


def filter_page(found: Sequence[WorkflowInfo], flt: WorkflowFilter) -> list[WorkflowInfo]:
    """Apply ``flt``'s offset and limit to an already filtered, ordered list."""
    stop = None if flt.limit is None else flt.offset + flt.limit
    return list(found[flt.offset : stop])
