"""How big an untrusted value is, and text cut to a cap, without recursion or copies.

Values from a script or a model are measured before they are stored or
passed on, so a cap is checked before the data is journaled or copied. The
walk is flat (a stack, not recursion) and stops as soon as the count passes
the limit, so measuring a huge value costs no more than the limit.
"""

from __future__ import annotations

from typing import Any


def clip(text: str, limit: int) -> str:
    """`text`, cut at `limit` characters with a marker saying how much was cut."""
    if len(text) <= limit:
        return text
    return text[:limit] + f" [... {len(text) - limit:,} more characters cut]"


def json_chars(value: Any, limit: int) -> int:
    """About how many characters `value` takes as JSON; counting stops once past `limit`.

    Strings count their length plus quotes, containers a separator per item;
    escapes are not counted, so the figure is a floor, never an overcount.
    """
    total = 0
    stack = [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item) + 2
        elif isinstance(item, dict):
            total += 2 + 2 * len(item)
            if total <= limit:  # a container is pushed only when it can still fit
                stack.extend(item.keys())
                stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += 2 + len(item)
            if total <= limit:
                stack.extend(item)
        elif isinstance(item, bool) or item is None:
            total += 5
        elif isinstance(item, int):
            total += max(1, int(item.bit_length() * 0.30103) + 1)
        else:
            total += 24  # a float or an object stored by its repr
    return total
