"""The pages in Debian's chromium (Playwright), against the app under uvicorn with fixture results.

The dashboard draws Zhejiang's 90 counties coloured by risk level and recolours them with the day slider; a
resident sees a QR code that holds their signed code, and why it has its colour; the checkpoint page passes a
fresh code and refuses a tampered one, online and with the network cut; a role a page is not for is refused.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cbor2
import pytest
from sqlalchemy import select

from shuzhi.credentials import envelope, verify
from shuzhi.credentials.keys import NATIONAL
from shuzhi.credentials.qr import decode_image
from shuzhi.followup import STATUSES
from shuzhi.settings import DataDir
from shuzhi.store import Passage
from shuzhi.web.server import dashboard_app

from .conftest import log_in, screenshot, serving
from .lake import DAYS, EPI_CASES, GREEN_KEY, LAST, NATIONAL_VIEW, RESIDENT_KEY, SAME_TRIP, SECONDARY_KEY
from .site import Site, build_site

pytestmark = pytest.mark.browser
OpenPage = Callable[..., Any]
PHONE = {"width": 390, "height": 844}
MAP_READY = """() => {
  const chart = echarts.getInstanceByDom(document.getElementById('map'));
  return window.dashboard.details !== null && chart?.getOption()?.series?.[0]?.data?.length === 90;
}"""
MAP_COLOURS = """() => {
  const series = echarts.getInstanceByDom(document.getElementById('map')).getOption().series[0];
  return Object.fromEntries(series.data.map((d) => [d.name, d.itemStyle.areaColor]));
}"""


def _fresh_code(site: Site, colour: str = "green", **shift: float) -> str:
    """A health code signed by the instance's key, issued now (shifted by ``shift``)."""
    at = dt.datetime.now(dt.UTC) + dt.timedelta(**shift)
    return site.credentials.issue_code(GREEN_KEY, colour, "default_green", at).payload


def _forged_signature(payload: str) -> str:
    """The same token with one bit of its signature flipped: structurally perfect, cryptographically wrong."""
    prefix, cose = envelope.unwrap(payload)
    message = cbor2.loads(cose)
    protected, unprotected, claims, signature = message.value
    forged = bytes([signature[0] ^ 1]) + signature[1:]
    return envelope.wrap(cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, claims, forged])), prefix)


# the dashboard


def test_the_map_shows_90_counties_coloured_by_level_and_the_slider_recolours_them(
    site: Site, open_page: OpenPage
) -> None:
    page = open_page()
    log_in(page, f"{site.url}/web/dashboard.html", "operator")
    page.wait_for_function(MAP_READY)
    palette = page.evaluate("() => window.dashboard.palette.level")
    assert len(set(palette.values())) == 3
    assert page.evaluate("() => echarts.getMap('zhejiang-counties').geoJSON.features.length") == 90
    last = page.evaluate(MAP_COLOURS)
    assert last == {c: palette[site.fixture.level(c, DAYS[-1])] for c in site.fixture.counties}
    assert page.text_content("#day-label") == DAYS[-1].isoformat()
    page.wait_for_function("() => window.dashboard.riskAreas?.day === '" + str(DAYS[-1]) + "'")
    areas = page.locator("#map-areas-list li")
    assert areas.count() == 3 and "西湖区" in areas.first.inner_text()  # the fixture's three, high first
    screenshot(page, "dashboard-last-day")

    page.fill("#day-slider", "0")
    page.wait_for_function(f"() => document.getElementById('day-label').textContent === '{DAYS[0]}'")
    page.wait_for_function(f"() => window.dashboard.detailsDay === '{DAYS[0]}'")
    first = page.evaluate(MAP_COLOURS)
    assert first == {c: palette[site.fixture.level(c, DAYS[0])] for c in site.fixture.counties}
    assert all(first[c] != last[c] for c in site.fixture.counties)
    page.wait_for_function("() => window.dashboard.riskAreas?.day === '" + str(DAYS[0]) + "'")
    assert page.is_hidden("#map-areas")  # no compound at risk drawn that day
    screenshot(page, "dashboard-first-day")


