"""Served as it is deployed: ``shuzhi serve --workers 2`` (uvicorn's worker processes) on one data directory.
Scans arrive on fresh connections (so both workers take some), and every answer about the venue, whichever
worker gives it, counts them all. Slow (two worker processes start)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from serving import free_port, wait_for, wait_until_up
from typer.testing import CliRunner

from shuzhi.accounts import Role
from shuzhi.api import ApiSettings
from shuzhi.api.issuer import DEFAULT_REGION, local_credentials
from shuzhi.api.schemas import AccountIn
from shuzhi.api.server import add_account
from shuzhi.cli import app

from .test_api import write_registry

pytestmark = pytest.mark.slow
PASSWORD = "correct horse battery"
REGISTRY = """
| venue_code | name       | category | county_code | capacity | as_of      |
| M1         | Wulin mall | mall     | 330103      | 1000     | 2022-01-01 |
"""
PERSONS = 40


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    data = tmp_path / "data"
    write_registry(data, REGISTRY)
    door = AccountIn(username="door", password=PASSWORD, role=Role.CHECKPOINT)
    add_account(ApiSettings(data_dir=data), door)
    port = free_port()
    command = [sys.executable, "-m", "shuzhi", "serve", "--data", str(data), "--region", DEFAULT_REGION]
    command += ["--port", str(port), "--workers", "2"]
    server = subprocess.Popen(command, stderr=subprocess.PIPE, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/public/health", server, seconds=60)
        yield url, data
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _token(url: str, username: str) -> dict[str, str]:
    answer = httpx.post(f"{url}/auth/token", data={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_every_worker_counts_the_scans_every_worker_took(served: tuple[str, Path]) -> None:
    url, data = served
    door = _token(url, "door")
    issue = local_credentials(data, DEFAULT_REGION).issue_code
    now = dt.datetime.now(dt.UTC)
    for person in range(1, PERSONS + 1):
        body = {"checkpoint_code": "M1", "payload": issue(person, "green", "default_green", now).payload}
        with httpx.Client() as fresh:  # a new connection: either worker may take it
            assert fresh.post(f"{url}/checkpoint/passages", json=body, headers=door).status_code == 201

    def read() -> int:
        with httpx.Client() as fresh:  # either worker answers
            return fresh.get(f"{url}/realtime/venues/M1", headers=door).json()["occupancy"]

    # each worker follows the other's passages within a fraction of a second: then every answer counts all
    wait_for(lambda: [read() for _ in range(20)] == [PERSONS] * 20)


def test_people_counters_are_taken_by_one_process() -> None:
    refused = CliRunner().invoke(app, ["serve", "--workers", "2", "--mqtt", "mqtt://127.0.0.1:1883"])
    assert refused.exit_code == 2 and "--workers 1" in refused.output
