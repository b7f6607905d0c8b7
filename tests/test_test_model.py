"""`--model test`: schema'd answers that validate, reads it was told to do, nothing else."""

from __future__ import annotations

import json

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fanflow import ModelError, ModelRequest
from fanflow._models import Message, TestModel, ToolSpec
from fanflow._models._schema_values import Unsatisfiable, value_for
from fanflow.testing import run_script

FINDING = {
    "type": "object",
    "required": ["id", "file", "severity", "confidence", "lines"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "pattern": "^RACE-[0-9]{3}$"},
        "file": {"type": "string", "minLength": 1},
        "severity": {"enum": ["low", "medium", "high"]},
        "confidence": {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
        "lines": {
            "type": "array",
            "minItems": 1,
            "maxItems": 3,
            "uniqueItems": True,
            "items": {"type": "integer", "minimum": 1, "maximum": 5000},
        },
        "fix": {"type": ["string", "null"], "maxLength": 40},
    },
}

NESTED = {  # a deeply nested custom schema: refs, combinators, conditionals, formats
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$defs": {
        "finding": FINDING,
        "reviewer": {
            "type": "object",
            "required": ["email", "since"],
            "properties": {
                "email": {"type": "string", "format": "email"},
                "since": {"type": "string", "format": "date-time"},
                "id": {"type": "string", "format": "uuid"},
            },
        },
        "verdict": {
            "oneOf": [
                {"type": "object", "required": ["kind"], "properties": {"kind": {"const": "ok"}}},
                {
                    "type": "object",
                    "required": ["kind", "refs"],
                    "properties": {
                        "kind": {"const": "refuted"},
                        "refs": {"type": "array", "items": {"type": "string", "format": "uri"}},
                    },
                },
            ]
        },
        "node": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "maxLength": 12},
                "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
            },
        },
    },
    "type": "object",
    "required": ["report", "tree", "meta"],
    "properties": {
        "report": {
            "type": "object",
            "required": ["files"],
            "minProperties": 2,
            "properties": {
                "files": {
                    "type": "array",
                    "minItems": 2,
                    "items": {
                        "allOf": [
                            {"type": "object", "required": ["path"]},
                            {
                                "properties": {
                                    "path": {"type": "string", "pattern": r"^src/[a-z]+\.py$"},
                                    "findings": {
                                        "type": "array",
                                        "minItems": 1,
                                        "items": {"$ref": "#/$defs/finding"},
                                    },
                                    "verdict": {"$ref": "#/$defs/verdict"},
                                }
                            },
                        ]
                    },
                },
                "reviewer": {"$ref": "#/$defs/reviewer"},
            },
        },
        "tree": {"$ref": "#/$defs/node"},
        "meta": {
            "type": "object",
            "properties": {
                "mode": {"enum": ["fast", "deep"]},
                "depth": {"type": "integer", "multipleOf": 5, "minimum": 3, "maximum": 40},
            },
            "required": ["mode"],
            "if": {"properties": {"mode": {"const": "deep"}}},
            "then": {"required": ["depth"]},
            "else": {"not": {"required": ["depth"]}},
            "dependentRequired": {"depth": ["mode"]},
        },
    },
}

