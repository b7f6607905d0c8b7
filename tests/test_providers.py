"""Real provider code, through the official SDKs, against the loopback fake API.

The fake's brain is the race-audit oracle (the example's model plugin), so a run
through either SDK can be compared with the same run on the oracle directly.
"""

from __future__ import annotations

import pytest
from fakeapi import FakeAPI, Faults
from helpers import EXAMPLE, run
from race_oracle import OracleModel

from fanflow import ScriptError
from fanflow._journal import Journal

KEY = "sk-test-0123456789abcdef-secret"


@pytest.fixture
async def api(monkeypatch):
    async with FakeAPI(api_key=KEY, brain=OracleModel()) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
        yield server


def message_requests(api: FakeAPI) -> list:
    return [r for r in api.requests if r.path in ("/v1/messages", "/v1/chat/completions")]


@pytest.mark.parametrize("model", ["anthropic:claude-opus-4-8", "openai:gpt-4o"])
async def test_race_audit_gives_the_same_report_as_the_oracle(api, model):
    direct = await run(EXAMPLE.read_text(), model_name="race-oracle")
    real = await run(EXAMPLE.read_text(), model_name=model)
    assert real["status"] == "succeeded", real["errors"]
    assert real["result"] == direct["result"]
    assert real["agents"] == direct["agents"]
    assert "X1" in real["result"]  # the cross-file find survives the wire formats
    assert (
        api.count(status=200) == len(message_requests(api)) == 15 * 2 + 5 * 2 + 1 + 1
    )  # FP1's reviewer reads twice


async def test_auth_header_sent_and_key_never_written(api, tmp_path, capfd):
    journal = Journal(tmp_path / "j.db")
    await run(EXAMPLE.read_text(), model_name="anthropic:claude-opus-4-8", journal=journal)
    journal.close()
    sent = [
        r.headers.get("x-api-key") or r.headers.get("authorization") for r in message_requests(api)
    ]
    assert sent and all(h in (KEY, f"Bearer {KEY}") for h in sent)
    written = b"".join(p.read_bytes() for p in tmp_path.glob("j.db*"))
    assert KEY.encode() not in written
    out, err = capfd.readouterr()
    assert KEY not in out + err


async def test_tool_use_round_trips_on_both_apis(api):
    for model in ("anthropic:claude-sonnet-4-6", "openai:gpt-4o"):
        journal = Journal()
        report = await run(
            "await spawn('auditor', 'Read examples/race_audit/sample/src/billing/wallet.ts', "
            "tools=['read'])",
            model_name=model,
            journal=journal,
        )
        assert report["status"] == "succeeded", report["errors"]
        assert report["result"]["findings"][0]["id"] == "R3"
        [agent] = journal.agents(report["run_id"])
        assert agent["turns"] == 2


async def test_mid_conversation_system_block_only_where_supported(api):
    script = "await synthesize({'findings': []}, instructions='report')"
    await run(script, model_name="anthropic:claude-opus-4-8")
    await run(script, model_name="anthropic:claude-sonnet-4-6")
    opus, sonnet = message_requests(api)
    assert any(m["role"] == "system" for m in opus.body["messages"])
    assert not any(m["role"] == "system" for m in sonnet.body["messages"])
    assert api.count(status=400) == 0


async def test_system_role_400_falls_back_to_user_text_once_per_run(api, monkeypatch):
    from fanflow._models import _anthropic

    monkeypatch.setattr(_anthropic, "takes_mid_system", lambda name: True)  # a wrong guess
    script = "a = await synthesize([1], instructions='x')\nawait synthesize([2], instructions='y')"
    report = await run(script, model_name="anthropic:claude-sonnet-4-6")
    assert report["status"] == "succeeded", report["errors"]
    assert api.count(status=400) == 1  # the second synthesis already sends user text


async def test_faults_do_not_lose_any_of_200_agents(api):
    api.faults = Faults(p_529=0.10, p_429=0.05, p_drop=0.02, retry_after=0.01, seed=7)
    report = await run(
        "await gather([spawn('general', f'unit {i}', tools=[]) for i in range(200)])",
        model_name="anthropic:claude-sonnet-4-6",
    )
    assert report["status"] == "succeeded", report["errors"][:3]
    faults = [r for r in message_requests(api) if r.fault]
    assert faults, "the fault injection did not fire"
    assert report["agents"] == {
        "spawned": 200,
        "succeeded": 200,
        "failed": 0,
        "retried": report["agents"]["retried"],
    }
    assert 0 < report["agents"]["retried"] <= len(faults)  # each retried agent met a fault
    assert len(message_requests(api)) == 200 + len(faults)


