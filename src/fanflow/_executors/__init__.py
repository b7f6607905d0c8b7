"""Executors: where a run's agents run. `local` (this event loop) is the default."""

from ._base import Executor
from ._local import LocalExecutor
from ._services import ModelCache, RunServices

__all__ = ["Executor", "LocalExecutor", "ModelCache", "RunServices"]
