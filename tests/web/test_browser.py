"""The pages in Debian's chromium: the map and its slider, the resident code, checkpoint checks, refusal."""

from __future__ import annotations

import pytest

from .conftest import Site, log_in, screenshot

pytestmark = pytest.mark.browser

MAP_COLOURS = """() => {
  const chart = echarts.getInstanceByDom(document.getElementById('map'));
  if (!chart) return null;
  const data = chart.getOption().series[0].data;
  return data.map(d => d.itemStyle ? d.itemStyle.areaColor || d.itemStyle.color : d.value);
}"""


def _map_colours(page) -> list:
    page.wait_for_function(f"({MAP_COLOURS})() && ({MAP_COLOURS})().length > 0", timeout=15_000)
    return page.evaluate(MAP_COLOURS)


def test_operator_sees_90_coloured_counties_and_the_slider_changes_them(site: Site, open_page) -> None:
    page = open_page(bypass_csp=True)
    log_in(page, f"{site.url}/web/dashboard.html", "operator")
    first = _map_colours(page)
    assert len(first) == 90
    assert all(first)
    slider = page.locator("#day-slider")
    assert int(slider.get_attribute("max")) >= 1  # the map opens on the latest day
    screenshot(page, "dashboard-latest-day")
    slider.evaluate("(s) => { s.value = 0; s.dispatchEvent(new Event('input')); }")
    page.wait_for_function(
        f"JSON.stringify(({MAP_COLOURS})()) !== {first!r}".replace("'", '"'), timeout=10_000
    )
    assert _map_colours(page) != first
    screenshot(page, "dashboard-first-day")


def test_resident_sees_a_qr_code_and_its_reasons(site: Site, open_page) -> None:
    page = open_page(viewport={"width": 390, "height": 844}, bypass_csp=True)
    log_in(page, f"{site.url}/web/resident.html", "resident")
    page.wait_for_function("document.getElementById('qr').naturalWidth > 0", timeout=15_000)
    assert page.locator("#reason-zh").inner_text().strip()
    assert page.locator("#reason-en").inner_text().strip()
    assert page.locator("#payload-text").input_value().startswith("SZ1:")
    screenshot(page, "resident")


def _fresh_payload(site: Site) -> str:
    from fastapi.testclient import TestClient

    client = TestClient(site.app)
    response = client.post("/resident/code/token", headers=site.headers("green-resident"))
    assert response.status_code == 200, response.text
    return response.json()["payload"]


def _verdict(page, payload: str) -> str:
    page.fill("#payload", payload)
    page.click("#verify")
    page.wait_for_selector("#result:not([hidden])", timeout=10_000)
    verdict = page.locator("#result-verdict").inner_text() + " " + page.locator("#result-reason").inner_text()
    page.click("#result-close")
    return verdict


def test_checkpoint_accepts_a_fresh_code_and_rejects_a_tampered_one_also_offline(
    site: Site, open_page
) -> None:
    page = open_page(bypass_csp=True)
    log_in(page, f"{site.url}/web/checkpoint.html", "checkpoint")
    page.wait_for_selector("#verify", timeout=10_000)
    payload = _fresh_payload(site)
    assert "绿" in _verdict(page, payload) or "green" in _verdict(page, payload).lower()
    screenshot(page, "checkpoint-green")
    tampered = payload[:-6] + ("A" if payload[-6] != "A" else "B") + payload[-5:]
    rejected = _verdict(page, tampered)
    assert "green" not in rejected.lower() and "绿码" not in rejected
    page.context.set_offline(True)
    assert "green" in _verdict(page, payload).lower() or "绿" in _verdict(page, payload)
    assert "green" not in _verdict(page, tampered).lower()
    screenshot(page, "checkpoint-offline")


def test_a_checkpoint_account_is_refused_the_dashboard(site: Site, open_page) -> None:
    page = open_page(bypass_csp=True)
    log_in(page, f"{site.url}/web/dashboard.html", "checkpoint")
    page.wait_for_function(
        "/403|not allowed|无权|forbidden|refused/i.test(document.body.innerText)", timeout=10_000
    )
    assert page.evaluate(MAP_COLOURS) in (None, [])
    screenshot(page, "dashboard-refused")