async def test_cache_reads_recorded_for_agents_2_to_n(api):
    journal = Journal()
    report = await run(
        "await gather([spawn('general', f'unit {i}', tools=['read']) "
        "for i in range(10)], concurrency=1)",
        model_name="anthropic:claude-sonnet-4-6",
        journal=journal,
    )
    rows = journal.usage_rows(report["run_id"])
    assert rows[0]["cache_creation_input_tokens"] > 0 and rows[0]["cache_read_input_tokens"] == 0
    assert all(r["cache_read_input_tokens"] > 0 for r in rows[1:])
    assert report["usage"]["cache_read_input_tokens"] == sum(
        r["cache_read_input_tokens"] for r in rows
    )


async def test_effort_is_sent_as_configured(api):
    script = "await spawn('general', 'a', tools=[])\nawait spawn('general', 'b', effort='max')"
    await run(script, model_name="anthropic:claude-opus-4-8", agent_effort="low")
    await run("await spawn('general', 'c', effort='xhigh')", model_name="openai:gpt-5")
    await run("await spawn('general', 'd', effort='low')", model_name="openai:gpt-4o")
    a, b, c, d = message_requests(api)
    assert a.body["output_config"] == {"effort": "low"}
    assert b.body["output_config"] == {"effort": "max"}
    assert c.body["reasoning_effort"] == "high"
    assert "reasoning_effort" not in d.body  # not a reasoning model: not sent


async def test_401_fails_fast_with_a_clear_message_and_no_retries(api):
    api.faults = Faults(fail_status=401)
    journal = Journal()
    report = await run(
        "await gather([spawn('general', f'u{i}') for i in range(20)])",
        model_name="anthropic:claude-sonnet-4-6",
        concurrency=4,
        journal=journal,
    )
    assert report["status"] == "failed"
    assert len(message_requests(api)) <= 4  # one per agent already in flight, then stop
    messages = " ".join(e["error"] for e in report["errors"])
    assert "refused the API key (401)" in messages and "check ANTHROPIC_API_KEY" in messages
    assert "never awaited" not in messages  # the rest were stopped, and say so
    stopped = [a for a in journal.agents(report["run_id"]) if a["status"] == "not_run"]
    assert len(stopped) >= 16 and all("refused the API key" in a["error"] for a in stopped)


async def test_400_fails_the_agent_with_the_api_message(api):
    api.faults = Faults(fail_status=400)
    report = await run("await gather([spawn('general', 'u')])", model_name="openai:gpt-4o")
    assert report["status"] == "failed"
    assert "OpenAI API 400" in report["errors"][0]["error"]
    assert len(message_requests(api)) == 1


async def test_long_outputs_stream(api):
    report = await run(
        "await spawn('general', 'write a lot', max_tokens=20000)",
        model_name="anthropic:claude-sonnet-4-6",
    )
    assert report["status"] == "succeeded"
    [request] = message_requests(api)
    assert request.streamed


async def test_missing_key_is_a_one_line_config_error(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    from fanflow import ConfigError

    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY is not set"):
        await run("1", model_name="anthropic:claude-opus-4-8")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="OPENAI_API_KEY is not set"):
        await run("1", model_name="openai:gpt-4o")


async def test_unknown_model_in_spawn_is_a_script_error_not_a_request(api):
    with pytest.raises(ScriptError):
        await run("await spawn('general', 'p', model=7)", model_name="openai:gpt-4o")
    report = await run("await spawn('general', 'p', model='nope')", model_name="openai:gpt-4o")
    assert "unknown model provider 'nope'" in report["errors"][-1]["error"]
    assert not message_requests(api)


def test_price_table_and_config_override(tmp_path):
    from fanflow._config import load_config
    from fanflow._models import Usage
    from fanflow._models._pricing import price_for

    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert price_for("anthropic:claude-sonnet-4-5-20250929").cost(usage) == 18.0
    assert price_for("anthropic:claude-opus-4-8").cost(usage) == 30.0  # the docs' model
    assert price_for("anthropic:claude-unlisted-1-0") is None  # never a guess
    (tmp_path / ".fanflow").mkdir()
    (tmp_path / ".fanflow" / "config.toml").write_text(
        '[prices."anthropic:claude-opus-4-8"]\ninput = 1\noutput = 2\n'
    )
    prices = load_config(tmp_path).prices
    assert price_for("anthropic:claude-opus-4-8", prices).cost(usage) == 3.0  # config wins
