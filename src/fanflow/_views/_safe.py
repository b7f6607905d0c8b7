"""Untrusted text on a terminal: shown as text, never as markup or control codes.

Results, errors, phase names, labels, workflow names and log lines come from
scripts and models (untrusted, docs/SECURITY.md). Two things could go wrong
when they are printed:

- Rich markup: `[/x]` raised MarkupError (crashing `run`, `show`, `ls` for the
  whole journal); `[bold]` or `[link=...]` restyled the output. A `Text` is
  never parsed as markup, so every view passes untrusted text as `plain(...)`.
- Control sequences: ESC (ANSI colours, OSC 52 clipboard writes, OSC 8
  hyperlinks), other C0 and C1 controls, `\\r` overwrites, and the bidi
  overrides (U+202E) that make text read in another order. `visible` replaces
  each such character by its `\\xNN` / `\\uNNNN` escape, so the text is still
  all there, just inert.
"""

from __future__ import annotations

import re
from typing import Any

from rich.text import Text

# C0 but tab and newline, DEL, C1, and the Unicode format characters that reorder
# or hide text: ALM, LRM/RLM, line/paragraph separators, the bidi embeddings,
# overrides and isolates
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: Any) -> str:
    """`text` (made a str) with every control or bidi character shown as its escape."""
    return _UNSAFE.sub(_escape, text if isinstance(text, str) else str(text))


def plain(text: Any, style: str = "") -> Text:
    """Untrusted text as a Rich renderable: no markup, no control codes."""
    return Text(visible("" if text is None else text), style=style)
