"""Subagents: definitions, the tools they may use, and the loop that runs them."""

from ._definitions import AGENT_TOOLS, BUILTIN_AGENTS, AgentDefinition, AgentRegistry
from ._loop import AgentJob, run_agent
from ._parse import parse_reply
from ._spec import ERROR_KINDS, AgentOutcome, AgentSpec
from ._tools import AgentTools

__all__ = [
    "AGENT_TOOLS",
    "BUILTIN_AGENTS",
    "ERROR_KINDS",
    "AgentDefinition",
    "AgentJob",
    "AgentOutcome",
    "AgentRegistry",
    "AgentSpec",
    "AgentTools",
    "parse_reply",
    "run_agent",
]
