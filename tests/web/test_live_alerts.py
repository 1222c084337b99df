"""Live crowd alerts in Debian's chromium: a venue driven towards its limit through the real HTTP scan path
warns before the limit, and the warning reaches the open dashboard within 2 seconds; the checkpoint page shows
its venue's headcount after each scan in and out; a resident checks in and out with a venue code."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from shuzhi.realtime.occupancy import VenueInfo
from shuzhi.realtime.policy import load_policy

from .conftest import log_in, screenshot
from .site import Site

pytestmark = pytest.mark.browser
OpenPage = Callable[..., Any]
VENUE = VenueInfo("LIVE-330106-1", "灵隐寺 Lingyin Temple", "scenic", "330106", 100)
LIVE_READY = "() => window.dashboard.live?.connected === true"
STATUS_IS = "(text) => document.getElementById('checkin-status').textContent === text"
ARRIVED = "(kind) => window.dashboard.live.alerts.some((a) => a.kind === kind && a.receivedAt !== null)"


def fast_policy():
    """The 2022-9th crowd rules on a seconds scale: 1 s bins, a 6 s horizon (the test runs in real time)."""
    policy = load_policy("2022-9th")
    warning = policy.warning.model_copy(update={"bin_seconds": 1, "horizon_minutes": 0.1, "alpha": 0.5,
                                                "beta": 0.3, "damping": 1.0})  # fmt: skip
    return policy.model_copy(update={"warning": warning})


def drive(site: Site, limit: int) -> list[str]:
    """Checkpoint scans of fresh codes at a rising rate (2, 5, 8, ... a second) until the limit is reached."""
    hub = site.app.state.realtime
    kinds: list[str] = []
    person = 1_000_000
    with httpx.Client(base_url=site.url, headers=site.headers("checkpoint"), timeout=10) as client:
        for second in range(30):
            rate = 2 + 3 * second
            start = time.monotonic()
            for i in range(rate):
                person += 1
                code = site.credentials.issue_code(person, "green", "default_green", dt.datetime.now(dt.UTC))
                body = {"checkpoint_code": VENUE.code, "payload": code.payload, "direction": "in"}
                assert client.post("/checkpoint/passages", json=body).status_code == 201
                time.sleep(max(0.0, start + (i + 1) / rate - time.monotonic()))
            kinds = [a.kind for a in hub.alerts.since(0) if a.venue_code == VENUE.code]
            if "limit" in kinds:
                return kinds
    raise AssertionError(f"the venue never reached its limit of {limit}: {kinds}")


def test_a_venue_driven_to_its_limit_warns_first_and_the_dashboard_shows_it_within_2_s(
    site: Site, open_page: OpenPage
) -> None:
    hub = site.app.state.realtime
    hub.configure(policy=fast_policy(), venues=[VENUE])
    limit = hub.venue(VENUE.code)["limit"]
    page = open_page()
    log_in(page, f"{site.url}/web/dashboard.html", "operator")
    page.wait_for_function(LIVE_READY)

    assert drive(site, limit)[:2] == ["warning", "limit"]
    page.wait_for_function(ARRIVED, arg="limit")
    alerts = {a["kind"]: a for a in page.evaluate("() => window.dashboard.live.alerts")}
    warning, at_limit = alerts["warning"], alerts["limit"]
    assert warning["occupancy"] < warning["limit"] == limit <= warning["forecast"]
    assert at_limit["occupancy"] == limit and warning["id"] < at_limit["id"]
    for alert in (warning, at_limit):  # from the scan that raised it to the page that shows it
        latency = alert["receivedAt"] / 1000 - dt.datetime.fromisoformat(alert["at"]).timestamp()
        assert 0 <= latency < 2.0, (alert["kind"], latency)
    assert page.locator("#alerts-list li[data-kind=warning]").count() == 1
    assert "灵隐寺" in page.text_content("#alerts-list li[data-kind=warning]")
    page.wait_for_function("() => document.querySelector('#occupancy-table tr[data-state=limit]') !== null")
    screenshot(page, "dashboard-live-alerts")

    page.reload()  # the history comes back with the page
    page.wait_for_function(LIVE_READY)
    kinds = page.eval_on_selector_all("#alerts-list li", "items => items.map((i) => i.dataset.kind)")
    assert kinds[:2] == ["limit", "warning"]


def test_the_checkpoint_at_a_venue_shows_its_occupancy_after_each_scan_in_and_out(
    site: Site, open_page: OpenPage
) -> None:
    gate = VenueInfo("GATE-330106-1", "西湖 West Lake", "scenic", "330106", 1000)
    site.app.state.realtime.configure(venues=[gate])
    limit = site.app.state.realtime.venue(gate.code)["limit"]
    page = open_page(viewport={"width": 390, "height": 844})
    log_in(page, f"{site.url}/web/checkpoint.html", "checkpoint")
    page.wait_for_function("() => document.getElementById('trust-status').dataset.kind === 'ok'")
    page.fill("#checkpoint-code", gate.code)
    code = site.credentials.issue_code(2_000_001, "green", "default_green", dt.datetime.now(dt.UTC)).payload
    for direction, inside in (("in", 1), ("out", 0)):
        page.select_option("#direction", direction)
        page.fill("#payload", code)
        page.click("#verify")
        page.wait_for_selector("#result:not([hidden])")
        expected = f"在场 inside {inside} / 限额 limit {limit}"
        page.wait_for_function(
            f"() => document.getElementById('result-occupancy').textContent.startsWith('{expected}')"
        )
        if direction == "in":
            screenshot(page, "checkpoint-occupancy")
        page.click("#result-close")
    assert page.text_content("#occupancy").startswith("在场 inside 0")
    assert site.app.state.realtime.venue(gate.code)["occupancy"] == 0


def test_a_resident_checks_in_and_out_with_a_venue_code_and_the_venue_counts_them(
    site: Site, open_page: OpenPage
) -> None:
    shop = VenueInfo("SHOP-330106-9", "便利店 Corner shop", "supermarket", "330106", 40)
    hub = site.app.state.realtime
    hub.configure(venues=[shop])
    page = open_page(viewport={"width": 390, "height": 844})
    log_in(page, f"{site.url}/web/resident.html", "resident")
    page.wait_for_function("() => window.resident.code !== null")
    for direction, word, inside in (("in", "进 In", 1), ("out", "出 Out", 0)):
        page.fill("#venue_code", shop.code)
        page.select_option("#checkin-direction", direction)
        page.click("#checkin-form button[type=submit]")
        expected = f"已登记 {word}: {shop.name} ({shop.code})"
        page.wait_for_function(STATUS_IS, arg=expected)
        _eventually(lambda n=inside: hub.venue(shop.code)["scanned_inside"] == n)
        if direction == "in":
            screenshot(page, "resident-check-in")
    page.fill("#venue_code", "NOT-A-VENUE-1")
    page.click("#checkin-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('checkin-status').dataset.kind === 'error'")
    assert "NOT-A-VENUE-1" in page.text_content("#checkin-status")


def _eventually(condition: Callable[[], bool], seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        time.sleep(0.05)
