"""Reading a schema's shape: merged constraints, bounds, item schemas over drafts 4 to 2020-12."""

from __future__ import annotations

from typing import Any

_LOWER = ("minimum", "minLength", "minItems", "minProperties", "minContains")
_UPPER = ("maximum", "maxLength", "maxItems", "maxProperties", "maxContains")


def merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Both schemas' constraints in one (the tighter bound, both lists of required keys)."""
    out = dict(a)
    for k, v in b.items():
        if k not in out or out[k] == v:
            out[k] = v
        elif k == "properties":
            out[k] = {
                n: ({"allOf": [out[k][n], s]} if n in out[k] else s) for n, s in v.items()
            } | {n: s for n, s in out[k].items() if n not in v}
        elif k == "required":
            out[k] = list(dict.fromkeys([*out[k], *v]))
        elif k in ("allOf", "anyOf", "oneOf"):
            out["allOf"] = [*out.get("allOf", []), {k: v}] if k != "allOf" else [*out[k], *v]
        elif k == "type":
            mine = {out[k]} if isinstance(out[k], str) else set(out[k])
            theirs = {v} if isinstance(v, str) else set(v)
            both = mine & theirs or ({"number"} & mine and {"integer"} & theirs and {"integer"})
            out[k] = sorted(both) if both else []
        elif k == "enum":
            out[k] = [x for x in out[k] if x in v]
        elif k in _LOWER and _numbers(out[k], v):
            out[k] = max(out[k], v)
        elif k in _UPPER and _numbers(out[k], v):
            out[k] = min(out[k], v)
        else:  # a clash the walker cannot reconcile: the later one wins, validation decides
            out[k] = v
    return out


def _numbers(*values: Any) -> bool:
    return all(isinstance(x, int | float) and not isinstance(x, bool) for x in values)


def implied_type(schema: dict[str, Any]) -> str:
    if {"properties", "required", "additionalProperties", "minProperties"} & schema.keys():
        return "object"
    if {"items", "prefixItems", "minItems", "contains"} & schema.keys():
        return "array"
    if {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"} & set(schema):
        return "number"
    return "string"


def bound(schema: dict[str, Any], inclusive: str, exclusive: str, tighter: Any) -> Any:
    """(bound, open) from `minimum`/`exclusiveMinimum` (draft 4's boolean form too)."""
    closed, opened = schema.get(inclusive), schema.get(exclusive)
    if isinstance(opened, bool):
        return closed, opened and closed is not None
    if opened is None:
        return closed, False
    if closed is None or tighter(closed, opened) == opened:
        return opened, True
    return closed, False


def item_schemas(schema: dict[str, Any]) -> tuple[list[Any], Any]:
    """(schemas of the first items, schema of the rest) over drafts 4 to 2020-12."""
    items = schema.get("items", {})
    if "prefixItems" in schema:
        return list(schema["prefixItems"]), items
    if isinstance(items, list):
        return items, schema.get("additionalItems", {})
    return [], items


def with_dependents(names: list[str], schema: dict[str, Any]) -> list[str]:
    """`names` plus the keys `dependentRequired` (or draft 7 `dependencies`) asks for."""
    rules = dict(schema.get("dependentRequired") or {})
    rules |= {k: v for k, v in (schema.get("dependencies") or {}).items() if isinstance(v, list)}
    out = list(names)
    for name in out:  # grows while iterating: dependents of dependents count too
        out += [d for d in rules.get(name, []) if d not in out]
    return out
