"""fanflow: dynamic LLM workflows.

A short Python script, run in a sandbox, fans a job out to many subagents
(each with a fresh context and a tool allowlist) and fans their answers back
in. This namespace only re-exports; everything else is private.
"""

from ._errors import (
    AccountStop,
    AgentCapError,
    AgentError,
    ConfigError,
    FanflowError,
    ModelError,
    RunError,
    SandboxError,
    ScriptError,
    UserError,
)
from ._limits import Limits
from ._models import (
    FunctionModel,
    Message,
    Model,
    ModelRequest,
    ModelResponse,
    RetryableModelError,
    TestModel,
    ToolCall,
    ToolResult,
    ToolSpec,
    Usage,
)
from ._resume import resume_run as resume
from ._run import RunOptions, run_script
from ._script import STUBS as SCRIPT_API_STUBS
from ._tools import Tool, ToolContext

__version__ = "0.1.0"

__all__ = [
    "SCRIPT_API_STUBS",
    "AccountStop",
    "AgentCapError",
    "AgentError",
    "ConfigError",
    "FanflowError",
    "FunctionModel",
    "Limits",
    "Message",
    "Model",
    "ModelError",
    "ModelRequest",
    "ModelResponse",
    "RetryableModelError",
    "RunError",
    "RunOptions",
    "SandboxError",
    "ScriptError",
    "TestModel",
    "Tool",
    "ToolCall",
    "ToolContext",
    "ToolResult",
    "ToolSpec",
    "Usage",
    "UserError",
    "__version__",
    "resume",
    "run_script",
]
