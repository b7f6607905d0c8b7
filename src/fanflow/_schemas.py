"""JSON Schemas given to `spawn(schema=...)`: checked once, validators built once.

A fan-out passes the same schema dict to hundreds of spawns; checking it
against the metaschema costs milliseconds, and `jsonschema.validate` repeats
that check on every call. Both are keyed by the schema's canonical JSON.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match


def check(schema: dict[str, Any]) -> None:
    """Raise `jsonschema.SchemaError` if `schema` is not valid JSON Schema."""
    _validator(_canonical(schema))


def first_error(value: Any, schema: dict[str, Any]) -> jsonschema.ValidationError | None:
    """The most relevant way `value` breaks `schema` (as `jsonschema.validate` picks), or None."""
    return best_match(_validator(_canonical(schema)).iter_errors(value))


def _canonical(schema: dict[str, Any]) -> str:
    return json.dumps(schema, sort_keys=True, default=repr)


@functools.lru_cache(maxsize=256)
def _validator(schema_json: str) -> Any:
    schema = json.loads(schema_json)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)
