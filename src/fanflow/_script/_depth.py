"""Where a script too deep for the parser is deepest, found without recursion.

CPython's parser builds its tree recursively, so a valid script such as
`1+1+...` ten thousand times, a long `elif` chain or deeply nested brackets
raises `RecursionError` or `MemoryError` instead of a `SyntaxError` with a
line. The tokenizer is a flat loop, so it can still say which statement to
split: the logical line with the most tokens, or the `if` that opens the
longest `elif` chain (each `elif` nests the next one inside it).
"""

from __future__ import annotations

import ast
import io
import tokenize

TOO_DEEP = (
    "script is nested too deeply to check; split the expression, the elif chain "
    "or the nested calls and brackets into smaller statements"
)
_SKIP = frozenset(
    {tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING}
)


def deepest_line(script: str) -> int | None:
    """The 1-based line of the statement most likely to be too deep; None if unknown."""
    best_line, best_score = None, 0
    line_start, count = None, 0
    chains: dict[int, list[int]] = {}  # indentation column -> [if line, elif count]
    try:
        for token in tokenize.generate_tokens(io.StringIO(script).readline):
            if token.type in _SKIP:
                continue
            if token.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
                if line_start is not None and count > best_score:
                    best_line, best_score = line_start, count
                line_start, count = None, 0
                continue
            if line_start is None:
                line_start = token.start[0]
                _chain(chains, token, line_start)
                chain = chains.get(token.start[1])
                if chain is not None and chain[1] > best_score:
                    best_line, best_score = chain[0], chain[1]
            count += 1
    except (tokenize.TokenError, SyntaxError):
        pass
    return best_line


def _chain(chains: dict[int, list[int]], token: tokenize.TokenInfo, line: int) -> None:
    """Track `if`/`elif` chains by the column the statement starts at."""
    column = token.start[1]
    if token.type == tokenize.NAME and token.string == "if":
        chains[column] = [line, 0]
    elif token.type == tokenize.NAME and token.string == "elif" and column in chains:
        chains[column][1] += 1
    elif not (token.type == tokenize.NAME and token.string == "else"):
        chains.pop(column, None)


MAX_DISPLAY_NESTING = 32
"""Brackets nested in brackets the type check accepts: it takes seconds at 50 nested
lists and minutes at 150 (measured), while data that deep is built in a loop anyway."""

_DISPLAYS = (ast.List, ast.Tuple, ast.Set, ast.Dict, ast.ListComp, ast.SetComp, ast.DictComp)


def deepest_display(tree: ast.AST) -> tuple[int, int | None]:
    """(how deep list/tuple/set/dict displays nest, the line of the deepest), by a flat walk."""
    best, line = 0, None
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, _DISPLAYS):
            depth += 1
            if depth > best:
                best, line = depth, getattr(node, "lineno", None)
        stack.extend((child, depth) for child in ast.iter_child_nodes(node))
    return best, line
