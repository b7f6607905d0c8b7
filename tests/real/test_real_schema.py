"""A structured-output agent on a real model: the schema reaches the server as a
grammar (`response_format` json_schema) and the value validates."""

from __future__ import annotations

import json

import jsonschema

SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "maxLength": 40},
        "population": {"type": "integer", "minimum": 0},
        "coastal": {"type": "boolean"},
    },
    "required": ["city", "population", "coastal"],
    "additionalProperties": False,
}

STRUCTURED = f"""
phase("facts")
await spawn("general", "Name one city, its population and whether it is on the coast.",
            tools=[], max_tokens=200, schema={SCHEMA!r})
"""


def test_a_schema_agent_returns_a_value_that_validates(fanflow, recorder):
    done, report = fanflow.run(STRUCTURED)
    assert done.returncode == 0, done.stderr[-2000:]
    assert report["status"] == "succeeded", report["errors"]
    jsonschema.validate(report["result"], SCHEMA)

    # The schema went out as llama.cpp's grammar, not only as prompt text: a 135M
    # model is not trusted to write valid JSON unconstrained.
    first = recorder.chats()[0]
    fmt = first.get("response_format") or {}
    assert fmt.get("type") == "json_schema", sorted(first)
    sent = fmt["json_schema"].get("schema")
    assert json.loads(json.dumps(sent)) == SCHEMA