def test_the_dashboard_panels_show_codes_index_tracing_and_the_replay(
    site: Site, open_page: OpenPage
) -> None:
    page = open_page()
    log_in(page, f"{site.url}/web/dashboard.html", "epidemiologist")
    page.wait_for_function(MAP_READY)
    page.wait_for_selector("#index-table tbody tr")
    assert page.locator("#index-table tbody tr").count() == 90
    page.wait_for_function("() => window.dashboard.replay !== null && window.dashboard.graph !== null")
    option = _option(page, "codes")
    assert [s["name"] for s in option["series"]] == ["green", "yellow", "red"]
    assert option["series"][2]["data"][-1] == 22
    assert option["series"][0]["yAxisIndex"] == 1  # green on an axis of its own: yellow and red stay readable
    funnel = _option(page, "funnel")["series"][0]["data"]
    assert [d["value"] for d in funnel] == [2, 3, 1, 2]
    graph = _option(page, "graph")["series"][0]
    assert len(graph["data"]) == 4 and len(graph["links"]) == 3
    page.wait_for_function("() => window.dashboard.flows !== null")
    assert page.locator("#flows-table tbody tr").count() == 2
    arrivals = _option(page, "flows-arrivals")
    assert arrivals["yAxis"][0]["data"][0] == "上城区" and arrivals["series"][0]["data"][0] == 2
    page.wait_for_function("() => window.dashboard.received !== null")
    cells = page.locator("#received-regions tbody tr td").all_text_contents()
    assert cells == ["南京市 320100", "1", "2", "1", "1", "2020-02-03 08:00"]
    assert page.locator("#received-contacts tbody tr").count() == 2
    page.wait_for_function("() => window.dashboard.followup !== null")
    statuses = page.locator("#followup-table tbody tr td:nth-child(2)").all_text_contents()
    assert statuses == ["silent", "missed", "due", "due"]  # the most urgent first
    days = page.locator("#followup-table tbody tr td:nth-child(5)").all_text_contents()
    assert days == ["2", "2", "2 (追踪 traced 2020-02-04)", "2"]  # one was found on day 1
    silent_days = page.locator("#followup-table tbody tr td:nth-child(6)").all_text_contents()
    assert silent_days == ["1", "", "", ""]  # the one who did not declare on day 1 (yesterday) once traced
    options = page.locator("#followup-filter option").evaluate_all("os => os.map((o) => o.value)")
    assert tuple(options[1:]) == STATUSES  # a filter for every status of the worklist
    page.select_option("#followup-filter", "due")
    page.wait_for_function("() => window.dashboard.followup.persons.length === 2")
    assert page.locator("#followup-table tbody tr td:first-child").all_text_contents()[1] == str(RESIDENT_KEY)
    page.select_option("#followup-filter", "")
    page.wait_for_function("() => window.dashboard.followup.persons.length === 4")
    # operators review return-to-work applications: the panel is not shown, nothing on the page was refused
    assert page.locator("#applications-panel").is_hidden()
    assert "Refused" not in page.locator("main").inner_text()
    page.select_option("#followup-county", "330105")  # a county's team: its own people
    page.wait_for_function(
        "() => window.dashboard.followup.persons.map((p) => p.county_code).join() === '330105'"
    )
    assert page.locator("#followup-table tbody tr td").first.text_content() == str(SECONDARY_KEY)
    row = page.locator("#followup-table tbody tr").first  # a field team could not reach them: record it
    assert row.locator(".last-visit").text_content() == "—"
    row.locator("select").select_option("unavailable")
    row.locator("button").click()
    page.wait_for_function("() => window.dashboard.followup.persons[0].last_visit !== null")
    last = page.locator("#followup-table tbody tr .last-visit").first.text_content()
    assert last.startswith("未联系上 unavailable ") and last.endswith(" epidemiologist")
    assert page.locator("#followup-table tbody tr .last-declared").first.text_content() == ""
    assert page.locator("#followup-table .lost").count() == 0
    row = page.locator("#followup-table tbody tr").first  # not reached again: lost to follow-up (2 in a row)
    row.locator("select").select_option("uncooperative")
    row.locator("button").click()
    page.wait_for_selector("#followup-table tbody tr .lost")
    assert page.text_content("#followup-table .lost") == "失联 lost to follow-up: 2 visits failed in a row"
    assert page.text_content("#followup-counts").endswith("uncooperative 1 · 失联 lost 1")
    row = page.locator("#followup-table tbody tr").first  # reached at the third call: temperature taken
    row.locator("select").select_option("reached")
    row.locator("input[type=number]").fill("36.8")
    row.locator("button").click()
    page.wait_for_function("() => window.dashboard.followup.persons[0].last_visit.outcome === 'reached'")
    declared = page.locator("#followup-table tbody tr .last-declared").first.text_content()
    assert declared.startswith("最近申报 declared ")  # the check counts as the person's declaration
    assert page.locator("#followup-table .lost").count() == 0  # found again
    assert page.text_content("#followup-counts").endswith("随访 visited since: reached 1")  # the county's
    with page.expect_download() as fetched:  # the county team's list, to print
        page.click("#followup-export")
    assert fetched.value.suggested_filename == f"followup-{LAST}-330105.csv"
    with open(fetched.value.path(), encoding="utf-8") as exported:
        assert [row["person_key"] for row in csv.DictReader(exported)] == [str(SECONDARY_KEY)]
    counties = page.locator("#followup-county option").all_text_contents()
    assert counties[0] == "全部 all" and counties[2].endswith("330105 (1)")
    replay = _option(page, "replay-map")["series"][0]["data"]
    assert len(replay) == 11
    assert page.locator("#replay-table tbody tr").count() == 12
    page.click("#index-table tbody tr >> nth=0")
    page.wait_for_function(
        "() => echarts.getInstanceByDom(document.getElementById('index-chart'))"
        ".getOption().title?.[0]?.text?.includes('index')"
    )
    screenshot(page, "dashboard-panels")


