"""Agent definitions: the built-ins and the workspace's own `.md` files.

A definition is a system prompt plus defaults (tools, model). Files live in
`.fanflow/agents/NAME.md` or `.claude/agents/NAME.md` (fanflow's wins): YAML
frontmatter with `name`, `description`, `tools`, `model`; the body is the
system prompt.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from .._errors import ConfigError
from .._tools import agent_tool, builtin_agent_tools, builtin_tools

AGENT_TOOLS = builtin_agent_tools()
"""The built-in tools a subagent can be granted (plugins add more)."""
_LOOK = tuple(name for name in AGENT_TOOLS if builtin_tools()[name].access == "read")
"""The tools that only look (read, grep, glob): the default grant."""
_CLAUDE_TOOL_NAMES = {
    "read": "read",
    "grep": "grep",
    "glob": "glob",
    "write": "write",
    "edit": "write",
    "multiedit": "write",
}

PLANNER_OPENING = "You are fanflow's lead model."
"""How the planner's system prompt starts."""

_JSON_RULE = (
    "Answer with one JSON value and nothing else unless the task asks for prose. "
    "Use your tools to look before you claim; never invent file contents."
)


@dataclass(frozen=True)
class AgentDefinition:
    """What a subagent is: its system prompt and default tools and model."""

    name: str
    description: str
    system_prompt: str
    tools: tuple[str, ...] = ()
    model: str | None = None
    source: str = "built-in"


BUILTIN_AGENTS: dict[str, AgentDefinition] = {
    d.name: d
    for d in [
        AgentDefinition(
            "general",
            "A general-purpose subagent.",
            f"You are a focused subagent doing one unit of a larger job. {_JSON_RULE}",
            _LOOK,
        ),
        AgentDefinition(
            "auditor",
            "Reads code and reports defects of one class, with evidence.",
            "You are a code auditor. Read the files you are given and report every defect of "
            "the class you are asked about, each with file, lines, the shared state involved, "
            f"what goes wrong, a fix hint and your confidence from 0 to 1. {_JSON_RULE}",
            _LOOK,
        ),
        AgentDefinition(
            "reviewer",
            "Adversarial reviewer: tries to refute a claimed finding.",
            "You are an adversarial reviewer. Try hard to refute the claim you are given by "
            "reading the code it cites and anything that guards it. Answer with JSON: "
            '{"id": ..., "verdict": "confirmed" | "refuted" | "unverified", "reason": ...}. '
            "Say unverified when you could not check, never refuted. " + _JSON_RULE,
            _LOOK,
        ),
        AgentDefinition(
            "synthesizer",
            "Fan-in: merges many results into one answer.",
            "You merge the results of many subagents, given as data, into one answer that "
            "follows the instructions. Keep every distinct finding; drop what reviewers "
            "refuted; say what could not be verified.",
            (),
        ),
        AgentDefinition(
            "migrator",
            "Rewrites one file to a new API and keeps its behaviour.",
            "You migrate one file at a time to the target the task names, keeping behaviour "
            "identical, and update its test to match. " + _JSON_RULE,
            (*_LOOK, "write"),
        ),
    ]
}


class AgentRegistry:
    """Finds definitions by name: the workspace's files first, then the built-ins."""

    def __init__(self, workspace_root: Path | None) -> None:
        self._root = workspace_root
        self._cache: dict[str, AgentDefinition] = {}

    def get(self, name: str) -> AgentDefinition:
        if name in self._cache:
            return self._cache[name]
        definition = self._load_file(name) or BUILTIN_AGENTS.get(name)
        if definition is None:
            known = ", ".join(sorted(self.names()))
            raise ConfigError(
                f"unknown agent {name!r}; use one of {known} or add .fanflow/agents/{name}.md"
            )
        self._cache[name] = definition
        return definition

    def names(self) -> set[str]:
        found = set(BUILTIN_AGENTS)
        for folder in self._folders():
            found.update(p.stem for p in folder.glob("*.md"))
        return found

    def _folders(self) -> list[Path]:
        if self._root is None:
            return []
        return [self._root / ".fanflow" / "agents", self._root / ".claude" / "agents"]

    def _load_file(self, name: str) -> AgentDefinition | None:
        if not name.replace("-", "").replace("_", "").isalnum():
            return None
        for folder in self._folders():
            path = folder / f"{name}.md"
            if path.is_file():
                return parse_agent_file(path, claude=folder.parent.name == ".claude")
        return None


def parse_agent_file(path: Path, *, claude: bool = False) -> AgentDefinition:
    """Read one agent `.md` file; a malformed one is a `ConfigError` naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read agent file {path}: {exc}") from None
    meta, body = _split_frontmatter(text, path)
    tools = _parse_tools(meta.get("tools"), path, claude=claude)
    model = meta.get("model")
    if model is not None and not isinstance(model, str):
        raise ConfigError(f"{path}: 'model' must be a string like test or anthropic:NAME")
    if claude and model in {"inherit", "sonnet", "opus", "haiku"}:
        model = None  # Claude Code aliases: fall back to the run's model
    return AgentDefinition(
        name=str(meta.get("name") or path.stem),
        description=str(meta.get("description") or ""),
        system_prompt=body.strip() or BUILTIN_AGENTS["general"].system_prompt,
        tools=tools if tools is not None else BUILTIN_AGENTS["general"].tools,
        model=model,
        source=str(path),
    )


def _split_frontmatter(text: str, path: Path) -> tuple[dict, str]:
    if not text.startswith("---"):
        return {}, text
    parts = text.split("\n---", 1)
    if len(parts) != 2:
        raise ConfigError(f"{path}: frontmatter starts with --- but never ends; close it with ---")
    try:
        meta = yaml.safe_load(parts[0].removeprefix("---")) or {}
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0]
        raise ConfigError(f"{path}: frontmatter is not valid YAML ({first}); fix it") from None
    if not isinstance(meta, dict):
        raise ConfigError(f"{path}: frontmatter must be key: value pairs")
    return meta, parts[1].lstrip("-").lstrip("\n")


def _parse_tools(raw: object, path: Path, *, claude: bool) -> tuple[str, ...] | None:
    if raw is None:
        return None
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list):
        raise ConfigError(f"{path}: 'tools' must be a list or a comma-separated string")
    tools = []
    for item in (str(i).strip() for i in items):
        if claude:  # Claude Code's own tools (Bash, WebFetch, ...) have no fanflow twin
            name = _CLAUDE_TOOL_NAMES.get(item.lower())
            if name is not None and name not in tools:
                tools.append(name)
        elif item and item not in tools:
            try:
                agent_tool(item)  # a built-in, or a plugin that loads
            except ConfigError as exc:
                raise ConfigError(f"{path}: {exc}") from None
            tools.append(item)
    return tuple(tools)
