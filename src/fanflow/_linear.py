"""`grep`'s regular expressions, compiled with RE2 so that matching takes linear time.

Patterns come from scripts and models, so they are untrusted. Python's `re`
backtracks: `(a+)+$`, `((a)+)+$`, `(a|a)+$` and `(a?){25}a{25}` take
exponential time on a line of `a`s, and no shape check catches them all. RE2
never backtracks. What it cannot run (backreferences, lookaround, atomic
groups, possessive repeats, conditionals) is refused with one line naming the
feature, never handed to `re`.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import re2

from ._paths import ToolError

PATTERN_LIMIT = 2_000
"""Characters of one grep pattern."""
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # the error says it all; RE2 would also print it to stderr
_OPTIONS.max_mem = 32 << 20  # a huge counted repeat fails to compile instead of using GBs
# (feature, how to spot it in the pattern): only consulted once RE2 has refused it
_UNSUPPORTED = (
    ("backreferences", re.compile(r"\\[1-9]|\(\?P=|\\g<|\\k<")),
    ("lookbehind", re.compile(r"\(\?<[=!]")),
    ("lookahead", re.compile(r"\(\?[=!]")),
    ("atomic groups", re.compile(r"\(\?>")),
    ("conditionals", re.compile(r"\(\?\(")),
    ("possessive repeats", re.compile(r"[*+?}]\+")),
    (r"\Z (write \z)", re.compile(r"\\Z")),
)


def compile_grep(pattern: object) -> Any:
    """An RE2 regex for `pattern`, or a `ToolError` that says why it cannot be one."""
    if not isinstance(pattern, str):
        raise ToolError("grep pattern must be a string", "TypeError")
    return _compiled(pattern)


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> Any:
    if len(pattern) > PATTERN_LIMIT:
        raise ToolError(
            f"grep pattern is {len(pattern):,} characters; the limit is {PATTERN_LIMIT:,}"
        )
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        why = exc.args[0] if exc.args else "invalid"
        if isinstance(why, bytes | bytearray):
            why = why.decode(errors="replace")
        shown = pattern[:80]
        for feature, spot in _UNSUPPORTED:
            if spot.search(pattern):
                raise ToolError(
                    f"bad regular expression {shown!r}: grep matches in linear time (RE2), "
                    f"which has no {feature}; rewrite the pattern without them"
                ) from None
        raise ToolError(f"bad regular expression {shown!r}: {why}") from None
