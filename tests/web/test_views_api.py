"""The JSON behind the pages, over fixture results shaped like the pipeline's: the dashboard panels, the
resident's signed code, the public boundaries and trust list, the pages themselves and the demo logins."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
import shutil
from pathlib import Path
from typing import get_args
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from shuzhi import regions
from shuzhi.accounts import Role, create_account
from shuzhi.api.declared import declared_code, declared_rules
from shuzhi.api.healthcode import QR_COLOURS
from shuzhi.api.issuer import CODE_LIFETIME
from shuzhi.api.results import Results
from shuzhi.api.routers.followup import FollowupStatus, VisitOutcome
from shuzhi.codes import load_policy as load_code_policy
from shuzhi.credentials import verify
from shuzhi.followup import FOLLOWUP, STATUSES
from shuzhi.model import CHINA
from shuzhi.pipeline import RUNS_FILE
from shuzhi.risk.index import INDICATORS
from shuzhi.store import AuditRecord, HealthDeclaration
from shuzhi.store.models import VISIT_OUTCOMES
from shuzhi.web.demo import demo_accounts

from .lake import (
    CASE_KEY,
    COMPANION_KEYS,
    DAYS,
    EPI_CASES,
    GREEN_KEY,
    HANDED_OVER_BY,
    HANDED_OVER_KEYS,
    LAST,
    OTHER_CASE_KEY,
    RESIDENT_KEY,
    SAME_TRIP,
    SECONDARY_KEY,
    level_of,
)
from .site import PASSWORD, Site, build_site


def get(client: TestClient, site: Site, path: str, user: str = "operator") -> dict:
    response = client.get(path, headers=site.headers(user))
    assert response.status_code == 200, response.text
    return response.json()


# one map


def test_the_map_series_has_every_county_on_every_day(client: TestClient, site: Site) -> None:
    risk = get(client, site, "/dashboard/area-risk")
    assert risk["days"] == [d.isoformat() for d in DAYS]
    assert [c["code"] for c in risk["counties"]] == [r.code for r in regions.zhejiang_counties()]
    assert len(risk["counties"]) == 90
    for i, county in enumerate(risk["counties"]):
        assert county["levels"] == [level_of(i, d) for d in range(len(DAYS))]
        assert county["city_code"] == county["code"][:4] + "00"
        assert None not in county["five_colours"]


def test_one_day_of_the_map_carries_reasons(client: TestClient, site: Site) -> None:
    day = get(client, site, f"/dashboard/area-risk/{DAYS[2]}", user="epidemiologist")
    first = day["counties"][0]
    assert first["level"] == level_of(0, 2)
    assert first["reason"].startswith(first["level"])
    assert first["five_colour_reason"].endswith("(fixture)")
    missing = client.get("/dashboard/area-risk/2021-01-01", headers=site.headers("operator"))
    assert missing.status_code == 404


# one code, one index


def test_codes_by_colour_per_day(client: TestClient, site: Site) -> None:
    counts = get(client, site, "/dashboard/codes/daily")
    assert counts["days"] == [d.isoformat() for d in DAYS]
    assert counts["green"][0] == 1000 and counts["red"][-1] == 22


def test_the_index_of_a_day_and_its_history(client: TestClient, site: Site) -> None:
    latest = get(client, site, "/dashboard/index")
    assert latest["day"] == LAST.isoformat() and latest["indicators"] == list(INDICATORS)
    assert len(latest["rows"]) == 90
    assert {row["area_level"] for row in latest["rows"]} == {"county"}
    assert set(latest["rows"][0]["scores"]) == set(INDICATORS)
    cities = get(client, site, f"/dashboard/index?day={DAYS[0]}&level=city")
    assert len(cities["rows"]) == 11 and cities["day"] == DAYS[0].isoformat()
    history = get(client, site, "/dashboard/index/330102")
    assert history["name"] == "上城区" and len(history["index"]) == len(DAYS)
    assert client.get("/dashboard/index/110101", headers=site.headers("operator")).status_code == 404
    assert client.get("/dashboard/index?day=2019-01-01", headers=site.headers("operator")).status_code == 404


# tracing


def test_the_funnel_counts_each_person_once_under_their_strongest_classification(
    client: TestClient, site: Site
) -> None:
    funnel = get(client, site, "/dashboard/tracing/funnel")
    assert (funnel["cases"], funnel["close"], funnel["secondary"], funnel["companion"]) == (
        2,
        3,
        1,
        len(COMPANION_KEYS),
    )
    assert funnel["by_setting"]["close"] == {"household": 1, "workplace": 1, "meal": 1}


def test_the_followup_worklist_puts_the_most_urgent_first_and_audits_its_reads(fresh: Site) -> None:
    client = TestClient(fresh.app)
    worklist = get(client, fresh, "/dashboard/followup")
    assert worklist["day"] == LAST.isoformat()
    assert worklist["by_status"] == {"silent": 1, "missed": 1, "due": 2}
    assert worklist["by_county"] == {"330102": 2, "330105": 1, "unregistered": 1}
    county = get(client, fresh, "/dashboard/followup?county=330102")  # a county's team: its own people
    assert [p["county_code"] for p in county["persons"]] == ["330102", "330102"]
    assert (county["by_status"], county["by_county"]) == ({"missed": 1, "due": 1}, worklist["by_county"])
    assert worklist["by_measure"] == {"centralised_isolation": 3, "home_isolation": 1}
    assert [p["status"] for p in worklist["persons"]] == ["silent", "missed", "due", "due"]
    late = worklist["persons"][2]  # traced the day after the meal: day 1 not held against them
    assert (late["since"], late["traced_on"], late["silent_days"], late["missed_days"]) == (
        "2020-02-03",
        "2020-02-04",
        [],
        [],
    )
    [_, resident] = get(client, fresh, "/dashboard/followup?status=due")["persons"]
    assert resident["person_key"] == str(RESIDENT_KEY)
    assert (resident["observation_day"], resident["taken_days"], resident["next_test_on"]) == (
        2,
        [1],
        "2020-02-05",
    )
    assert (resident["since"], resident["traced_on"]) == ("2020-02-03", "2020-02-03")  # the case's diagnosis
    assert resident["reason"].endswith(
        "tests on days 1, 2, 3, 5, 7, 10; taken 1; next 2020-02-05; 2 health checks a day"
    )
    assert (resident["checks_per_day"], resident["silent_days"], resident["last_check_at"]) == (
        2,
        [],
        "2020-02-04T20:00:00",
    )
    for wrong in ("status=lost", "county=3301"):
        response = client.get(f"/dashboard/followup?{wrong}", headers=fresh.headers("operator"))
        assert response.status_code == 422
    assert get_args(FollowupStatus) == STATUSES  # the API's statuses are the worklist's
    assert get_args(VisitOutcome) == VISIT_OUTCOMES
    with fresh.app.state.services.store.session() as session:
        read = session.scalars(select(AuditRecord.person_key).where(AuditRecord.action == "read:followup"))
        assert set(read) == {int(p["person_key"]) for p in worklist["persons"]}


def test_a_field_team_records_visits_on_the_worklist_and_a_check_taken_counts_as_a_declaration(
    fresh: Site,
) -> None:
    client = TestClient(fresh.app)
    headers = fresh.headers("operator")
    path = f"/dashboard/followup/{SECONDARY_KEY}/visits"
    lost_after = load_code_policy("2020-5th").followup.lost_after_failed_visits
    for visit in range(lost_after):
        missed = client.post(
            path, json={"outcome": "unavailable", "note": "no answer at the door"}, headers=headers
        )
        assert missed.status_code == 201, missed.text
        assert (missed.json()["outcome"], missed.json()["declaration_id"]) == ("unavailable", None)
        [row] = _listed(client, fresh, SECONDARY_KEY)
        assert (row["failed_visits"], row["lost"]) == (visit + 1, visit + 1 == lost_after)  # 失联 at the last
    assert get(client, fresh, "/dashboard/followup?status=due")["lost"] == 1  # whatever page: the whole list
    assert get(client, fresh, "/dashboard/followup?county=330102")["lost"] == 0  # the person lives in 330105
    check = {"region_code": "330105", "temperature": 36.7, "symptoms": [], "contact_history": True}
    reached = client.post(path, json={"outcome": "reached", "measured": check}, headers=headers)
    assert reached.status_code == 201, reached.text
    assert reached.json()["recorded_by"] == "operator" and reached.json()["declaration_id"] is not None
    [row] = _listed(client, fresh, SECONDARY_KEY)
    assert (row["last_visit"]["outcome"], row["last_visit"]["recorded_by"]) == ("reached", "operator")
    assert (row["failed_visits"], row["lost"]) == (0, False)  # reached: found again
    assert get(client, fresh, "/dashboard/followup")["lost"] == 0
    declared_at = dt.datetime.fromisoformat(row["last_declared_at"])  # the check just taken, live
    assert abs(declared_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    everywhere, in_330102 = (get(client, fresh, f"/dashboard/followup{q}") for q in ("", "?county=330102"))
    assert everywhere["visits_since_listed"] == {"reached": 1}  # the same person: their last visit counts
    assert in_330102["visits_since_listed"] == {}  # the person lives in 330105
    due = get(client, fresh, "/dashboard/followup?status=due")["persons"]
    assert all(p["last_visit"] is None and p["last_declared_at"] is None for p in due)
    with fresh.app.state.services.store.session() as session:
        [declared] = session.scalars(
            select(HealthDeclaration).where(HealthDeclaration.person_key == SECONDARY_KEY)
        )
        assert (declared.temperature, declared.region_code) == (36.7, "330105")  # the next analysis counts it
        actions = session.scalars(select(AuditRecord.action).where(AuditRecord.person_key == SECONDARY_KEY))
        assert {"create:followup_visits", "create:health_declarations"} <= set(actions)
    refused = client.post(path, json={"outcome": "uncooperative", "measured": check}, headers=headers)
    assert refused.status_code == 422 and "measured" in refused.text  # a check needs the person reached
    stranger = client.post(
        f"/dashboard/followup/{GREEN_KEY}/visits", json={"outcome": "reached"}, headers=headers
    )
    assert stranger.status_code == 404 and "not on the follow-up worklist" in stranger.text


def test_a_county_team_exports_its_worklist_as_csv_and_each_person_read_is_audited(fresh: Site) -> None:
    client = TestClient(fresh.app)
    response = client.get("/dashboard/followup/csv?county=330102", headers=fresh.headers("operator"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="followup-2020-02-05-330102.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["status"] for r in rows] == ["missed", "due"]  # the county's two, most urgent first
    assert rows[1]["person_key"] == str(RESIDENT_KEY) and rows[1]["test_days"] == "1 2 3 5 7 10"
    assert set(rows[0]) == set(FOLLOWUP.names)  # every column
    with fresh.app.state.services.store.session() as session:
        read = session.scalars(select(AuditRecord.person_key).where(AuditRecord.action == "read:followup"))
        assert {RESIDENT_KEY, GREEN_KEY + 10} <= set(read)


def test_a_followup_step_that_found_nobody_is_an_empty_worklist_not_a_missing_one(fresh: Site) -> None:
    client = TestClient(fresh.app)
    shutil.rmtree(fresh.data.lake / "followup")  # the step wrote no table: nobody was under a measure
    assert (
        client.get("/dashboard/followup", headers=fresh.headers("operator")).status_code == 404
    )  # never ran
    runs = {"steps": {"followup": {"tables": [], "period": [DAYS[0].isoformat(), LAST.isoformat()]}}}
    (fresh.data.outputs / RUNS_FILE).write_text(json.dumps(runs), encoding="utf-8")
    worklist = get(client, fresh, "/dashboard/followup")
    assert worklist == {
        "day": LAST.isoformat(),
        "by_county": {},
        "by_status": {},
        "by_measure": {},
        "visits_since_listed": {},
        "lost": 0,
        "persons": [],
    }


def test_what_other_regions_handed_over_is_counted_per_region_and_its_reads_audited(fresh: Site) -> None:
    client = TestClient(fresh.app)
    received = get(client, fresh, "/dashboard/received")
    assert received["regions"] == [
        {
            "region": HANDED_OVER_BY,
            "name": "南京市",
            "cases": 1,
            "contacts": 2,
            "close": 1,
            "secondary": 1,
            "latest_contact_at": "2020-02-03T08:00:00",
        }
    ]
    assert {c["person_key"] for c in received["contacts"]} == {str(k) for k in HANDED_OVER_KEYS}
    assert all(c["evidence"].startswith(f"reported by {HANDED_OVER_BY}: ") for c in received["contacts"])
    with fresh.app.state.services.store.session() as session:
        read = session.scalars(
            select(AuditRecord.person_key).where(AuditRecord.action == "read:received_contacts")
        )
        assert set(read) == set(HANDED_OVER_KEYS)


def test_a_case_graph_names_its_people_as_strings_and_every_read_is_audited(fresh: Site) -> None:
    client = TestClient(fresh.app)
    cases = get(client, fresh, "/dashboard/tracing/cases")
    assert [c["case_key"] for c in cases] == [str(CASE_KEY), str(OTHER_CASE_KEY)]
    assert (cases[0]["close"], cases[0]["secondary"]) == (2, 1)
    graph = get(client, fresh, f"/dashboard/tracing/graph/{CASE_KEY}")
    ids = {n["id"] for n in graph["nodes"]}
    assert ids == {str(CASE_KEY), str(RESIDENT_KEY), str(GREEN_KEY + 10), str(SECONDARY_KEY)}
    assert {(e["source"], e["target"]) for e in graph["edges"]} >= {(str(RESIDENT_KEY), str(SECONDARY_KEY))}
    assert (graph["secondary_edges"], graph["secondary_shown"]) == (1, 1)
    capped = get(client, fresh, f"/dashboard/tracing/graph/{CASE_KEY}?secondary=0")  # close contacts only
    assert {n["id"] for n in capped["nodes"]} == ids - {str(SECONDARY_KEY)}
    assert (capped["secondary_edges"], capped["secondary_shown"]) == (1, 0)
    with fresh.app.state.services.store.session() as session:
        read = session.scalars(select(AuditRecord.person_key).where(AuditRecord.action == "read:contacts"))
        assert {RESIDENT_KEY, SECONDARY_KEY, CASE_KEY, OTHER_CASE_KEY} <= set(read)
    assert client.get("/dashboard/tracing/graph/42", headers=fresh.headers("operator")).status_code == 404


def test_the_replay_is_served_as_the_replay_wrote_it(client: TestClient, site: Site) -> None:
    replay = get(client, site, "/dashboard/replay")
    assert len([c for c in replay["cities"] if c.startswith("33")]) == 11
    assert replay["names"]["420100"] == "武汉市"


def test_the_epidemic_curve_with_r_and_the_projection(client: TestClient, site: Site) -> None:
    curve = get(client, site, "/dashboard/epi")
    assert curve["area"] == {"area_code": "330000", "name": "浙江省", "area_level": "province"}
    assert [a["area_code"] for a in curve["areas"]] == ["330000", "330100"]
    assert [d["cases"] for d in curve["observed"]] == EPI_CASES
    assert [d["local_cases"] for d in curve["observed"][:4]] == [1, 2, 4, 4]
    first, last = curve["observed"][5], curve["observed"][-1]
    assert first["rt_mean"] is None and "no estimate" in first["reason"]
    assert last["rt_low"] < last["rt_mean"] < 1 < first["cumulative"] and "local cases" in last["reason"]
    assert len(curve["projected"]) == 7 and "a day, its trend over 7 days" in curve["projected"][0]["reason"]
    city = get(client, site, "/dashboard/epi?area=330100")
    assert city["area"]["name"] == "杭州市" and city["observed"] == curve["observed"]
    missing = client.get("/dashboard/epi?area=330200", headers=site.headers("operator"))
    assert missing.status_code == 404


def test_open_statistics_withhold_small_counts_and_need_no_login(client: TestClient, site: Site) -> None:
    response = client.get("/public/open-statistics")
    assert response.status_code == 200, response.text
    stats = response.json()
    assert stats["day"] == str(LAST) and len(stats["areas"]) == 90
    assert "withheld" in stats["rule"] and "nearest 5" in stats["rule"]
    withheld = [a for a in stats["areas"] if a["new_cases"] is None]
    assert len(withheld) == 30 and all(a["level"] in ("low", "medium", "high") for a in stats["areas"])
    province = client.get("/public/open-statistics?level=province").json()
    assert [a["name"] for a in province["areas"]] == ["浙江省"] and province["areas"][0]["level"] is None
    assert client.get("/public/open-statistics?day=2019-01-01").status_code == 404


def test_the_same_trip_query_finds_the_published_trip_by_number_and_day(client: TestClient) -> None:
    number, day, carriage = SAME_TRIP
    found = client.get(f"/public/same-trip?trip_no={number.lower()}&day={day}").json()
    assert found["trip_no"] == number and [m["carriage"] for m in found["matches"]] == [carriage]
    assert found["matches"][0]["verified"] and "report to your community" in found["advice"]
    other_day = client.get(f"/public/same-trip?trip_no={number}&day={LAST}").json()
    assert other_day["matches"] == [] and "No published case itinerary" in other_day["advice"]
    assert client.get("/public/same-trip?trip_no=G7;DROP").status_code == 422


def test_the_catalogue_is_public_and_names_every_table_and_its_source(client: TestClient) -> None:
    response = client.get("/public/catalogue")
    assert response.status_code == 200, response.text
    held = {h["name"]: h for h in response.json()["held"]}
    assert held["epi"]["sources"] == ["pipeline step epi"] and held["epi"]["kind"] == "derived"
    assert held["open_statistics"]["rows"] == 5 * (90 + 11 + 1)
    measures = {m["name"]: m for m in response.json()["measures"]}
    assert measures["cases found under observation"]["value"] is None  # the fixture holds no diagnoses
    assert "no diagnoses" in measures["cases found under observation"]["how"]


def test_flows_count_each_resident_once_per_county_and_level_and_sum_the_sources(
    client: TestClient, site: Site
) -> None:
    found = get(client, site, "/dashboard/flows")
    assert found["day"] == str(LAST) and len(found["days"]) == 5
    arrivals = {a["county_code"]: a for a in found["arrivals"]}
    assert arrivals["330102"]["by_level"] == {"medium": 2, "high": 1} and arrivals["330102"]["persons"] == 3
    assert arrivals[None]["persons"] == 1 and arrivals[None]["name"].startswith("未登记")
    assert [(f["origin_name"], f["destination_name"], f["movements"]) for f in found["flows"]] == [
        ("杭州市", "温州市", 42),
        ("温州市", "杭州市", 25),
    ]
    assert client.get("/dashboard/flows", headers=site.headers("resident")).status_code == 403


def test_panels_answer_404_before_the_pipeline_has_run(tmp_path: Path, site: Site) -> None:
    empty = build_site(tmp_path / "data")
    shutil.rmtree(empty.data.lake)
    shutil.rmtree(empty.data.outputs)
    client = TestClient(empty.app)
    for path in (
        "/dashboard/area-risk",
        "/dashboard/codes/daily",
        "/dashboard/tracing/cases",
        "/dashboard/replay",
        "/dashboard/epi",
        "/dashboard/flows",
        "/dashboard/followup",
        "/public/open-statistics",
        "/public/same-trip?trip_no=G7",
    ):
        response = client.get(path, headers=empty.headers("operator"))
        assert response.status_code == 404 and "shuzhi" in response.json()["detail"], path
    assert client.post("/resident/code/token", headers=empty.headers("resident")).status_code == 404


# the resident's code


def test_the_residents_code_counts_the_health_checks_they_declared_today(fresh: Site) -> None:
    client = TestClient(fresh.app)
    headers = fresh.headers("resident")

    def declared_today() -> tuple[int, int]:
        followup = client.post("/resident/code/token", headers=headers).json()["followup"]
        return followup["declared_today"], followup["checks_per_day"]

    assert declared_today() == (0, 2)  # under centralised isolation: two checks a day
    body = {"region_code": "330102", "temperature": 36.6, "symptoms": [], "contact_history": False}
    made = client.post("/resident/declarations/health", json={**body, "visited_regions": []}, headers=headers)
    assert made.status_code == 201, made.text
    assert declared_today() == (1, 2)


def _declare(client: TestClient, headers: dict[str, str], temperature: float, symptoms: list[str]) -> None:
    body = {
        "region_code": "330102",
        "temperature": temperature,
        "symptoms": symptoms,
        "contact_history": False,
    }
    made = client.post("/resident/declarations/health", json={**body, "visited_regions": []}, headers=headers)
    assert made.status_code == 201, made.text


def test_a_fever_declared_in_the_app_turns_the_code_yellow_at_once(fresh: Site) -> None:
    client = TestClient(fresh.app)
    headers = fresh.headers("green-resident")

    def code() -> dict:
        response = client.post("/resident/code/token", headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    _declare(client, headers, 36.6, [])  # a normal check-in changes nothing
    assert (code()["colour"], code()["from_app_declaration"]) == ("green", False)
    _declare(client, headers, 38.5, ["cough"])
    yellow = code()
    assert (yellow["colour"], yellow["rule"], yellow["computed_colour"]) == ("yellow", "symptoms", "yellow")
    assert yellow["from_app_declaration"] and "38.5℃" in yellow["reason_zh"]
    newest = yellow["history"][0]  # the history shows the change the resident sees
    assert (newest["colour"], newest["rule"], newest["source"]) == ("yellow", "symptoms", "declared")
    assert yellow["day"] == dt.datetime.now(CHINA).date().isoformat()  # today's, by the same rules
    checked = verify(yellow["payload"], fresh.credentials.trust_list)  # what a checkpoint sees
    assert (checked.valid, checked.counts_as, checked.payload["hc"]["rc"]) == (True, "yellow", "symptoms")
    # once an analysis has landed the declarations made until now, the lake's code is the one shown
    runs = {"steps": {"codes": {"edition": "2020-5th", "app_declarations_until": _in(minutes=2)}}}
    (fresh.data.outputs / RUNS_FILE).write_text(json.dumps(runs), encoding="utf-8")
    assert (code()["colour"], code()["from_app_declaration"]) == ("green", False)


def test_a_declared_stay_in_a_city_with_a_high_risk_county_is_a_red_arrival(site: Site) -> None:
    found = Results(site.data)
    high = found.rows("area_risk", lambda t: t.filter(t.day == LAST, t.level == "high"))
    visited = high[0]["county_code"]
    noon = dt.datetime.combine(LAST, dt.time(12), CHINA)
    declaration = {"person_key": GREEN_KEY, "declared_at": noon - dt.timedelta(hours=2), "temperature": 36.5}
    declaration |= {"symptoms": [], "contact_history": False, "visited_regions": [visited]}
    rules = declared_rules(found)  # the fixture ran no analysis: the default edition, 2020-5th
    away = declared_code(found, rules, [HealthDeclaration(**declaration, region_code="320102")], noon).row
    assert (away["colour"], away["rule"], away["day"]) == ("red", "high_risk_arrival", LAST)
    assert visited[:4] in away["reason"]  # the city, as the edition matches itineraries
    at_home = HealthDeclaration(**declaration, region_code=visited[:4] + "99")  # the resident's own city
    assert declared_code(found, rules, [at_home], noon).row is None


def test_a_fever_declared_does_not_lower_a_red_code(fresh: Site) -> None:
    client = TestClient(fresh.app)
    headers = fresh.headers("resident")
    _declare(client, headers, 38.9, [])
    code = client.post("/resident/code/token", headers=headers).json()
    assert (code["colour"], code["rule"], code["from_app_declaration"]) == ("red", "close_contact", False)


def _in(minutes: int) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)).isoformat(timespec="seconds")


def test_the_resident_gets_a_signed_code_with_its_reasons(client: TestClient, site: Site) -> None:
    response = client.post("/resident/code/token", headers=site.headers("resident"))
    assert response.status_code == 200, response.text
    code = response.json()
    assert (code["colour"], code["rule"], code["computed_colour"]) == ("red", "close_contact", "red")
    assert code["reason_zh"] == "密切接触者（与病例同住 2020-02-03）"
    assert code["reason_en"] == "close contact of a case (same household, 2020-02-03)"
    assert (code["turns_green_zh"], code["turns_green_en"]) == ("2020-02-17起转绿", "green from 2020-02-17")
    assert code["valid_until"] == (LAST + dt.timedelta(days=1)).isoformat()
    followup = code["followup"]  # the worklist's row of the code's day
    assert (followup["measure"], followup["observation_day"], followup["taken_days"]) == (
        "centralised_isolation",
        2,
        [1],
    )
    assert (followup["next_test_on"], followup["traced_on"]) == (LAST.isoformat(), "2020-02-03")
    assert (followup["checks_per_day"], followup["silent_days"]) == (2, [])
    assert followup["reason_en"].endswith("next 2020-02-05; 2 health checks a day")
    assert followup["reason_zh"].startswith("集中隔离医学观察 第2天")
    assert [(h["day"], h["colour"]) for h in code["history"]] == [
        (DAYS[3].isoformat(), "red"),
        (DAYS[1].isoformat(), "yellow"),
    ]
    issued, expires = (dt.datetime.fromisoformat(code[k]) for k in ("issued_at", "expires_at"))
    assert expires - issued == CODE_LIFETIME
    checked = verify(code["payload"], site.credentials.trust_list)
    assert (checked.valid, checked.counts_as, checked.subject) == (True, "red", str(RESIDENT_KEY))
    assert checked.payload["hc"]["rc"] == "close_contact"


def test_the_qr_code_is_an_svg_in_the_colour_of_the_code(client: TestClient, site: Site) -> None:
    code = client.post("/resident/code/token", headers=site.headers("green-resident")).json()
    assert code["colour"] == "green"
    svg = unquote(code["qr_svg"].removeprefix("data:image/svg+xml;charset=utf-8,"))
    assert svg.startswith("<svg") or svg.startswith("<?xml")
    assert QR_COLOURS["green"] in svg


def test_an_approved_manual_change_overrides_the_rules_and_says_so(fresh: Site) -> None:
    client = TestClient(fresh.app)
    body = {"person_key": RESIDENT_KEY, "colour": "green", "reason": "recovered, test negative twice"}
    change = client.post("/operator/manual-changes", json=body, headers=fresh.headers("operator"))
    fresh_operator = _second_operator(fresh)
    approved = client.post(f"/operator/manual-changes/{change.json()['id']}/approve", headers=fresh_operator)
    assert approved.status_code == 200, approved.text
    code = client.post("/resident/code/token", headers=fresh.headers("resident")).json()
    assert (code["colour"], code["rule"], code["computed_colour"]) == ("green", "manual_change", "red")
    assert code["reason_en"] == "manual correction: recovered, test negative twice"
    assert code["manual_colour"]["colour"] == "green"
    assert code["history"][0]["source"] == "manual"
    assert verify(code["payload"], fresh.credentials.trust_list).counts_as == "green"


def _second_operator(site: Site) -> dict[str, str]:
    with site.app.state.services.store.session() as session:
        create_account(session, "operator2", PASSWORD, Role.OPERATOR, site.app.state.services.clock())
    return site.headers("operator2")


def test_issuing_a_code_is_audited(fresh: Site) -> None:
    client = TestClient(fresh.app)
    client.post("/resident/code/token", headers=fresh.headers("resident"))
    with fresh.app.state.services.store.session() as session:
        record = session.scalars(select(AuditRecord).where(AuditRecord.action == "issue:health_codes")).one()
    assert (record.person_key, record.detail) == (RESIDENT_KEY, {"colour": "red", "rule": "close_contact"})


# public: boundaries and trust list


@pytest.mark.parametrize(("level", "count"), [("county", 90), ("city", 11), ("province", 34)])
def test_boundaries_are_the_real_divisions_with_text_codes(
    client: TestClient, level: str, count: int
) -> None:
    geojson = client.get(f"/public/boundaries/{level}").json()
    codes = [f["properties"]["adcode"] for f in geojson["features"] if f["properties"]["name"]]  # not JD
    assert len(codes) == count and all(regions.divisions()[c].level == level for c in codes)
    assert client.get("/public/boundaries/prefecture").status_code == 422


def test_the_trust_list_publishes_the_signing_key(client: TestClient, site: Site) -> None:
    listed = client.get("/public/trust-list").json()
    [key] = listed["keys"]
    signer_kid = site.credentials.keys.active("330100").kid
    assert (key["kid"], key["region"], key["algorithm"]) == (signer_kid.hex(), "330100", "ES256")
    assert base64.b64decode(listed["signed"])[:1] == b"\xd2"  # COSE_Sign1, tag 18


# the pages


@pytest.mark.parametrize(
    "page",
    ["", "dashboard.html", "resident.html", "checkpoint.html", "public.html", "enterprise.html", "verify.js"],
)
def test_the_pages_are_served_with_a_content_security_policy(client: TestClient, page: str) -> None:
    response = client.get(f"/web/{page}")
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_echarts_comes_from_npm_and_root_leads_to_the_pages(client: TestClient) -> None:
    echarts = client.get("/web/vendor/echarts.min.js")
    assert echarts.status_code == 200 and b"echarts" in echarts.content[:2000]
    assert client.get("/", follow_redirects=False).headers["location"] == "/web/"
    assert "/web/" not in client.get("/openapi.json").json()["paths"]


# demo logins


def test_demo_accounts_log_in_and_the_resident_has_a_code_to_explain(fresh: Site) -> None:
    accounts = demo_accounts(fresh.data.root)
    roles = {role for _user, _password, role in accounts}
    assert roles == {"operator", "epidemiologist", "checkpoint", "auditor", "admin", "resident", "enterprise"}
    client = TestClient(fresh.app)
    for username, password, _role in accounts:
        login = client.post("/auth/token", data={"username": username, "password": password})
        assert login.status_code == 200, username
    resident, password = next((u, p) for u, p, r in accounts if r == "resident")
    token = client.post("/auth/token", data={"username": resident, "password": password}).json()
    code = client.post("/resident/code/token", headers={"Authorization": f"Bearer {token['access_token']}"})
    # the fixture's only red resident already holds an account, so the demo resident is the yellow one
    assert code.json()["colour"] == "yellow"
    again = dict((u, p) for u, p, _r in demo_accounts(fresh.data.root))
    assert again[resident] != password  # run again: new passwords, same accounts
    firm = client.post(
        "/auth/token", data={"username": "demo-enterprise", "password": again["demo-enterprise"]}
    )
    mine = client.get(
        "/enterprise/applications", headers={"Authorization": f"Bearer {firm.json()['access_token']}"}
    )
    assert mine.status_code == 200 and mine.json() == []  # bound to the fixture's firm


def _listed(client: TestClient, site: Site, person_key: int) -> list[dict]:
    persons = get(client, site, "/dashboard/followup")["persons"]
    return [p for p in persons if p["person_key"] == str(person_key)]
