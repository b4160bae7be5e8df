"""archbench: which sequence architecture learns which task, from how many samples, how fast.

The public API lives in small modules; the most used names are re-exported here.
"""

from bench.contract.errors import ArchbenchError
from bench.contract.registry import (
    build_architecture,
    get_architecture,
    get_task,
    list_architectures,
    list_tasks,
    load_plugins,
    register_architecture,
    register_task,
)
from bench.contract.spec import Batch, TaskSpec
from bench.contract.task import Task

__version__ = "0.1.0"

__all__ = [
    "ArchbenchError",
    "Batch",
    "Task",
    "TaskSpec",
    "build_architecture",
    "get_architecture",
    "get_task",
    "list_architectures",
    "list_tasks",
    "load_plugins",
    "register_architecture",
    "register_task",
    "__version__",
]
