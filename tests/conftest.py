"""Test-wide guards: nothing reaches a real model, every test has its own journal."""

from __future__ import annotations

import ipaddress
import os
import socket
import sys

import pytest

_REAL_CONNECT = socket.socket.connect
_KEY_VARS = ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_BASE_URL", "OPENAI_BASE_URL")


def _loopback(host: object) -> bool:
    try:
        return ipaddress.ip_address(str(host)).is_loopback
    except ValueError:
        return host == "localhost"


def _guarded_connect(self: socket.socket, address: object) -> object:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0] if isinstance(address, tuple) else address
        if not _loopback(host):
            raise RuntimeError(f"test tried to reach {address!r}; tests may only use loopback")
    return _REAL_CONNECT(self, address)


@pytest.fixture(autouse=True)
def _offline_and_isolated(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    for var in _KEY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("RACE_ORACLE_LATENCY", raising=False)
    monkeypatch.setenv("FANFLOW_HOME", str(tmp_path / "fanflow-home"))


_exit_status = 0


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _exit_status
    _exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    # pydantic-monty's native worker threads can abort interpreter finalization
    # (a few percent of exits); everything is reported by now, so skip it.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_exit_status)