def test_the_epidemic_curve_shows_r_with_its_interval_and_the_projected_week(
    site: Site, open_page: OpenPage
) -> None:
    page = open_page()
    log_in(page, f"{site.url}/web/dashboard.html", "operator")
    page.wait_for_function("() => window.dashboard.epi !== null")
    assert page.locator("#epi-area option").count() == 2
    latest = page.locator("#epi-latest").inner_text()
    assert latest.startswith("R(t) 0.") and str(LAST) in latest  # falling cases: R below 1 on the last day
    assert "local cases" in page.locator("#epi-reason").inner_text()
    series = {s["name"]: s["data"] for s in _option(page, "epi")["series"]}
    assert series["本地 local"][: len(EPI_CASES)] == [n - (i < 3) for i, n in enumerate(EPI_CASES)]
    projected = [v for v in series["预测 projected"] if v is not None]
    assert len(projected) == 7 and projected[0] > projected[-1]
    page.select_option("#epi-area", "330100")
    page.wait_for_function("() => window.dashboard.epi.area.area_code === '330100'")
    screenshot(page, "dashboard-epidemic-curve")


# return to work: the enterprise applies, the operator approves on the dashboard


def test_an_enterprise_applies_and_an_operator_approves_on_the_dashboard(
    site: Site, open_page: OpenPage
) -> None:
    page = open_page(viewport=PHONE)
    log_in(page, f"{site.url}/web/enterprise.html", "enterprise")
    page.wait_for_selector("#measures input")
    page.fill("#planned-date", "2020-02-10")
    page.fill("#staff-planned", "40")
    for box in page.locator("#measures input").all():
        box.check()
    page.click("#application-form button")
    page.wait_for_function("() => window.enterprise.applications?.length > 0")
    filed = page.locator("#applications li").first
    assert "中风险 medium" in filed.inner_text() and "stay at home" in filed.inner_text()
    application_id = page.evaluate("window.enterprise.applications[0].id")
    operator = open_page()
    log_in(operator, f"{site.url}/web/dashboard.html", "operator")
    row = operator.locator(f"#applications-table tr[data-id='{application_id}']")
    row.locator("input").fill("approved: two canteen shifts")
    row.locator("button.approve").click()
    operator.wait_for_function(f"() => !window.dashboard.applications.some((a) => a.id === {application_id})")
    page.reload()
    page.wait_for_function("() => window.enterprise.applications?.[0]?.status === 'approved'")
    assert "two canteen shifts" in page.locator("#applications li").first.inner_text()
    screenshot(page, "enterprise-approved")


