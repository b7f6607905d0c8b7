"""The public namespace is small and pinned; everything else is private."""

import importlib

import fanflow

PUBLIC = {
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
    "RunError",
    "RetryableModelError",
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
}


def test_public_names_are_pinned():
    assert set(fanflow.__all__) == PUBLIC
    for name in PUBLIC:
        assert hasattr(fanflow, name)


def test_internals_stay_private():
    for name in ("Journal", "Scheduler", "Sandbox", "SimModel", "AgentDefinition"):
        assert not hasattr(fanflow, name), name
    testing = importlib.import_module("fanflow.testing")
    assert set(testing.__all__) >= {"TestModel", "FunctionModel", "run_script"}


def test_error_tree_splits_user_mistakes_from_run_failures():
    assert issubclass(fanflow.ScriptError, fanflow.UserError)
    assert issubclass(fanflow.ConfigError, fanflow.UserError)
    assert issubclass(fanflow.ModelError, fanflow.AgentError)
    assert issubclass(fanflow.RetryableModelError, fanflow.ModelError)
    assert issubclass(fanflow.AccountStop, fanflow.ModelError)
    assert issubclass(fanflow.AgentCapError, fanflow.RunError)
    assert fanflow.UserError.exit_code == 2 and fanflow.RunError.exit_code == 1


def test_stubs_declare_the_design_api():
    for name in (
        "def spawn(",
        "def agent(",
        "async def gather(",
        "async def pipeline(",
        "def phase(",
        "async def synthesize(",
        "def log(",
        "args:",
        "tools: _Tools",
        "async def glob(",
        "async def read(",
        "async def grep(",
        "async def write(",
        "async def git_restore(",
        "async def run(",
    ):
        assert name in fanflow.SCRIPT_API_STUBS
