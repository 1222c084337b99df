"""``python -m shuzhi.api``: the first administrator from the shell, then the API served by uvicorn."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from serving import free_port, wait_until_up

from shuzhi.api.__main__ import main

PASSWORD = "first admin password"


def test_add_the_first_admin_then_serve_and_log_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("SHUZHI_PASSWORD", PASSWORD)
    main(["--data", str(data), "add-account", "root", "--role", "admin"])
    assert "created admin account 'root'" in capsys.readouterr().out
    assert (data / "shuzhi.db").exists() and (data / "secrets" / "api-token.key").exists()

    port = free_port()
    command = [sys.executable, "-m", "shuzhi.api", "--data", str(data), "serve", "--port", str(port)]
    env = {k: v for k, v in os.environ.items() if k != "SHUZHI_PASSWORD"}
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        assert wait_until_up(f"{base}/public/health", server).json()["status"] == "ok"
        token = httpx.post(f"{base}/auth/token", data={"username": "root", "password": PASSWORD}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        accounts = httpx.get(f"{base}/admin/accounts", headers=headers).json()
        assert [(a["username"], a["role"]) for a in accounts] == [("root", "admin")]
        assert httpx.get(f"{base}/openapi.json").json()["info"]["title"] == "shuzhi 数治"
    finally:
        server.terminate()
        server.wait(timeout=10)