# the public page


def test_anyone_sees_the_risk_map_cases_with_small_counts_withheld_and_can_look_up_a_trip(
    site: Site, open_page: OpenPage
) -> None:
    page = open_page(viewport=PHONE)
    page.goto(f"{site.url}/web/public.html")  # no login
    page.wait_for_function("() => window.publicPage.statistics !== null")
    page.wait_for_function(
        "() => echarts.getInstanceByDom(document.getElementById('public-map'))"
        "?.getOption()?.series?.[0]?.data?.length === 90"
    )
    rows = page.locator("#public-table tbody tr")
    assert rows.count() == 11 and rows.nth(0).locator("td").nth(1).inner_text() == "15"
    page.wait_for_function("() => window.publicPage.riskAreas?.day === '" + str(LAST) + "'")
    areas = page.locator("#risk-areas-table tbody tr")
    assert [areas.nth(i).get_attribute("data-level") for i in range(areas.count())] == [
        "high",
        "high",
        "medium",
    ]
    assert areas.nth(0).locator("td").nth(1).inner_text() == "西湖区"  # county 330106, by name
    assert "高风险 high 2 · 中风险 medium 1" in page.text_content("#risk-areas-summary")
    assert "withheld" in page.locator("#public-rule").inner_text()
    page.wait_for_function("() => window.publicPage.catalogue !== null")
    assert page.locator("#catalogue-held tbody tr").count() == len(
        page.evaluate("window.publicPage.catalogue.held")
    )
    assert "cases found under observation" in page.locator("#catalogue-measures").inner_text()
    page.wait_for_function("() => window.publicPage.national !== null")
    nation = page.locator("#national-table tr[data-region='100000'] td")
    assert nation.nth(0).inner_text() == "全国" and nation.nth(3).inner_text() == str(
        sum(NATIONAL_VIEW.values())
    )
    jiangsu = page.locator("#national-table tr[data-region='320000'] td")
    assert jiangsu.nth(0).inner_text() == "江苏省" and jiangsu.nth(1).inner_text() == "—"
    assert "1 个地区的新增数未公开" in page.locator("#national-note").inner_text()
    page.wait_for_function(
        "() => echarts.getInstanceByDom(document.getElementById('national-map'))"
        "?.getOption()?.series?.[0]?.data?.length"
    )
    data = _option(page, "national-map")["series"][0]["data"]  # ECharts lists every province of the map
    provinces = {d["name"]: d["value"] for d in data if "value" in d}
    assert provinces == {"330000": 15, "320000": 7}  # each province's 14-day cases, as it reported them
    number, day, carriage = SAME_TRIP
    page.fill("#trip-no", number)
    page.fill("#trip-day", str(day))
    page.click("#same-trip button")
    page.wait_for_selector("#trip-matches li")
    match = page.locator("#trip-matches li").inner_text()
    assert number in match and carriage in match and "verified" in match
    assert "report to your community" in page.locator("#trip-status").inner_text()
    page.fill("#trip-day", str(LAST))
    page.click("#same-trip button")
    page.wait_for_function("() => window.publicPage.trip.matches.length === 0")
    assert "No published case itinerary" in page.locator("#trip-status").inner_text()
    screenshot(page, "public-page")


@pytest.mark.parametrize("regions_report", [True, False], ids=["national-node", "nothing-yet"])
def test_an_instance_without_its_own_figures_shows_what_it_holds_and_no_analyst_advice(
    site: Site, open_page: OpenPage, tmp_path: Path, regions_report: bool
) -> None:
    """A national node holds only what its regions sent: the national view, not empty local panels; an
    instance that has published nothing says so to the public, without telling it to run a command."""
    data = DataDir(tmp_path / "data")
    if regions_report:
        shutil.copytree(site.data.lake / "regional_statistics", data.lake / "regional_statistics")
    with serving(dashboard_app(data.root, NATIONAL)) as url:
        page = open_page(viewport=PHONE)
        page.goto(f"{url}/web/public.html")
        page.wait_for_function("() => window.publicPage.catalogue !== null")
        page.wait_for_function("() => document.getElementById('local-cases').hidden")
        assert page.locator("#local-risk").is_hidden() == regions_report
        assert page.locator("#national").is_visible() == regions_report
        text = page.locator("main").inner_text()
        assert "shuzhi analyse" not in text and str(tmp_path) not in text
        if regions_report:
            nation = page.locator("#national-table tr[data-region='100000'] td")
            assert nation.nth(3).inner_text() == str(sum(NATIONAL_VIEW.values()))
            held = {h["name"]: h for h in page.evaluate("window.publicPage.catalogue.held")}
            assert held["regional_statistics"]["kind"] == "received"
            screenshot(page, "public-page-national-node")
        else:
            assert "Nothing published yet" in page.locator("#public-status").inner_text()


