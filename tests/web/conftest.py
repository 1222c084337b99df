"""The web tests' instance: fixture results in a data directory, the app under a real uvicorn on a free
port, and Debian's chromium driven by Playwright for Python.

Browser tests carry ``@pytest.mark.browser`` (registered here): ``pytest -m 'not browser'`` skips them.
They need ``apt-get install -y chromium`` and ``pip install playwright`` (never ``playwright install``: the
browser is Debian's). Without chromium they are skipped, unless ``$SHUZHI_REQUIRE_BROWSER`` is set (CI):
then they fail.
Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from .site import PASSWORD, Site, build_site

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
REQUIRE_BROWSER_ENV = "SHUZHI_REQUIRE_BROWSER"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives Debian's chromium through Playwright; deselect with -m 'not browser'"
    )


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The site served by uvicorn on a free localhost port for the whole session."""
    built = build_site(tmp_path_factory.mktemp("site") / "data")
    with serving(built.app) as url:
        built.url = url
        yield built


@pytest.fixture
def fresh(tmp_path: Path) -> Site:
    """A site of its own, for tests that change state (not served)."""
    return build_site(tmp_path / "data")


@pytest.fixture
def client(site: Site) -> Iterator[TestClient]:
    """An in-process client of the session's app (no network)."""
    yield TestClient(site.app)


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Run ``app`` under uvicorn in a thread, on a socket bound to a free port; yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's chromium, headless, launched by Playwright."""
    if not CHROMIUM.exists() and not os.environ.get(REQUIRE_BROWSER_ENV):
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """Open a page in a fresh browser context (own storage); JavaScript errors on any page fail the test."""
    contexts, errors = [], []

    def open_(viewport: dict[str, int] | None = None, **options: Any) -> Any:
        context = browser.new_context(viewport=viewport or {"width": 1400, "height": 1000}, **options)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{error} {error.stack}"))
        page.set_default_timeout(15_000)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert errors == [], errors


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot to test-artifacts/<name>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page: Any, url: str, username: str, password: str = PASSWORD) -> None:
    """Open ``url`` and log in through its form."""
    page.goto(url)
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login button[type=submit]")
