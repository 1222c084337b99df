"""The web tests' instance: fixture results in a data directory, the app under a real uvicorn on a free
port, and Debian's chromium driven by Playwright for Python.

Browser tests carry ``@pytest.mark.browser`` (registered here): ``pytest -m 'not browser'`` skips them.
They need ``apt-get install -y chromium`` and ``pip install playwright`` (never ``playwright install``: the
browser is Debian's). Without chromium they are skipped, unless ``$SHUZHI_REQUIRE_BROWSER`` is set (CI):
then they fail.
Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shuzhi.accounts import Role, create_account, find_account
from shuzhi.api.issuer import KEY_STORE_DIR, InstanceCredentials
from shuzhi.credentials.keys import KeyStore
from shuzhi.settings import DataDir
from shuzhi.web.server import dashboard_app

from .lake import GREEN_KEY, RESIDENT_KEY, Fixture, write_results

PASSWORD = "correct horse battery"
REGION = "330100"
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


@dataclass
class Site:
    """An instance with fixture results: its app, data directory and, once served, its URL."""

    app: FastAPI
    data: DataDir
    fixture: Fixture
    url: str = ""
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def credentials(self) -> InstanceCredentials:
        return self.app.state.credentials

    def headers(self, username: str) -> dict[str, str]:
        """Bearer headers of an account (a token issued directly: no password hashing)."""
        if username not in self.tokens:
            with self.app.state.services.store.session() as session:
                account = find_account(session, username)
                token, _ = self.app.state.services.signer.issue(account.id, Role(account.role))
            self.tokens[username] = token
        return {"Authorization": f"Bearer {self.tokens[username]}"}


def build_site(root: Path) -> Site:
    """Fixture results and one account per role (named after it), plus a resident with a green code."""
    data = DataDir(root)
    fixture = write_results(data)
    a_day_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    KeyStore(data.secrets / KEY_STORE_DIR).generate(REGION, a_day_ago)  # may sign codes of the past hour
    app = dashboard_app(data.root, REGION)
    accounts = [(role.value, role, RESIDENT_KEY if role is Role.RESIDENT else None) for role in Role]
    accounts.append(("green-resident", Role.RESIDENT, GREEN_KEY))
    with app.state.services.store.session() as session:
        for username, role, key in accounts:
            create_account(session, username, PASSWORD, role, app.state.services.clock(), key)
    return Site(app, data, fixture)


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The site served by uvicorn on a free localhost port for the whole session."""
    built = build_site(tmp_path_factory.mktemp("site") / "data")
    with serving(built.app) as url:
        built.url = url
        yield built


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