def _option(page: Any, element: str) -> dict[str, Any]:
    return page.evaluate(f"() => echarts.getInstanceByDom(document.getElementById('{element}')).getOption()")


# the resident


def test_a_resident_sees_the_qr_of_a_signed_code_and_why_it_is_red(site: Site, open_page: OpenPage) -> None:
    page = open_page(viewport=PHONE, device_scale_factor=2)
    log_in(page, f"{site.url}/web/resident.html", "resident")
    page.wait_for_function("() => window.resident.code !== null && document.getElementById('qr').complete")
    assert page.get_attribute("#code-card", "class").split()[-1] == "red"
    assert page.text_content("#colour-name") == "红码 Red"
    assert page.text_content("#reason-zh") == "密切接触者（与病例同住 2020-02-03）"
    assert page.text_content("#reason-en") == "close contact of a case (same household, 2020-02-03)"
    assert "green from 2020-02-17" in page.text_content("#turns-green")
    assert "centralised isolation, day 2 of 10" in page.text_content("#followup")
    assert page.locator("#history li").count() == 2
    payload = page.evaluate("() => window.resident.code.payload")
    assert decode_image(page.locator("#qr").screenshot()) == payload
    checked = verify(payload, site.credentials.trust_list)
    assert (checked.valid, checked.counts_as, checked.subject) == (True, "red", str(RESIDENT_KEY))
    screenshot(page, "resident-code")

    before = page.evaluate("() => window.resident.code.followup.declared_today")
    assert page.text_content("#checks-today").endswith(f"Declared today: {before} of 2")  # two checks a day
    page.fill("#region_code", "330106")
    page.check("#symptoms input[value=fever]")
    page.click("#health-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('health-status').dataset.kind === 'ok'")
    page.wait_for_function(f"() => window.resident.code.followup.declared_today === {before + 1}")
    assert page.text_content("#checks-today").endswith(f"Declared today: {before + 1} of 2")
    page.fill("#appeal-text", "I was at work that day, not at home.")
    page.click("#appeal-form button[type=submit]")
    page.wait_for_selector("#appeals li")
    appeal = page.text_content("#appeals li")
    assert "close_contact" in appeal and "pending" in appeal
    screenshot(page, "resident-forms")


def test_a_fever_declared_on_the_page_turns_the_code_yellow_at_once(
    open_page: OpenPage, tmp_path: Path
) -> None:
    fresh = build_site(tmp_path)  # its own store: the green resident's code must stay green elsewhere
    with serving(fresh.app) as url:
        page = open_page(viewport=PHONE, device_scale_factor=2)
        log_in(page, f"{url}/web/resident.html", "green-resident")
        page.wait_for_function("() => window.resident.code !== null")
        assert page.get_attribute("#code-card", "class").split()[-1] == "green"
        page.fill("#region_code", "330102")
        page.fill("#temperature", "38.6")
        page.click("#health-form button[type=submit]")
        page.wait_for_function("() => window.resident.code.colour === 'yellow'")
        assert page.text_content("#colour-name") == "黄码 Yellow"
        assert "38.6℃" in page.text_content("#reason-zh")
        assert page.text_content("#rule").endswith("from what you just declared")
        assert page.text_content("#history li").endswith("黄码 Yellow · 依据您的申报 from your declaration")
        page.wait_for_function("() => document.getElementById('qr').complete")
        payload = page.evaluate("() => window.resident.code.payload")
        assert decode_image(page.locator("#qr").screenshot()) == payload
        assert verify(payload, fresh.credentials.trust_list).counts_as == "yellow"  # at any checkpoint
        screenshot(page, "resident-fever-declared")


