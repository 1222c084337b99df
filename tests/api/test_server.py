"""``python -m shuzhi.api``: the first administrator from the shell, then the API served by uvicorn."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from shuzhi.api.__main__ import main

PASSWORD = "first admin password"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, server: subprocess.Popen, seconds: float = 20.0) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stderr.read() if server.stderr else "server exited"
        try:
            return httpx.get(url, timeout=1.0)
        except httpx.TransportError:
            time.sleep(0.1)
    raise TimeoutError(url)


def test_add_the_first_admin_then_serve_and_log_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("SHUZHI_PASSWORD", PASSWORD)
    main(["--data", str(data), "add-account", "root", "--role", "admin"])
    assert "created admin account 'root'" in capsys.readouterr().out
    assert (data / "shuzhi.db").exists() and (data / "secrets" / "api-token.key").exists()

    port = _free_port()
    command = [sys.executable, "-m", "shuzhi.api", "--data", str(data), "serve", "--port", str(port)]
    env = {k: v for k, v in os.environ.items() if k != "SHUZHI_PASSWORD"}
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        assert _wait_until_up(f"{base}/public/health", server).json()["status"] == "ok"
        token = httpx.post(f"{base}/auth/token", data={"username": "root", "password": PASSWORD}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        accounts = httpx.get(f"{base}/admin/accounts", headers=headers).json()
        assert [(a["username"], a["role"]) for a in accounts] == [("root", "admin")]
        assert httpx.get(f"{base}/openapi.json").json()["info"]["title"] == "shuzhi 数治"
    finally:
        server.terminate()
        server.wait(timeout=10)