SCHEMAS = [
    {"type": "string"},
    {"type": "integer"},
    {"type": "number", "minimum": 5},
    {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.001},
    {"type": "integer", "minimum": -7, "maximum": -3},
    {"type": "integer", "multipleOf": 7, "minimum": 50, "maximum": 60},
    {"type": "number", "multipleOf": 0.25, "minimum": 1, "maximum": 2},
    {"type": "boolean"},
    {"type": "null"},
    {"type": ["null", "integer"]},
    {"enum": [1, "two", None, {"three": 3}]},
    {"const": {"fixed": [1, 2]}},
    {"type": "string", "minLength": 30},
    {"type": "string", "maxLength": 3},
    {"type": "string", "pattern": "^[A-Z]{2}-\\d{4}$"},
    {"type": "string", "pattern": "^(cat|dog)s?$", "maxLength": 3},
    {"type": "string", "format": "date"},
    {"type": "string", "format": "date-time"},
    {"type": "string", "format": "email"},
    {"type": "string", "format": "uri"},
    {"type": "string", "format": "uuid"},
    {"type": "string", "format": "ipv4"},
    {"type": "array", "items": {"type": "integer"}, "minItems": 4, "maxItems": 4},
    {"type": "array", "items": {"enum": ["a", "b", "c"]}, "minItems": 3, "uniqueItems": True},
    {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}], "items": False},
    {"type": "array", "contains": {"const": 42}, "minContains": 2},
    {"type": "object", "additionalProperties": False, "properties": {"a": {"type": "string"}}},
    {"type": "object", "minProperties": 3, "properties": {"a": {"type": "integer"}}},
    {"type": "object", "required": ["a"], "dependentRequired": {"a": ["b"]}},
    {
        "type": "object",
        "patternProperties": {"^x-": {"type": "integer"}},
        "minProperties": 1,
        "additionalProperties": False,
    },
    {"anyOf": [{"type": "string", "maxLength": 0, "minLength": 1}, {"type": "integer"}]},
    {"oneOf": [{"type": "number"}, {"type": "integer"}]},  # only a non-integer number fits
    {"oneOf": [{"type": "string", "maxLength": 5}, {"type": "string", "minLength": 3}]},
    {"allOf": [{"type": "integer", "minimum": 10}, {"maximum": 12}]},
    {"type": "integer", "not": {"const": 0}, "minimum": 0, "maximum": 1},
    {"definitions": {"n": {"type": "integer"}}, "$ref": "#/definitions/n"},
    {"if": {"type": "integer"}, "then": {"minimum": 100}, "else": {"type": "string"}},
    {"type": "object", "properties": {"when": {"type": "string", "format": "time"}}},
    {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "type": "number",
        "minimum": 1,
        "maximum": 2,
        "exclusiveMaximum": True,
    },
    {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "array",
        "items": [{"type": "boolean"}],
        "additionalItems": False,
        "minItems": 1,
    },
    FINDING,
    NESTED,
]


def assert_valid(value, schema):
    cls = jsonschema.validators.validator_for(schema)
    cls(schema, format_checker=cls.FORMAT_CHECKER).validate(value)


@pytest.mark.parametrize("schema", SCHEMAS, ids=[json.dumps(s)[:50] for s in SCHEMAS])
@pytest.mark.parametrize("seed", ["a", "prompt 2", "Read src/x.py"])
def test_every_value_validates(schema, seed):
    assert_valid(value_for(schema, seed), schema)


def test_the_nested_schema_is_met_in_depth_not_trivially():
    value = value_for(NESTED, "nested")
    files = value["report"]["files"]
    assert len(files) >= 2 and all(f["path"].startswith("src/") for f in files)
    assert all(f["findings"][0]["id"].startswith("RACE-") for f in files)
    assert value["meta"]["mode"] != "deep" or value["meta"]["depth"] % 5 == 0


@pytest.mark.parametrize(
    "schema,keyword",
    [
        ({"type": "string", "minLength": 5, "maxLength": 2}, "maxLength"),
        ({"type": "integer", "minimum": 3, "maximum": 2}, "maximum"),
        ({"type": "integer", "multipleOf": 10, "minimum": 1, "maximum": 9}, "multipleOf"),
        ({"allOf": [{"type": "string"}, {"type": "integer"}]}, "type"),
        (
            {"type": "array", "items": {"const": 1}, "minItems": 2, "uniqueItems": True},
            "uniqueItems",
        ),
        ({"$ref": "https://example.com/other.json"}, "$ref"),
        (
            {"type": "object", "required": ["a"], "additionalProperties": False},
            "additionalProperties",
        ),
        ({"oneOf": [{"type": "integer"}, {"type": "integer"}]}, "oneOf"),
        ({"type": "string", "pattern": "^(?=a)b$"}, "pattern"),
    ],
)
def test_a_schema_it_cannot_meet_names_the_keyword(schema, keyword):
    with pytest.raises(Unsatisfiable) as caught:
        value_for(schema, "seed")
    assert caught.value.keyword == keyword


LEAVES = st.sampled_from(SCHEMAS[:40])


def _wrap(children):
    names = st.text("abcdef", min_size=1, max_size=4)
    return st.one_of(
        st.dictionaries(names, children, max_size=4).map(
            lambda p: {"type": "object", "properties": p, "required": sorted(p)[:2]}
        ),
        children.map(lambda s: {"type": "array", "items": s, "maxItems": 3}),
        st.lists(children, min_size=1, max_size=3).map(lambda xs: {"anyOf": xs}),
        st.tuples(children, st.sampled_from([{}, {"type": "object"}, {"type": "array"}])).map(
            lambda pair: {"allOf": list(pair)}
        ),
    )