# the checkpoint


def _check(page: Any, payload: str) -> dict[str, str]:
    """Paste a payload, verify, read the full-screen verdict, dismiss it."""
    page.fill("#payload", payload)
    page.click("#verify")
    page.wait_for_selector("#result:not([hidden])")
    verdict = page.evaluate("() => ({...document.getElementById('result').dataset})")
    verdict["text"] = page.text_content("#result-verdict")
    return verdict


def _next(page: Any) -> None:
    page.click("#result-close")
    page.wait_for_selector("#result", state="hidden")


def _checkpoint(site: Site, open_page: OpenPage) -> Any:
    page = open_page(viewport=PHONE)
    log_in(page, f"{site.url}/web/checkpoint.html", "checkpoint")
    page.wait_for_function("() => document.getElementById('trust-status').dataset.kind === 'ok'")
    return page


def test_the_checkpoint_passes_a_fresh_code_and_refuses_a_tampered_one(
    site: Site, open_page: OpenPage
) -> None:
    page = _checkpoint(site, open_page)
    fresh = _fresh_code(site)
    verdict = _check(page, fresh)
    assert (verdict["colour"], verdict["valid"], verdict["source"]) == ("green", "true", "server")
    screenshot(page, "checkpoint-green")
    _next(page)
    forged = _check(page, _forged_signature(fresh))
    assert (forged["colour"], forged["valid"], forged["reason"]) == ("red", "false", "bad_signature")
    screenshot(page, "checkpoint-tampered")
    _next(page)
    with site.app.state.services.store.session() as session:
        passages = session.scalars(select(Passage).order_by(Passage.id.desc()).limit(2)).all()
    assert [p.valid for p in passages] == [False, True]


def test_the_checkpoint_verifies_offline_against_the_cached_trust_list(
    site: Site, open_page: OpenPage
) -> None:
    page = _checkpoint(site, open_page)
    page.evaluate("() => navigator.serviceWorker.ready")
    page.context.set_offline(True)
    page.wait_for_function("() => !navigator.onLine")
    fresh = _fresh_code(site)
    verdict = _check(page, fresh)
    assert (verdict["colour"], verdict["valid"], verdict["source"]) == ("green", "true", "device")
    screenshot(page, "checkpoint-offline-green")
    _next(page)
    cases = {
        _forged_signature(fresh): "bad_signature",
        fresh[:40] + ("A" if fresh[40] != "A" else "B") + fresh[41:]: None,  # any refusal will do
        _fresh_code(site, minutes=-30): "expired",
        _fresh_code(site, minutes=30): "not_yet_valid",
        "SZ1:NOT-A-CODE": "malformed",
    }
    for payload, reason in cases.items():
        refused = _check(page, payload)
        assert (refused["colour"], refused["valid"], refused["source"]) == ("red", "false", "device")
        assert reason is None or refused["reason"] == reason, refused
        _next(page)
    assert _check(page, _fresh_code(site, "yellow"))["colour"] == "yellow"
    _next(page)

    page.reload()  # the service worker serves the page, localStorage the trust list
    page.wait_for_function("() => document.getElementById('trust-status').dataset.kind === 'ok'")
    assert _check(page, fresh)["colour"] == "green"
    screenshot(page, "checkpoint-offline-reloaded")


# refusals


@pytest.mark.parametrize(
    ("page_name", "username"),
    [("dashboard.html", "resident"), ("dashboard.html", "checkpoint"), ("resident.html", "operator")],
)
def test_a_role_the_page_is_not_for_is_refused(
    site: Site, open_page: OpenPage, page_name: str, username: str
) -> None:
    page = open_page()
    log_in(page, f"{site.url}/web/{page_name}", username)
    page.wait_for_function("() => document.getElementById('app-status').dataset.kind === 'error'")
    assert f"Refused: role {username} may not call this endpoint" in page.text_content("#app-status")
    screenshot(page, f"refused-{username}-{page_name.split('.')[0]}")
