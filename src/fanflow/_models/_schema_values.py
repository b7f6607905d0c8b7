"""Values made from a JSON Schema: the `test` model's answers and the estimator's guesses.

One walker knows the schema keywords (local `$ref`, `allOf`/`anyOf`/`oneOf`/`not`,
`if`/`then`/`else`, bounds, lengths, `pattern`, `format`, object and array
shapes); a `Choices` strategy makes the free decisions (which number in a range,
how many list items, what text in a string). `Seeded` decides from a hash, so
the same seed gives the same value; the estimator's `Spread` decides from its
stated assumptions.

Every value is validated against the schema before it is returned. A schema the
walker cannot satisfy raises `Unsatisfiable` naming the keyword, never a wrong
value. Only local (`#...`) references are followed, and nothing is fetched.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Sequence
from typing import Any, Protocol

from ._schema_shapes import bound, implied_type, item_schemas, merge, with_dependents
from ._schema_strings import format_value, pattern_value

DEEP = 8
"""Past this nesting, lists get only their minimum and objects only required keys,
so recursive schemas (a tree whose children are trees) end."""

_MAX_DEPTH = 64


class Unsatisfiable(Exception):
    """The walker found no value for a schema; `keyword` is the one it could not meet."""

    def __init__(self, keyword: str, where: str, why: str = "") -> None:
        self.keyword, self.where = keyword, where or "the answer"
        super().__init__(
            f"no value satisfies `{keyword}` at {self.where}" + (f" ({why})" if why else "")
        )


class Choices(Protocol):
    """The free decisions a schema leaves open. `key` is the value's path, e.g. `a.b[0]`."""

    def fraction(self, key: str) -> float:
        """A number in [0, 1): where in an allowed range, or which option."""

    def items(self, key: str, low: int, high: int | None) -> int:
        """How many items a list has, within [low, high]."""

    def text(self, key: str) -> str:
        """A free string (no pattern or format); lengths are fitted afterwards."""


class Seeded:
    """Decisions from a hash of `seed` and the path: the same seed, the same value.

    Lists get their minimum plus 0 or 1 items, half and half, which matches the
    estimator's default assumption of 0.5 extra items per list."""

    def __init__(self, seed: str) -> None:
        self.seed = seed

    def _hash(self, key: str) -> str:
        return hashlib.sha256(f"{self.seed}/{key}".encode()).hexdigest()

    def fraction(self, key: str) -> float:
        return int(self._hash(key)[:13], 16) / 16**13

    def items(self, key: str, low: int, high: int | None) -> int:
        count = low + int(self._hash(f"{key}#n")[0], 16) % 2
        return count if high is None else min(count, high)

    def text(self, key: str) -> str:
        return f"test-{self._hash(key)[:8]}"


def value_for(schema: Any, choices: Choices | str, files: Sequence[str] = ()) -> Any:
    """A value valid under `schema`, decided by `choices` (a `Choices`, or a seed string).

    A free string field named like a file or path (`file`, `source_path`) cites one
    of `files` (those the agent read), so prompts built from the answer (a reviewer
    told to check that file) name a real file, as a real model's would.
    """
    if isinstance(choices, str):
        choices = Seeded(choices)
    if schema is True or schema == {}:
        return choices.text("")
    if not isinstance(schema, dict):
        raise Unsatisfiable("false" if schema is False else "type", "", "not a schema object")
    walker = _Walker(schema, choices, list(files))
    value = walker.value(schema, "", 0)
    walker.require(value, schema, "")
    return value


@functools.lru_cache(maxsize=256)
def _validator(root_json: str) -> Any:
    import jsonschema
    import referencing

    root = json.loads(root_json)
    cls = jsonschema.validators.validator_for(root)
    return cls(root, registry=referencing.Registry())  # local refs only: nothing is retrieved