@settings(max_examples=150, deadline=None)
@given(schema=st.recursive(LEAVES, _wrap, max_leaves=12), seed=st.text(max_size=20))
def test_random_nested_schemas_validate_or_name_what_they_cannot_meet(schema, seed):
    try:
        value = value_for(schema, seed)
    except Unsatisfiable as exc:  # e.g. allOf of an array and a leaf string: no value exists
        assert exc.keyword and str(exc).startswith("no value satisfies")
        return
    assert_valid(value, schema)


def test_same_prompt_same_answer_different_prompt_different_answer():
    schema = {"type": "object", "properties": {"n": {"type": "integer", "maximum": 10**9}}}
    assert value_for(schema, "p1") == value_for(schema, "p1")
    assert len({json.dumps(value_for(schema, f"p{i}")) for i in range(10)}) > 5


def request(prompt, *, tools=(), schema=None, messages=None):
    return ModelRequest(
        system="sys",
        messages=messages or [Message("user", prompt)],
        tools=[ToolSpec(t, t, {"type": "object"}) for t in tools],
        max_tokens=1000,
        schema=schema,
    )


async def test_granted_read_it_reads_the_named_paths_first_and_not_otherwise():
    model = TestModel()
    asked = await model.request(request("Read src/a.py and lib/b.ts.", tools=["read"]))
    assert [(c.name, c.input) for c in asked.tool_calls] == [
        ("read", {"path": "src/a.py"}),
        ("read", {"path": "lib/b.ts"}),
    ]
    assert asked.stop_reason == "tool_use"
    not_granted = await model.request(request("Read src/a.py and lib/b.ts.", tools=["grep"]))
    assert not not_granted.tool_calls and "read no files" in not_granted.text


async def test_an_unmeetable_schema_fails_the_agent_with_one_line():
    schema = {"type": "string", "minLength": 5, "maxLength": 2}
    with pytest.raises(ModelError) as caught:
        await TestModel().request(request("x", schema=schema))
    assert "`maxLength`" in str(caught.value) and "\n" not in str(caught.value)


SCRIPT = """
files = await tools.glob("src/*.py")
AUDIT = {"type": "object", "required": ["file", "findings"], "properties": {
    "file": {"type": "string"}, "findings": {"type": "array", "items": {
        "type": "object", "required": ["line"], "properties": {"line": {"type": "integer"}}}}}}
phase("audit")
audits = await gather([spawn("auditor", f"Read {f} and list bugs.", tools=["read"],
                             schema=AUDIT, label=f) for f in files])
phase("report")
await synthesize(audits, instructions="One report.")
"""


@pytest.fixture
def workspace(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("x = 1\n")
    (tmp_path / "src" / "b.py").write_text("y = 2\n")
    return tmp_path


def test_a_run_on_test_reads_answers_by_schema_and_says_it_is_scripted(workspace):
    report = run_script(SCRIPT, model=TestModel(), workspace=workspace)
    assert report["status"] == "succeeded"
    assert report["model"] == "test" and "scripted, not an LLM" in report["scripted"]
    assert report["agents"] == {"spawned": 3, "succeeded": 3, "failed": 0, "retried": 0}
    assert report["result"].startswith("test model answer") and "read no files" in report["result"]


def test_the_nested_custom_schema_validates_under_test_in_a_run(workspace):
    script = (
        f"SCHEMA = {json.dumps(NESTED)}\nawait spawn('general', 'Read src/a.py', schema=SCHEMA)"
    )
    report = run_script(
        script.replace("true", "True").replace("false", "False"), workspace=workspace
    )
    assert report["status"] == "succeeded", report["errors"]
    assert_valid(report["result"], NESTED)


def test_a_file_field_cites_a_file_the_agent_read(workspace):
    audits = SCRIPT.split('phase("report")')[0] + "audits\n"
    report = run_script(audits, workspace=workspace)
    assert [a["file"] for a in report["result"]] == ["src/a.py", "src/b.py"]


def test_the_cli_says_the_model_is_scripted(workspace, tmp_path_factory):
    import subprocess
    import sys

    script = workspace / "flow.py"
    script.write_text("await spawn('general', 'Read src/a.py', tools=['read'])\n")
    home = tmp_path_factory.mktemp("home")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "fanflow",
            "run",
            str(script),
            "--model",
            "test",
            "--json",
            "--yes",
            "--workspace",
            str(workspace),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "FANFLOW_HOME": str(home)},
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["model"] == "test" and report["result"].endswith("read src/a.py.")
    assert report["scripted"].startswith("model test is scripted, not an LLM")
