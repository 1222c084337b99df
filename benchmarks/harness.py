"""What the benchmarks share: running a step in a fresh process to measure its own peak memory, and serving
a data folder with uvicorn on a free loopback port (its own process group, so its workers stop with it)."""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def in_child(target, *args) -> dict:
    """Run ``target(*args)`` in a fresh process; add that process's peak RSS to its result.

    A plain (not daemonic) process, so the step may start processes of its own (ingest's workers)."""
    context = mp.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_measured, args=(sender, target, *args))
    process.start()
    sender.close()
    try:
        result = receiver.recv()  # before join: a large result would otherwise fill the pipe
    except EOFError:
        process.join()
        raise RuntimeError(f"{target.__name__} died (exit code {process.exitcode})") from None
    process.join()
    if isinstance(result, BaseException):
        raise result
    return result


def _measured(sender, target, *args) -> None:
    try:
        result = target(*args)
        own, workers = (
            resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
        )
        result["peak_mib"] = max(own, workers) / 1024  # the largest of the step and any process it started
    except BaseException as error:  # handed to the parent, which raises it
        result = error
    sender.send(result)
    sender.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(
    data: Path, port: int, workers: int = 1, http: str = "auto", loop: str = "auto"
) -> subprocess.Popen:
    """The app of ``data`` served on 127.0.0.1:``port``, returned once its health check answers."""
    command = [sys.executable, "-m", "uvicorn", "--factory", "shuzhi.web.server:app_from_env"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    command += ["--log-level", "warning", "--no-access-log", "--http", http, "--loop", loop]
    environment = {**os.environ, "SHUZHI_DATA": str(data)}
    server = subprocess.Popen(command, env=environment, start_new_session=True)  # its own process group
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/public/health", timeout=1) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    stop_server(server)
    raise RuntimeError("the server did not start")


def stop_server(server: subprocess.Popen) -> None:
    """Stop uvicorn and its workers (the whole process group); kill them if they do not stop in time."""
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
