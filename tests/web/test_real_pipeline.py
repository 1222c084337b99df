"""The pages over the real road: a simulated province, ingested, analysed by ``shuzhi.pipeline`` and replayed,
then served with demo logins. Slow (about a minute): marked ``slow``; the map check also ``browser``.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shuzhi.ingest import ingest
from shuzhi.pipeline import analyse
from shuzhi.risk.replay import replay
from shuzhi.settings import DataDir
from shuzhi.sim import run
from shuzhi.sim.world import SimParams
from shuzhi.web.demo import demo_accounts
from shuzhi.web.server import dashboard_app

from .conftest import log_in, screenshot, serving

pytestmark = pytest.mark.slow
PANELS = (
    "/dashboard/area-risk",
    "/dashboard/codes/daily",
    "/dashboard/index",
    "/dashboard/index?level=city",
    "/dashboard/tracing/funnel",
    "/dashboard/tracing/cases",
    "/dashboard/replay",
    "/dashboard/epi",
    "/dashboard/flows",
    "/dashboard/followup",
    "/public/open-statistics",
    "/public/open-statistics?level=province",
    "/public/same-trip?trip_no=G7",
)


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> tuple[DataDir, dict[str, tuple[str, str]]]:
    """A small simulated province through ingest, the pipeline and the replay; the demo logins by role."""
    data = DataDir(Path(tmp_path_factory.mktemp("province")) / "data")
    run(data.feeds, SimParams(persons=5_000, days=14, start=dt.date(2020, 1, 20), seed=1))
    ingest(data.feeds, data.lake, secrets_dir=data.secrets)
    analyse(data)
    replay("2020-5th", data.outputs)
    logins = {role: (user, password) for user, password, role in demo_accounts(data.root)}
    return data, logins


@pytest.fixture(scope="module")
def client(province: tuple[DataDir, Any]) -> Iterator[TestClient]:
    with TestClient(dashboard_app(province[0].root)) as client:
        yield client


def _login(client: TestClient, logins: dict[str, tuple[str, str]], role: str) -> dict[str, str]:
    user, password = logins[role]
    token = client.post("/auth/token", data={"username": user, "password": password}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def test_every_panel_answers_from_the_pipeline(client: TestClient, province: tuple[DataDir, Any]) -> None:
    headers = _login(client, province[1], "epidemiologist")
    for path in PANELS:
        assert client.get(path, headers=headers).status_code == 200, path
    risk = client.get("/dashboard/area-risk", headers=headers).json()
    assert len(risk["counties"]) == 90 and len(risk["days"]) == 14
    assert all(level is not None for county in risk["counties"] for level in county["levels"])
    cases = client.get("/dashboard/tracing/cases", headers=headers).json()
    if cases:
        graph = client.get(f"/dashboard/tracing/graph/{cases[0]['case_key']}", headers=headers)
        assert graph.status_code == 200 and graph.json()["nodes"]


def test_the_demo_resident_gets_a_signed_code_that_is_not_green(
    client: TestClient, province: tuple[DataDir, Any]
) -> None:
    code = client.post("/resident/code/token", headers=_login(client, province[1], "resident")).json()
    assert code["colour"] in ("red", "yellow") and code["reason_zh"] and code["reason_en"]
    scan = {"checkpoint_code": "CP-1", "payload": code["payload"]}
    passage = client.post(
        "/checkpoint/passages", json=scan, headers=_login(client, province[1], "checkpoint")
    )
    assert passage.json()["reason"] == f"valid: {code['colour']}"


STOCK = [
    {"item": "beds", "holder": "330100", "quantity": 3},
    {"item": "masks", "holder": "330100", "quantity": 20_000},
    {"item": "masks", "holder": "330300", "quantity": 5_000},
]


def test_the_supplies_plan_shares_the_stock_by_need_and_moves_the_fewest_units(
    client: TestClient, province: tuple[DataDir, Any]
) -> None:
    headers = _login(client, province[1], "operator")
    plan = client.post("/dashboard/supplies/plan", json={"stock": STOCK}, headers=headers).json()
    items = {i["item"]: i for i in plan["items"]}
    assert set(items) == {"beds", "test_kits", "masks"}
    masks = items["masks"]
    assert len(masks["counties"]) == 90 and masks["need"] > 0
    assert (
        masks["allocated"] == min(masks["need"], 25_000)
        and masks["short"] == masks["need"] - masks["allocated"]
    )
    assert sum(s["quantity"] for s in masks["shipments"]) == masks["allocated"]
    assert items["test_kits"]["allocated"] == 0 and items["test_kits"]["short"] == items["test_kits"]["need"]
    by_city: dict[str, int] = {}
    for county in masks["counties"]:
        by_city[county["county_code"][:4]] = by_city.get(county["county_code"][:4], 0) + county["allocated"]
    held = {"3301": 20_000, "3303": 5_000}
    assert masks["moved_between_cities"] == sum(max(0, q - held.get(c, 0)) for c, q in by_city.items())
    bad = client.post(
        "/dashboard/supplies/plan", json={"stock": [{**STOCK[0], "holder": "330102"}]}, headers=headers
    )
    assert bad.status_code == 422 and "field 'holder'" in bad.json()["detail"][0]["msg"]
    long_ago = {"stock": [], "day": "0001-01-01"}  # the plan looks weeks back: no weeks before year 1
    year_one = client.post("/dashboard/supplies/plan", json=long_ago, headers=headers)
    assert year_one.status_code == 422 and year_one.json()["detail"][0]["loc"] == ["body", "day"]


@pytest.mark.browser
def test_the_map_draws_the_pipeline_levels(province: tuple[DataDir, Any], open_page: Any) -> None:
    data, logins = province
    with serving(dashboard_app(data.root)) as url:
        page = open_page()
        user, password = logins["operator"]
        log_in(page, f"{url}/web/dashboard.html", user, password)
        page.wait_for_function("() => window.dashboard.details !== null")
        colours = page.evaluate(
            "() => echarts.getInstanceByDom(document.getElementById('map')).getOption().series[0].data"
            ".map((d) => d.itemStyle.areaColor)"
        )
        palette = page.evaluate("() => window.dashboard.palette.level")
        assert len(colours) == 90 and set(colours) <= set(palette.values())
        page.wait_for_function("() => window.dashboard.replay !== null")
        screenshot(page, "dashboard-simulated-province")
        page.click("#supplies-form button")
        page.wait_for_function("() => window.dashboard.supplies !== null")
        assert page.locator("#supplies-items tbody tr").count() == 3
        assert page.locator("#supplies-shipments tbody tr").count() > 0
        assert "residents" in page.locator("#supplies-shipments").inner_text()  # each need says why


def test_the_public_risk_areas_come_with_an_edition_that_draws_them_and_go_without(
    province: tuple[DataDir, Any], tmp_path: Path
) -> None:
    data = DataDir(tmp_path / "data")
    shutil.copytree(province[0].root, data.root)
    with TestClient(dashboard_app(data.root)) as client:
        assert client.get("/public/risk-areas").status_code == 404  # the 2020 county rule draws no compounds
        analyse(data, "2022-9th", steps=("risk",))
        drawn = client.get("/public/risk-areas")
        assert drawn.status_code == 200
        body = drawn.json()
        assert body["high"] + body["medium"] == len(body["areas"]) > 0
        assert {a["level"] for a in body["areas"]} <= {"high", "medium"}
        analyse(data, "2020-5th", steps=("risk",))
        assert client.get("/public/risk-areas").status_code == 404  # an earlier edition's areas are gone
