"""A real Mosquitto broker for the MQTT tests, started by the tests on a free local port.

The broker keeps its state on disk (``persistence true``), so a restart keeps persistent sessions and the
messages queued for them, as in production. Without ``/usr/sbin/mosquitto`` the tests are skipped, unless
``$SHUZHI_REQUIRE_MQTT`` is set (CI), where they fail.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from serving import free_port

REQUIRE_MQTT_ENV = "SHUZHI_REQUIRE_MQTT"
MOSQUITTO = Path(shutil.which("mosquitto") or "/usr/sbin/mosquitto")


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class Broker:
    """A Mosquitto process with its configuration, persistence directory and log under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.conf = root / "mosquitto.conf"
        self.log = root / "mosquitto.log"
        (root / "data").mkdir(parents=True, exist_ok=True)
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            f"user {getpass.getuser()}\n"  # as root, Mosquitto would switch to "mosquitto" and lose its files
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {root / 'data'}/\n"
            f"log_dest file {self.log}\n"
            "log_type error\nlog_type warning\nlog_type notice\n"
            "max_queued_messages 100000\n"
        )
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        assert self.process is None, "the broker is running"
        self.process = subprocess.Popen(
            [str(MOSQUITTO), "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + timeout
        while not _port_open(self.port):
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                self.process = None
                raise RuntimeError(f"mosquitto exited: {err}{self._log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"mosquitto did not listen on {self.port} within {timeout} s")
            time.sleep(0.02)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop gracefully (SIGTERM: Mosquitto writes its persistence file), kill if it hangs."""
        if self.process is None:
            return
        process, self.process = self.process, None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stderr:
            process.stderr.close()

    def restart(self) -> None:
        self.stop()
        self.start()

    def _log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""


def mosquitto_or_skip() -> None:
    if not MOSQUITTO.exists():
        if os.environ.get(REQUIRE_MQTT_ENV):
            pytest.fail(f"${REQUIRE_MQTT_ENV} is set but Mosquitto is not installed ({MOSQUITTO})")
        pytest.skip("Mosquitto is not installed (apt-get install -y mosquitto)")


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A fresh Mosquitto for one test, always stopped at teardown."""
    mosquitto_or_skip()
    running = Broker(tmp_path / "broker")
    running.start()
    try:
        yield running
    finally:
        running.stop()
