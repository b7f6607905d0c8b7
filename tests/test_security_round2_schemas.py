"""Issue 14, class 1 (and class 5's schema stall): schemas never reach the host.

Every schema fanflow validates goes through `fanflow._schemas`. Each case here
is an attack a hostile script (or agent definition) can write; a loopback HTTP
server counts the requests they cause (must stay 0), and a secret file outside
the workspace must never show up in any error text.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from helpers import run

from fanflow import _schemas

SECRET = "TOPSECRET-outside-file-4c1d"


class _Counter(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []  # noqa: RUF012 - one list per server, set by the fixture

    def do_GET(self) -> None:
        self.hits.append(self.path)
        body = f'{{"const": "{SECRET}"}}'.encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []
    handler = type("Handler", (_Counter,), {"hits": hits})
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}", hits
    finally:
        srv.shutdown()
        srv.server_close()


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    outside = tmp_path / "outside" / "secrets.json"
    outside.parent.mkdir()
    outside.write_text(f'{{"const": "{SECRET}"}}')
    return outside


def _attacks(url: str, secret: Path) -> dict[str, dict[str, Any]]:
    return {
        "file uri": {"$ref": secret.as_uri()},
        "loopback http with data": {"$ref": f"{url}/?d=script-data"},
        "relative uri": {"$ref": "secrets.json"},
        "relative uri under $id": {"$id": f"{url}/base/", "$ref": "secrets.json"},
        "nested deep": {"properties": {"a": {"items": {"anyOf": [{"$ref": f"{url}/n"}]}}}},
        "$dynamicRef remote": {"$dynamicRef": f"{url}/d#meta"},
        "$dynamicRef under remote $id": {"$id": f"{url}/z", "$dynamicRef": "#meta"},
        "$recursiveRef (2019-09)": {
            "$schema": "https://json-schema.org/draft/2019-09/schema",
            "$recursiveRef": f"{url}/r",
        },
        "draft-07 $ref": {"$schema": "http://json-schema.org/draft-07/schema#", "$ref": f"{url}/7"},
        "draft-04 id + relative": {
            "$schema": "http://json-schema.org/draft-04/schema#",
            "id": f"{url}/4/",
            "properties": {"a": {"$ref": "y.json"}},
        },
        "$schema is a url": {"$schema": f"{url}/meta"},
        "nested $schema url": {"properties": {"a": {"$id": f"{url}/q", "$schema": f"{url}/m"}}},
        "fragment under remote $id": {
            "$id": f"{url}/root.json",
            "properties": {"a": {"$ref": "#/$defs/missing"}},
        },
        "file $ref in $defs used locally": {
            "$defs": {"x": {"$ref": secret.as_uri()}},
            "properties": {"a": {"$ref": "#/$defs/x"}},
        },
    }


ATTACKS = list(_attacks("http://x", Path("/x")))


@pytest.mark.parametrize("name", ATTACKS)
def test_no_schema_reference_reaches_a_file_or_the_network(
    name: str, server: tuple[str, list[str]], secret_file: Path
) -> None:
    url, hits = server
    schema = _attacks(url, secret_file)[name]
    with pytest.raises(jsonschema.SchemaError) as caught:
        _schemas.check(schema)
        _schemas.first_error({"a": 1}, schema)
    assert SECRET not in str(caught.value) and SECRET not in caught.value.message
    assert hits == []


def test_references_inside_the_schema_still_work() -> None:
    schema = {
        "$defs": {"n": {"type": "integer"}},
        "type": "object",
        "properties": {"a": {"$ref": "#/$defs/n"}, "b": {"$ref": "#"}},
    }
    _schemas.check(schema)
    assert _schemas.first_error({"a": 1, "b": {"a": 2}}, schema) is None
    error = _schemas.first_error({"a": "x"}, schema)
    assert error is not None and "integer" in error.message


def test_a_ref_inside_const_is_data_not_a_reference(server: tuple[str, list[str]]) -> None:
    url, hits = server
    schema = {"const": {"$ref": f"{url}/c"}}
    _schemas.check(schema)
    assert _schemas.first_error({"$ref": f"{url}/c"}, schema) is None
    assert hits == []


async def test_a_script_spawn_with_a_file_ref_learns_nothing(
    server: tuple[str, list[str]], secret_file: Path, tmp_path: Path
) -> None:
    url, hits = server
    script = f"""
out = []
for ref in [{secret_file.as_uri()!r}, {url + "/?d=stolen"!r}, "secrets.json"]:
    try:
        await spawn("general", "x", schema={{"$ref": ref}})
        out.append("accepted")
    except ValueError as exc:
        out.append(str(exc))
return out
"""
    report = await run(script, model=lambda req: '"anything"', workspace=str(tmp_path))
    assert hits == []
    assert len(report["result"]) == 3
    for text in report["result"]:
        assert "points outside the schema" in text and SECRET not in text


def _redos_subject(n: int) -> str:
    return "a" * n + "!"


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "pattern": "^(a+)+$"},
        {"type": "string", "pattern": "^(a|a)+$"},
        {"type": "string", "pattern": "^((a)+)+$"},
        {"propertyNames": {"pattern": "^(a+)+$"}},
        {"patternProperties": {"^(a+)+$": {"type": "integer"}}},
        {"patternProperties": {"^(a+)+$": {}}, "additionalProperties": False},
    ],
)
def test_schema_patterns_match_in_linear_time(schema: dict[str, Any]) -> None:
    # 28 characters take Python's backtracking re tens of seconds; RE2 takes microseconds
    subject = _redos_subject(28)
    value: Any = subject if schema.get("type") == "string" else {subject: "x"}
    _schemas.check(schema)
    started = time.monotonic()
    _schemas.first_error(value, schema)
    assert time.monotonic() - started < 5.0  # backtracking takes ~24 s; RE2 under 1 ms


def test_patterns_keep_their_meaning() -> None:
    schema = {
        "type": "object",
        "properties": {"id": {"type": "string", "pattern": "^[a-z]+-[0-9]{2}$"}},
        "patternProperties": {"^x-": {"type": "integer"}},
        "additionalProperties": False,
    }
    assert _schemas.first_error({"id": "abc-12", "x-n": 3}, schema) is None
    assert "does not match" in _schemas.first_error({"id": "ABC"}, schema).message
    assert _schemas.first_error({"x-n": "no"}, schema) is not None
    assert (
        "do not match any of the regexes" in _schemas.first_error({"y": 1, "z": 2}, schema).message
    )


@pytest.mark.parametrize(
    ("schema", "says"),
    [
        ({"pattern": "(a)\\1"}, "backreferences"),
        ({"pattern": "(?=a)b"}, "lookaround"),
        ({"patternProperties": {"(?<=x)y": {}}}, "RE2"),
        ({"patternProperties": {"^x": {}}, "unevaluatedProperties": False}, "additionalProperties"),
    ],
)
def test_patterns_re2_cannot_run_are_refused_with_a_clear_line(
    schema: dict[str, Any], says: str, capfd: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(jsonschema.SchemaError) as caught:
        _schemas.check(schema)
    assert says in caught.value.message
    assert "re2.cc" not in capfd.readouterr().err  # RE2's own logging stays quiet
