"""Displays for notebooks and terminals: histories and workflow lists as HTML tables, the
timeline of a workflow as a picture, and progress while waiting for many workflows.

Pure Python over the model; matplotlib, pyarrow, pandas and tqdm are imported only inside the
calls that need them (``aion-ray[notebook]`` installs the optional ones), so importing this
package costs none of them.
"""

from aion_ray.display.history import History
from aion_ray.display.infos import WorkflowList
from aion_ray.display.offline import OfflineHistories, open_history
from aion_ray.display.picture import TimelinePicture
from aion_ray.display.progress import wait, wait_async

__all__ = [
    "History",
    "OfflineHistories",
    "TimelinePicture",
    "WorkflowList",
    "open_history",
    "wait",
    "wait_async",
]
