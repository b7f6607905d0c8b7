"""Every JSON Schema fanflow validates: sealed, matched in linear time, built once.

Schemas come from scripts and agent definitions, which are untrusted (see
docs/SECURITY.md), so three things jsonschema would do by default are shut:

- References: only `#...` references inside the schema itself resolve. The
  check refuses any other `$ref`/`$dynamicRef`/`$recursiveRef`, and the
  validator's `referencing.Registry` has a `retrieve` that refuses every URI,
  so no `$id` trick can make one resolve either: nothing is read from disk or
  fetched, and no outside file's text can reach an error message.
- Dialects: `$schema` must name a draft jsonschema knows; an unknown URL is
  refused rather than guessed at (and never fetched).
- Regular expressions: `pattern`, `patternProperties` (and the
  `additionalProperties` that depends on it) are matched with RE2, which runs in
  linear time, instead of Python's backtracking `re` (`^(a+)+$` stalled the run's
  event loop). A pattern RE2 cannot compile is refused at the check.

A fan-out passes the same schema dict to hundreds of spawns; checking it
against the metaschema costs milliseconds, so validators are cached by the
schema's canonical JSON.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import re2
import referencing
import referencing.exceptions
import referencing.jsonschema
from jsonschema import _keywords
from jsonschema.exceptions import ValidationError, best_match

_REF_KEYWORDS = ("$ref", "$dynamicRef", "$recursiveRef")
# values that are data, not subschemas: a "$ref" inside them is never resolved
_DATA_KEYWORDS = ("const", "enum", "default", "examples")
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # RE2 logs parse failures to stderr; the message says it all


def check(schema: dict[str, Any]) -> None:
    """Raise `jsonschema.SchemaError` if `schema` is not valid, sealed JSON Schema."""
    _validator(_canonical(schema))


def first_error(value: Any, schema: dict[str, Any]) -> jsonschema.ValidationError | None:
    """The most relevant way `value` breaks `schema` (as `jsonschema.validate` picks), or None."""
    validator = _validator(_canonical(schema))
    try:
        return best_match(validator.iter_errors(value))
    except referencing.exceptions.Unresolvable as exc:
        # a local pointer to nowhere (`#/$defs/missing`): the schema's fault, said plainly
        raise jsonschema.SchemaError(f"reference {exc.ref!r} does not resolve") from None


def _canonical(schema: dict[str, Any]) -> str:
    return json.dumps(schema, sort_keys=True, default=repr)


@functools.lru_cache(maxsize=256)
def _validator(schema_json: str) -> Any:
    schema = json.loads(schema_json)
    cls = _dialect(schema)
    cls.check_schema(schema)
    _check_sealed(schema)
    return _linear(cls)(schema, registry=_SEALED)


def _dialect(schema: Any) -> type:
    if isinstance(schema, dict) and "$schema" in schema:
        cls = jsonschema.validators.validator_for(schema, default=None)
        if cls is None:
            raise jsonschema.SchemaError(
                f"$schema {schema['$schema']!r} is not a JSON Schema draft fanflow knows; "
                "name draft 4, 6, 7, 2019-09 or 2020-12, or leave $schema out"
            )
        return cls
    return jsonschema.validators.validator_for(schema)


def _refuse_retrieval(uri: str) -> referencing.Resource:
    raise referencing.exceptions.NoSuchResource(ref=uri)


_SEALED: referencing.Registry = referencing.Registry(retrieve=_refuse_retrieval)  # type: ignore[call-arg]


def _check_sealed(schema: Any) -> None:
    """Refuse outside references, unknown nested dialects and patterns RE2 cannot run."""
    saw: set[str] = set()
    for key, value in _keywords_in(schema):
        saw.add(key)
        if key in _REF_KEYWORDS and isinstance(value, str) and not value.startswith("#"):
            raise jsonschema.SchemaError(
                f"{key} {value!r} points outside the schema; only references inside it "
                "('#/$defs/NAME') are allowed: put the referenced schema under $defs"
            )
        if key == "$schema" and isinstance(value, str):
            _dialect({"$schema": value})
        if key == "pattern" and isinstance(value, str):
            _compiled(value)
        if key == "patternProperties" and isinstance(value, dict):
            for pattern in value:
                _compiled(pattern)
    if "patternProperties" in saw and "unevaluatedProperties" in saw:
        raise jsonschema.SchemaError(
            "unevaluatedProperties cannot be combined with patternProperties in fanflow "
            "(patterns are matched with RE2); use additionalProperties instead"
        )


def _keywords_in(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, list):
        for item in node:
            yield from _keywords_in(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            if key not in _DATA_KEYWORDS:
                yield from _keywords_in(value)


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> Any:
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as exc:
        why = exc.args[0].decode(errors="replace") if exc.args else "invalid"
        if isinstance(why, bytes | bytearray):  # pragma: no cover - older bindings
            why = why.decode(errors="replace")
        raise jsonschema.SchemaError(
            f"pattern {pattern!r} cannot be used ({why}); fanflow matches patterns in "
            "linear time with RE2, which has no backreferences or lookaround"
        ) from None


def _search(pattern: str, text: str) -> bool:
    return _compiled(pattern).search(text) is not None


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    if validator.is_type(instance, "string") and not _search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(
    validator: Any, patterns: dict[str, Any], instance: Any, schema: Any
) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if _search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(
    validator: Any, additional: Any, instance: Any, schema: Any
) -> Iterator[Any]:
    if "patternProperties" not in schema or not validator.is_type(instance, "object"):
        # without patterns jsonschema's own keyword uses no regular expression
        yield from _keywords.additionalProperties(validator, additional, instance, schema)
        return
    named = schema.get("properties", {})
    patterns = schema["patternProperties"]
    extras = sorted(
        (k for k in instance if k not in named and not any(_search(p, k) for p in patterns)),
        key=str,
    )
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif not additional and extras:
        verb = "does" if len(extras) == 1 else "do"
        joined = ", ".join(repr(each) for each in extras)
        listed = ", ".join(repr(each) for each in sorted(patterns))
        yield ValidationError(f"{joined} {verb} not match any of the regexes: {listed}")


@functools.cache
def _linear(cls: type) -> type:
    """`cls` with its regular-expression keywords matched by RE2."""
    return jsonschema.validators.extend(
        cls,
        {
            "pattern": _pattern,
            "patternProperties": _pattern_properties,
            "additionalProperties": _additional_properties,
        },
    )
