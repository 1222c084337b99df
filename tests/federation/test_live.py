"""Two processes, a real network hop: the national node served by ``shuzhi serve``; a member sends with
``shuzhi federation send --url`` and keeps the node's signed receipt. Slow (starts a server)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import httpx
import pytest
from api.test_server import _free_port, _wait_until_up  # tests/api: one way to start and await a server
from typer.testing import CliRunner

from shuzhi.cli import app

from .conftest import HANGZHOU, NATIONAL, keys_only_at

pytestmark = pytest.mark.slow


def test_a_member_sends_to_the_national_node_over_http_and_keeps_its_receipt(tmp_path):
    federation = keys_only_at(tmp_path / "federation", dt.datetime.now(dt.UTC))
    national, hangzhou = federation.members[NATIONAL], federation.members[HANGZHOU]
    port = _free_port()
    command = [sys.executable, "-m", "shuzhi", "serve", "--data", str(national.root), "--region", NATIONAL]
    server = subprocess.Popen(
        [*command, "--port", str(port)],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(f"{base}/public/health", server, seconds=60)
        send = ["federation", "send", "--to", NATIONAL, "--region", HANGZHOU, "--data", str(hangzhou.root)]
        sent = CliRunner().invoke(app, [*send, "--kind", "trust_list", "--url", base])
        assert sent.exit_code == 0, sent.output
        assert f"{NATIONAL}: message 1 accepted" in sent.output
        garbage = httpx.post(
            f"{base}/federation/messages", content=b"\xa0", headers={"Content-Type": "application/cose"}
        )
        assert garbage.status_code == 422
        assert httpx.get(f"{base}/federation/national").json() == []
    finally:
        server.terminate()
        server.wait(timeout=10)
    shown = CliRunner().invoke(app, ["federation", "log", "--region", HANGZHOU, "--data", str(hangzhou.root)])
    assert "acknowledged" in shown.output
    assert (national.root / "federation" / "trust_lists" / f"{HANGZHOU}.cose").exists()