class _Walker:
    def __init__(self, root: dict[str, Any], choices: Choices, files: list[str]) -> None:
        self.root, self.choices, self.files = root, choices, files
        self.validator = _validator(json.dumps(root, sort_keys=True, default=repr))

    # -- checking ----------------------------------------------------------------------
    def valid(self, value: Any, schema: Any) -> bool:
        import referencing.exceptions

        try:
            return self.validator.evolve(schema=schema).is_valid(value)
        except referencing.exceptions.Unresolvable as exc:
            raise Unsatisfiable("$ref", "", f"cannot resolve {exc.ref!r}") from None

    def require(self, value: Any, schema: Any, where: str) -> None:
        from jsonschema.exceptions import best_match

        error = best_match(self.validator.evolve(schema=schema).iter_errors(value))
        if error is not None:
            path = where + "".join(
                f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path
            )
            raise Unsatisfiable(str(error.validator), path.lstrip("."), error.message[:120])

    # -- dispatch ----------------------------------------------------------------------
    def value(self, schema: Any, key: str, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise Unsatisfiable("$ref", key, "the schema nests without end")
        if schema is True or schema is None:
            return self.choices.text(key)
        if schema is False:
            raise Unsatisfiable("false", key, "the schema allows nothing here")
        schema = self.resolved(schema, key)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return self.enum(schema, key)
        for keyword in ("allOf", "anyOf", "oneOf", "if", "not"):
            if keyword in schema:
                return getattr(self, "_" + keyword.lower())(schema, key, depth)
        return self.typed(schema, key, depth)

    def resolved(self, schema: dict[str, Any], key: str) -> dict[str, Any]:
        """`schema` with a local `$ref` replaced by its target (sibling keywords kept)."""
        seen = 0
        while isinstance(schema.get("$ref"), str):
            ref, seen = schema["$ref"], seen + 1
            if not ref.startswith("#") or seen > _MAX_DEPTH:
                raise Unsatisfiable("$ref", key, f"only local #/ references resolve, not {ref!r}")
            target: Any = self.root
            for part in ref[1:].strip("/").split("/"):
                if part:
                    part = part.replace("~1", "/").replace("~0", "~")
                    if not isinstance(target, dict) or part not in target:
                        raise Unsatisfiable("$ref", key, f"{ref!r} points nowhere")
                    target = target[part]
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = merge(target if isinstance(target, dict) else {}, rest)
        return schema

    def enum(self, schema: dict[str, Any], key: str) -> Any:
        options = schema["enum"]
        start = int(self.choices.fraction(f"{key}#enum") * len(options)) if options else 0
        for i in range(len(options)):
            option = options[(start + i) % len(options)]
            if self.valid(option, schema):
                return option
        raise Unsatisfiable("enum", key, "no listed value meets the other keywords")

    # -- combinators -------------------------------------------------------------------
    def _allof(self, schema: dict[str, Any], key: str, depth: int) -> Any:
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            merged = merge(merged, self.resolved(part, key) if isinstance(part, dict) else {})
        return self.value(merged, key, depth + 1)

    def _anyof(self, schema: dict[str, Any], key: str, depth: int) -> Any:
        return self.first_branch(schema, "anyOf", key, depth)

    def _oneof(self, schema: dict[str, Any], key: str, depth: int) -> Any:
        return self.first_branch(schema, "oneOf", key, depth)

    def first_branch(self, schema: dict[str, Any], keyword: str, key: str, depth: int) -> Any:
        """The first branch (from a seeded start) whose value meets the whole schema;
        for oneOf that includes matching no other branch."""
        base = {k: v for k, v in schema.items() if k != keyword}
        branches = schema[keyword]
        start = int(self.choices.fraction(f"{key}#{keyword}") * len(branches)) if branches else 0
        for i in range(len(branches)):
            branch = branches[(start + i) % len(branches)]
            try:
                value = self.value(merge(base, self.resolved_any(branch, key)), key, depth + 1)
            except Unsatisfiable:
                continue
            if self.valid(value, schema):
                return value
        raise Unsatisfiable(keyword, key, "no branch gave a value the schema accepts")

    def _if(self, schema: dict[str, Any], key: str, depth: int) -> Any:
        base = {k: v for k, v in schema.items() if k not in ("if", "then", "else")}
        condition = self.resolved_any(schema["if"], key)
        options = [merge(merge(base, condition), self.resolved_any(schema.get("then"), key))]
        options.append(merge(base, self.resolved_any(schema.get("else"), key)))
        for option in options:
            try:
                value = self.value(option, key, depth + 1)
            except Unsatisfiable:
                continue
            if self.valid(value, schema):
                return value
        raise Unsatisfiable("if", key, "neither the then nor the else side could be met")

    def _not(self, schema: dict[str, Any], key: str, depth: int) -> Any:
        rest = {k: v for k, v in schema.items() if k != "not"}
        for attempt in range(24):  # other choices for the rest, until one misses `not`
            value = self.value(rest, key + (f"#not{attempt}" if attempt else ""), depth + 1)
            if self.valid(value, schema):
                return value
        raise Unsatisfiable("not", key, "every value made for the rest matches `not`")

    def resolved_any(self, schema: Any, key: str) -> dict[str, Any]:
        if schema is False:
            return {"not": {}}
        return self.resolved(schema, key) if isinstance(schema, dict) else {}

    # -- types -------------------------------------------------------------------------
    def typed(self, schema: dict[str, Any], key: str, depth: int) -> Any:
        kinds = schema.get("type", implied_type(schema))
        kinds = [kinds] if isinstance(kinds, str) else list(kinds)
        if not kinds:
            raise Unsatisfiable("type", key, "no type is allowed")
        ordered = [k for k in kinds if k != "null"] + [k for k in kinds if k == "null"]
        last: Unsatisfiable | None = None
        for kind in ordered:
            try:
                value = self.of_type(kind, schema, key, depth)
            except Unsatisfiable as exc:
                last = exc
                continue
            if len(ordered) == 1 or self.valid(value, schema):
                return value
        raise last or Unsatisfiable("type", key, "no allowed type gave a valid value")

    def of_type(self, kind: str, schema: dict[str, Any], key: str, depth: int) -> Any:
        if kind == "object":
            return self.object(schema, key, depth)
        if kind == "array":
            return self.array(schema, key, depth)
        if kind in ("number", "integer"):
            return self.number(schema, key, kind == "integer")
        if kind == "boolean":
            return self.choices.fraction(f"{key}#bool") < 0.5
        if kind == "null":
            return None
        if kind == "string":
            return self.string(schema, key)
        raise Unsatisfiable("type", key, f"unknown type {kind!r}")

    def object(self, schema: dict[str, Any], key: str, depth: int) -> dict[str, Any]:
        props = schema.get("properties") or {}
        required = list(dict.fromkeys(schema.get("required") or []))
        names = required + [n for n in props if n not in required and depth < DEEP]
        most = schema.get("maxProperties")
        if most is not None:
            if len(required) > most:
                raise Unsatisfiable("maxProperties", key, "more keys are required than allowed")
            names = names[:most]
        names = with_dependents(names, schema)
        extra = 0
        while len(names) < schema.get("minProperties", 0):
            names.append(self.extra_name(schema, key, extra))
            extra += 1
        return {
            name: self.value(self.property_schema(schema, name, key), _join(key, name), depth + 1)
            for name in names
        }

    def property_schema(self, schema: dict[str, Any], name: str, key: str) -> Any:
        import re

        parts = [
            s for p, s in (schema.get("patternProperties") or {}).items() if re.search(p, name)
        ]
        props = schema.get("properties") or {}
        if name in props:
            parts.insert(0, props[name])
        elif not parts:
            extra = schema.get("additionalProperties", {})
            if extra is False:
                raise Unsatisfiable("additionalProperties", _join(key, name), "key not allowed")
            parts.append(extra if isinstance(extra, dict) else {})
        if any(p is False for p in parts):
            raise Unsatisfiable("false", _join(key, name), "the key's schema allows nothing")
        return parts[0] if len(parts) == 1 else {"allOf": parts}

    def extra_name(self, schema: dict[str, Any], key: str, n: int) -> str:
        """A key beyond the declared properties, for minProperties."""
        if schema.get("additionalProperties", {}) is not False:
            return f"extra_{n + 1}"
        for pattern in schema.get("patternProperties") or {}:
            return pattern_value(pattern, n, 0, None, _join(key, "(key)"))
        raise Unsatisfiable("minProperties", key, "too few allowed keys")

    def array(self, schema: dict[str, Any], key: str, depth: int) -> list[Any]:
        prefix, rest = item_schemas(schema)
        low, high = schema.get("minItems", 0), schema.get("maxItems")
        contains = schema.get("contains")
        need = schema.get("minContains", 1) if contains is not None else 0
        low = max(low, need)
        if high is not None and low > high:
            raise Unsatisfiable("maxItems", key, "minItems or minContains is above maxItems")
        count = self.choices.items(key, low, high) if depth < DEEP else low
        if rest is False:
            count = min(count, len(prefix))
            if count < low:
                raise Unsatisfiable("items", key, "fewer items are allowed than required")
        out: list[Any] = []
        for i in range(count):
            sub = prefix[i] if i < len(prefix) else rest
            if i < need:
                sub = {"allOf": [sub if isinstance(sub, dict) else {}, contains]}
            try:
                out.append(self.item(sub, f"{key}[{i}]", depth, out, schema.get("uniqueItems")))
            except Unsatisfiable:
                if i < low or not schema.get("uniqueItems"):
                    raise
                break  # past the minimum: a shorter list of distinct items is valid
        return out

    def item(self, sub: Any, key: str, depth: int, before: list[Any], unique: bool) -> Any:
        for attempt in range(24 if unique else 1):
            value = self.value(sub, key + (f"#{attempt}" if attempt else ""), depth + 1)
            if not unique or value not in before:
                return value
        raise Unsatisfiable("uniqueItems", key, "not enough distinct values")

    def number(self, schema: dict[str, Any], key: str, integer: bool) -> int | float:
        low, low_open = bound(schema, "minimum", "exclusiveMinimum", max)
        high, high_open = bound(schema, "maximum", "exclusiveMaximum", min)
        span = 10 if integer else 1
        low = low if low is not None else (high - span if high is not None else 0)
        high = high if high is not None else low + span
        step = schema.get("multipleOf")
        where = self.choices.fraction(f"{key}#n")
        if integer or step:
            return self.stepped(schema, key, low, high, step or 1, integer, where)
        value = round(low + (high - low) * where, 3)
        if (value <= low if low_open else value < low) or (
            value >= high if high_open else value > high
        ):
            value = (low + high) / 2
        if not self.valid(value, schema):
            raise Unsatisfiable("exclusiveMinimum" if low_open else "maximum", key, "empty range")
        return value

    def stepped(
        self, schema: dict[str, Any], key: str, low: float, high: float, step: float,
        integer: bool, where: float,
    ) -> int | float:  # fmt: skip
        first, last = math.ceil(low / step), math.floor(high / step)
        if first > last:
            raise Unsatisfiable("multipleOf" if step != 1 else "maximum", key, "empty range")
        pick = first + min(int(where * (last - first + 1)), last - first)
        near = range(max(first, pick - 32), min(last, pick + 32) + 1)
        for k in sorted(near, key=lambda k: abs(k - pick)):
            value: int | float = k * step
            value = int(value) if integer or float(value).is_integer() else value
            if self.valid(value, schema):
                return value
        raise Unsatisfiable("multipleOf", key, "no multiple in range validates")

    def string(self, schema: dict[str, Any], key: str) -> str:
        low, high = schema.get("minLength", 0), schema.get("maxLength")
        if high is not None and low > high:
            raise Unsatisfiable("maxLength", key, "minLength is above maxLength")
        if "pattern" in schema:
            start = int(self.choices.fraction(f"{key}#re") * 32)
            return pattern_value(schema["pattern"], start, low, high, key)
        if "format" in schema:
            made = format_value(schema["format"], self.choices.fraction(f"{key}#fmt"))
            if made is not None:
                if len(made) < low or (high is not None and len(made) > high):
                    raise Unsatisfiable("format", key, "its values do not fit the lengths")
                return made
        name = key.rsplit(".", 1)[-1].split("[", 1)[0].lower()
        if self.files and ("file" in name or "path" in name):
            cited = self.files[int(self.choices.fraction(f"{key}#file") * len(self.files))]
            if low <= len(cited) <= (high or len(cited)):
                return cited
        text = self.choices.text(key).ljust(low, "x")
        return text[:high] if high is not None else text


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name
