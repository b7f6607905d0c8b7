"""A JSON value that validates against a schema, derived deterministically from a seed."""

from __future__ import annotations

import hashlib
from typing import Any


def value_for(schema: Any, seed: str) -> Any:
    """A value valid under `schema` (common JSON Schema keywords), the same for the same seed."""
    return _value(schema, seed, schema, 0)


def _pick(seed: str, key: str, n: int) -> int:
    return int(hashlib.sha256(f"{seed}/{key}".encode()).hexdigest()[:8], 16) % max(n, 1)


def _value(schema: Any, seed: str, root: Any, depth: int) -> Any:
    if not isinstance(schema, dict) or depth > 32:
        return None
    if "$ref" in schema and isinstance(schema["$ref"], str) and schema["$ref"].startswith("#"):
        target: Any = root
        for part in schema["$ref"].lstrip("#").strip("/").split("/"):
            if part:
                target = target.get(part.replace("~1", "/").replace("~0", "~"), {})
        return _value(target, seed, root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][_pick(seed, "enum", len(schema["enum"]))]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return _value(schema[key][0], seed, root, depth + 1)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(part)
        return _value(merged, seed, root, depth + 1)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: _value(s, f"{seed}.{k}", root, depth + 1) for k, s in props.items()}
    if kind == "array":
        count = max(int(schema.get("minItems", 0)), 1 if depth < 4 else 0)
        count = min(count, int(schema.get("maxItems", count)))
        items = schema.get("items", {})
        return [_value(items, f"{seed}[{i}]", root, depth + 1) for i in range(count)]
    if kind in ("number", "integer"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        high = schema.get("maximum", schema.get("exclusiveMaximum", low + 10))
        value = low + (high - low) * (_pick(seed, "n", 1000) / 1000)
        return int(value) if kind == "integer" else round(value, 3)
    if kind == "boolean":
        return _pick(seed, "b", 2) == 1
    if kind == "null":
        return None
    text = f"test-{seed[:8]}"
    low, high = int(schema.get("minLength", 0)), schema.get("maxLength")
    text = text.ljust(low, "x")
    return text[:high] if high is not None else text
