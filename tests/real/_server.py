"""A real llama-server on 127.0.0.1 serving SmolLM2-135M-Instruct, and a recording proxy.

The binary and the model come from the two scripts beside this file, which cache
them under the venv (`make test` runs them first; here they only check the cache,
or build on a machine where `make test` was not run). Nothing downloads at test
time: llama-server is built without HTTPS and started `--offline`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

HERE = Path(__file__).resolve().parent
VENV = Path(sys.prefix)
MODEL_NAME = "SmolLM2-135M-Instruct"
# Bounds on hangs, never timing assertions: a loaded 2-core machine is slow.
START_S = 300.0
SLOTS = 4
CTX_TOTAL = 8192  # with -np 4 and no unified KV cache: 2048 tokens per slot


def provision() -> tuple[Path, Path]:
    """(llama-server binary, GGUF model): cached, else built and fetched (raises on failure)."""
    paths = []
    for script in ("build_llama_server.sh", "fetch_model.sh"):
        done = subprocess.run(
            ["bash", str(HERE / script), str(VENV)],
            capture_output=True,
            text=True,
            timeout=3600,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"tests/real/{script} failed (exit {done.returncode}):\n{done.stderr[-3000:]}"
            )
        paths.append(Path(done.stdout.strip().splitlines()[-1]))
    return paths[0], paths[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def offline_env() -> dict[str, str]:
    """The environment for llama-server: no proxies, no hub, offline."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().endswith("_PROXY") and not k.startswith(("HF_", "LLAMA_"))
    }
    env.update(HF_HUB_OFFLINE="1", LLAMA_ARG_OFFLINE="1", LLAMA_OFFLINE="1")
    return env


class LlamaServer:
    """One llama-server process; `start` blocks until /health answers 200."""

    def __init__(self, binary: Path, model: Path, log: Path, port: int | None = None) -> None:
        self.binary, self.model, self.log = binary, model, log
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def argv(self) -> list[str]:
        return [
            str(self.binary),
            "-m",
            str(self.model),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "-np",
            str(SLOTS),
            "-c",
            str(CTX_TOTAL),
            "--no-kv-unified",
            "--jinja",
            "--no-webui",
            "--offline",
            "-t",
            "2",
        ]

    def start(self) -> LlamaServer:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                self.argv(),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=offline_env(),
                start_new_session=True,
            )
        deadline = time.monotonic() + START_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"llama-server exited {self.proc.returncode} at start:\n{self.log_tail()}"
                )
            with contextlib.suppress(OSError):
                if self.get("/health")[0] == 200:
                    return self
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"llama-server not healthy after {START_S:.0f} s:\n{self.log_tail()}")

    def get(self, path: str) -> tuple[int, Any]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=30) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, None

    def busy_slots(self) -> int:
        return sum(1 for s in self.get("/slots")[1] or [] if s.get("is_processing"))

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def kill(self) -> None:
        """SIGKILL, as a crash: no goodbye to the clients."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait(timeout=60)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGCONT)  # a stopped process cannot take SIGTERM
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def log_tail(self, n: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-n:])


class Recorder:
    """A loopback proxy in front of the server that keeps every request body fanflow sent.

    It forwards bytes as they come (streamed answers included), so what fanflow sees is
    the server's own answer; the recording is how the tests see the wire.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.requests: list[dict[str, Any]] = []
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def chats(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r.get("_path", "").endswith("/chat/completions")]

    def __enter__(self) -> Recorder:
        self._thread.start()
        if not self._ready.wait(60):
            raise RuntimeError("the recording proxy did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._session = self._loop.run_until_complete(self._client())
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._session.close())
        self._loop.run_until_complete(runner.cleanup())

    async def _client(self) -> ClientSession:
        return ClientSession(timeout=ClientTimeout(total=None))  # made on the proxy's loop

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        record: dict[str, Any] = {}
        if body:
            with contextlib.suppress(ValueError):
                parsed = json.loads(body)
                if isinstance(parsed, dict):
                    record = parsed
                    record["_path"] = request.path
                    self.requests.append(record)
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() not in ("host", "content-length", "transfer-encoding")
        }
        async with self._session.request(
            request.method, self.upstream + request.path_qs, data=body, headers=headers
        ) as up:
            record["_status"] = up.status  # what the server answered this request
            out = web.StreamResponse(status=up.status)
            for k, v in up.headers.items():
                if k.lower() not in ("content-length", "transfer-encoding", "content-encoding"):
                    out.headers[k] = v
            await out.prepare(request)
            async for chunk in up.content.iter_any():
                await out.write(chunk)
            await out.write_eof()
            return out
