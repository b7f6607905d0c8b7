"""Reading an API error body: the line worth showing, the full detail, what kind it is.

Servers say the same things in different shapes. OpenAI and its look-alikes
send `{"error": {"message", "type", "code"}}`; llama.cpp adds `n_ctx` and
`n_prompt_tokens`; Ollama sends `{"error": "text"}`; FastAPI servers
(llama-cpp-python) send `{"detail": [...]}` for a 422 and a pydantic dump as the
message of a 500. The message shown to the user is one line (the first of the
message, plus the first failing field of a validation dump); the whole body goes
to the journal (`api_error` event), where nothing is cut that a reader needs.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

SHOWN_CHARS = 300
"""The longest message shown in an error line; the journal keeps the rest."""
DETAIL_CHARS = 20_000
"""The most of an error body the journal keeps (a body is the server's, not ours)."""

_TYPE_TAIL = re.compile(r"\s*\[type=.*$")
_PYDANTIC_HEAD = re.compile(r"^\d+ validation errors? for \S+", re.IGNORECASE)
_VALIDATION = re.compile(
    r"validation errors? for|\[type=\w+|input should be|field required|"
    r"is not valid under|is not of type|missing required|unexpected keyword|"
    r"extra inputs are not permitted|invalid value|invalid type",
    re.IGNORECASE,
)
_TRANSIENT = re.compile(
    r"overload|internal server error|server had an error|try again|temporar|"
    r"unavailable|timed? ?out|busy|capacity|loading|rate limit|bad gateway",
    re.IGNORECASE,
)
_CONTEXT_CODES = frozenset(
    {"context_length_exceeded", "exceed_context_size_error", "context_window_exceeded"}
)
_CONTEXT_WORDS = re.compile(
    r"context (length|window|size)|maximum context|prompt is too long|"
    r"exceeds? the (available )?context|too many (input )?tokens|input is too long",
    re.IGNORECASE,
)
# (pattern, group of the limit, group of the requested count), as each server words it
_CONTEXT_NUMBERS = (
    # llama-server: "request (4476 tokens) exceeds the available context size (4096 tokens)"
    (re.compile(r"request \((\d+) tokens\) exceeds the available context size \((\d+)"), 2, 1),
    # OpenAI, vLLM, llama-cpp-python: "maximum context length is 2048 tokens. However,
    # you requested 5000 tokens"
    (re.compile(r"maximum context length is (\d+) tokens.*?requested (\d+)", re.S), 1, 2),
    # Anthropic: "prompt is too long: 210000 tokens > 200000 maximum"
    (re.compile(r"prompt is too long: (\d+) tokens > (\d+)"), 2, 1),
    # llama-cpp-python's own words: "Requested tokens (5000) exceed context window of 2048"
    (re.compile(r"Requested tokens \((\d+)\) exceed context window of (\d+)"), 2, 1),
)


def inner_error(body: Any) -> Any:
    """The `error` member of a body when there is one, else the body."""
    return body.get("error", body) if isinstance(body, dict) else body


def raw_message(exc: Exception) -> str:
    """The API's own message, whole (several lines of a validation dump included)."""
    body = getattr(exc, "body", None)
    inner = inner_error(body)
    if isinstance(inner, dict) and inner.get("message"):
        return str(inner["message"])
    if isinstance(inner, str) and inner.strip():  # Ollama: {"error": "..."}
        return inner
    if isinstance(body, dict) and body.get("detail"):  # FastAPI
        return _fastapi_detail(body["detail"])
    return str(getattr(exc, "message", "") or exc)


def shown_message(text: str) -> str:
    """One line worth reading: the message's first line, and for a pydantic dump the
    first failing field with what was wrong with it; an HTML page is named, not pasted."""
    if "<html" in text.lower() or "<!doctype" in text.lower():
        return "the server answered with an HTML page, not the API's JSON (a proxy or wrong URL?)"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    first = lines[0]
    if _PYDANTIC_HEAD.match(first):
        first = f"{first}: {_pydantic_first(text)}"
    first = " ".join(first.split())
    return first if len(first) <= SHOWN_CHARS else first[: SHOWN_CHARS - 1] + "…"


def detail(exc: Exception) -> str:
    """The whole error body as the server sent it (JSON when it was), capped."""
    body = getattr(exc, "body", None)
    text = json.dumps(body, ensure_ascii=False) if isinstance(body, dict | list) else str(exc)
    return text[:DETAIL_CHARS]


def is_validation(status: int, text: str) -> bool:
    """A 5xx that is the server refusing this request's shape: the same request fails
    the same way every time (llama-cpp-python answers a bad field with a 500)."""
    return status >= 500 and bool(_VALIDATION.search(text)) and not _TRANSIENT.search(text)


def fingerprint(status: int, text: str) -> str | None:
    """What makes two 5xx answers the same answer; None for the wording of overload and
    outages, which may be gone on the next try however often it repeats."""
    if status < 500 or _TRANSIENT.search(text):
        return None
    return f"{status} {' '.join(text.split())}"


def context_overflow(codes: set[str], text: str, body: Any) -> tuple[int | None, int | None] | None:
    """(limit, requested) when the answer says the request is longer than the context
    window (either may be None when unsaid); None when it says something else."""
    if not (codes & _CONTEXT_CODES or _CONTEXT_WORDS.search(text)):
        return None
    inner = inner_error(body)
    if isinstance(inner, dict) and isinstance(inner.get("n_ctx"), int):
        requested = inner.get("n_prompt_tokens")
        return inner["n_ctx"], requested if isinstance(requested, int) else None
    for pattern, limit, requested in _CONTEXT_NUMBERS:
        match = pattern.search(text)
        if match:
            return int(match[limit]), int(match[requested])
    return None, None


def _pydantic_first(dump: str) -> str:
    """The first failing field of a pydantic dump and what was wrong, passing over the
    union members whose only fault is another role (`literal_error`): they are noise."""
    pairs: list[tuple[str, str]] = []
    lines = dump.splitlines()
    for where, what in itertools.pairwise(lines):
        if where and not where[0].isspace() and what.startswith("  ") and "[type=" in what:
            pairs.append((where.strip(), what.strip()))
    if not pairs:
        return "(no field named)"
    where, what = next((p for p in pairs if "type=literal_error" not in p[1]), pairs[0])
    return f"{where}: {_TYPE_TAIL.sub('', what)}"


def _fastapi_detail(detail_value: Any) -> str:
    if isinstance(detail_value, list) and detail_value and isinstance(detail_value[0], dict):
        first = detail_value[0]
        loc = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        more = f" (and {len(detail_value) - 1} more)" if len(detail_value) > 1 else ""
        return f"{loc}: {first.get('msg', 'invalid')}{more}"
    return str(detail_value)
