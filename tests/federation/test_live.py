"""Real network hops: the national node served by ``shuzhi serve``; a member sends with ``shuzhi federation
send --url`` and keeps the node's signed receipt; a member serving with ``--deliver-every`` sends again what
waited while the node was down. Slow (starts servers)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from serving import free_port, wait_until_up
from typer.testing import CliRunner

from shuzhi.cli import app
from shuzhi.federation.delivery import pending

from .conftest import HANGZHOU, NATIONAL, keys_only_at

pytestmark = pytest.mark.slow


def _serve(root: Path, region: str, port: int, *options: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "shuzhi", "serve", "--data", str(root), "--region", region]
    return subprocess.Popen(
        [*command, "--port", str(port), *options],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _send(root: Path, url: str) -> list[str]:
    return ["federation", "send", "--to", NATIONAL, "--region", HANGZHOU, "--data", str(root), "--url", url]


def test_a_member_sends_to_the_national_node_over_http_and_keeps_its_receipt(tmp_path):
    federation = keys_only_at(tmp_path / "federation", dt.datetime.now(dt.UTC))
    national, hangzhou = federation.members[NATIONAL], federation.members[HANGZHOU]
    port = free_port()
    server = _serve(national.root, NATIONAL, port)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(f"{base}/public/health", server, seconds=60)
        sent = CliRunner().invoke(app, [*_send(hangzhou.root, base), "--kind", "trust_list"])
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


def test_a_member_serving_with_a_courier_delivers_what_waited_while_the_node_was_down(tmp_path):
    federation = keys_only_at(tmp_path / "federation", dt.datetime.now(dt.UTC))
    national, hangzhou = federation.members[NATIONAL], federation.members[HANGZHOU]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    down = CliRunner().invoke(app, [*_send(hangzhou.root, base), "--kind", "trust_list"])
    assert down.exit_code == 1 and f"{NATIONAL} not reached" in down.output
    at_hangzhou = ["--region", HANGZHOU, "--data", str(hangzhou.root)]
    listed = CliRunner().invoke(app, ["federation", "peers", *at_hangzhou])
    assert NATIONAL in listed.output and base in listed.output

    member = federation.member(HANGZHOU)
    servers = [
        _serve(national.root, NATIONAL, port),
        _serve(hangzhou.root, HANGZHOU, free_port(), "--deliver-every", "1"),
    ]
    try:
        wait_until_up(f"{base}/public/health", servers[0], seconds=60)
        deadline = time.monotonic() + 60
        while pending(member, NATIONAL) and time.monotonic() < deadline:
            assert all(s.poll() is None for s in servers), [s.stderr.read() for s in servers]
            time.sleep(0.2)
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
    assert not pending(member, NATIONAL)
    assert "acknowledged" in CliRunner().invoke(app, ["federation", "log", *at_hangzhou]).output
