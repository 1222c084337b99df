"""The real-time API end to end: checkpoint scans and venue-code check-ins through HTTP feed occupancy,
alerts (history and server-sent events) and stays in the lake."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import spec_tables
from fastapi.testclient import TestClient
from sqlalchemy import select

from shuzhi.accounts import Role, create_account
from shuzhi.api import ApiSettings, create_app
from shuzhi.api.verifier import CheckpointVerdict
from shuzhi.lake import Lake
from shuzhi.model import VENUES
from shuzhi.store import AuditRecord

T0 = dt.datetime(2022, 5, 1, 1, 0, tzinfo=dt.UTC)  # 09:00 in China
RESIDENT_KEY = 4_611_686_018_427_387_904
REGISTRY = """
| venue_code | name       | category | county_code | capacity | as_of      |
| S1         | West Lake  | scenic   | 330106      | 200      | 2022-01-01 |
| M1         | Wulin mall | mall     | 330103      | 1000     | 2022-01-01 |
"""


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


def verifier(payload: str, now: dt.datetime) -> CheckpointVerdict:
    """``P:<person key>`` is a valid code of that person, anything else a forgery."""
    if payload.startswith("P:"):
        return CheckpointVerdict(True, "valid: green", int(payload[2:]))
    return CheckpointVerdict(False, "invalid: bad signature")


@dataclass
class Site:
    client: TestClient
    clock: Clock
    data: Path
    headers: dict[str, dict[str, str]]

    @property
    def hub(self):
        return self.client.app.state.realtime

    def scan(self, code: str, person: int | str, direction: str = "in") -> None:
        payload = person if isinstance(person, str) else f"P:{person}"
        body = {"checkpoint_code": code, "payload": payload, "direction": direction}
        response = self.client.post("/checkpoint/passages", json=body, headers=self.headers["checkpoint"])
        assert response.status_code == 201, response.text

    def get(self, path: str, role: str = "operator", **headers: str):
        response = self.client.get(path, headers={**self.headers[role], **headers})
        assert response.status_code == 200, response.text
        return response


def write_registry(data: Path, registry: str) -> None:
    """The venue registry (a spec table) into the data directory's lake."""
    venues = spec_tables.table(registry, VENUES.schema)
    Lake(data / "lake", durable=False).write_part("venues", dt.date(2022, 1, 1), "part-fix.parquet", venues)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    data = tmp_path / "data"
    write_registry(data, REGISTRY)
    clock = Clock()
    app = create_app(ApiSettings(data_dir=data, clock=clock), verifier=verifier)
    headers = {}
    with app.state.services.store.session() as session:
        for role in (Role.CHECKPOINT, Role.OPERATOR, Role.RESIDENT):
            key = RESIDENT_KEY if role is Role.RESIDENT else None
            account = create_account(session, role.value, "correct horse battery", role, T0, key)
            session.flush()
            token, _ = app.state.services.signer.issue(account.id, role)
            headers[role.value] = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as client:
        yield Site(client, clock, data, headers)


def test_scans_and_check_ins_feed_occupancy_by_venue_and_county(site: Site) -> None:
    site.scan("S1", 1)
    site.scan("S1", 2)
    site.scan("S1", "forged")  # refused: does not enter
    site.scan("M1", 3)
    response = site.client.post(
        "/realtime/check-ins", json={"venue_code": "S1"}, headers=site.headers["resident"]
    )
    assert response.status_code == 201, response.text
    assert response.json() == {
        "venue_code": "S1", "venue_name": "West Lake", "direction": "in", "at": "2022-05-01T01:00:00Z",
    }  # fmt: skip
    body = site.get("/realtime/occupancy").json()
    assert body["policy_version"] == "2022-9th.1"
    lake = next(v for v in body["venues"] if v["venue_code"] == "S1")
    assert (lake["occupancy"], lake["limit"], lake["source"], lake["state"]) == (3, 150, "scans", "normal")
    counties = {c["county_code"]: c["occupancy"] for c in body["counties"]}
    assert counties == {"330106": 3, "330103": 1}
    assert [v["venue_code"] for v in site.get("/realtime/occupancy?county=330103").json()["venues"]] == ["M1"]
    fullest = site.get("/realtime/occupancy?limit=1").json()
    assert [v["venue_code"] for v in fullest["venues"]] == ["S1"] and len(fullest["counties"]) == 2
    at_the_door = site.get("/realtime/venues/S1", role="checkpoint").json()
    assert at_the_door["occupancy"] == 3
    assert site.client.get("/realtime/venues/X1", headers=site.headers["checkpoint"]).status_code == 404

    unknown = site.client.post(
        "/realtime/check-ins", json={"venue_code": "X1"}, headers=site.headers["resident"]
    )
    assert unknown.status_code == 404
    with site.client.app.state.services.store.session() as session:
        actions = session.scalars(select(AuditRecord.action).where(AuditRecord.person_key == RESIDENT_KEY))
        assert "create:check_ins" in list(actions)


def test_an_exit_closes_the_stay_and_it_reaches_the_lake(site: Site) -> None:
    site.scan("M1", 7)
    site.clock.now = T0 + dt.timedelta(minutes=40)
    site.scan("M1", 7, "out")
    site.client.post("/realtime/check-ins", json={"venue_code": "M1"}, headers=site.headers["resident"])
    site.clock.now = T0 + dt.timedelta(minutes=50)
    site.client.post(
        "/realtime/check-ins", json={"venue_code": "M1", "direction": "out"}, headers=site.headers["resident"]
    )
    site.hub.tick()
    site.hub.stays.flush()
    stays = Lake(site.data / "lake").read("venue_stays").sort_by("time_in").to_pylist()
    assert [(s["person_key"], s["time_in"], s["time_out"]) for s in stays] == [
        (7, dt.datetime(2022, 5, 1, 9, 0), dt.datetime(2022, 5, 1, 9, 40)),
        (RESIDENT_KEY, dt.datetime(2022, 5, 1, 9, 40), dt.datetime(2022, 5, 1, 9, 50)),
    ]


def drive_towards_the_limit(site: Site, code: str, limit: int) -> int:
    """Scans at a rising rate until the venue is at its limit; returns the people let in."""
    person = 0
    for minute in range(60):
        rate = 2 + 2 * minute
        for i in range(rate):
            site.clock.now = T0 + dt.timedelta(minutes=minute, seconds=i * 60 / rate)
            person += 1
            site.scan(code, person)
            if person == limit:
                return person
        site.clock.now = T0 + dt.timedelta(minutes=minute + 1)
        site.hub.tick()
    raise AssertionError("never reached the limit")


def test_a_venue_driven_towards_its_limit_warns_first_then_alerts_with_reasons(site: Site) -> None:
    drive_towards_the_limit(site, "S1", 150)
    history = site.get("/realtime/alerts").json()
    assert history["last_id"] == 2
    limit, warning = history["alerts"]  # newest first
    assert (warning["kind"], limit["kind"]) == ("warning", "limit")
    assert warning["occupancy"] < warning["limit"] == 150 <= warning["forecast"]
    assert warning["at"] < limit["at"]
    assert warning["rule"] == "crowd 2022-9th.1: scenic at low risk ≤ 75% of capacity"
    assert warning["reasons"][0].startswith("West Lake (S1, scenic, county 330106): forecast")
    assert site.get("/realtime/alerts?after=1").json()["alerts"] == [limit]

    stream = site.get("/realtime/alerts/stream")
    assert stream.headers["content-type"].startswith("text/event-stream")
    events = [block for block in stream.text.split("\n\n") if block.startswith("id:")]
    assert [json.loads(e.split("data: ", 1)[1])["kind"] for e in events] == ["warning", "limit"]
    assert events[0].splitlines()[:2] == ["id: 1", "event: alert"]
    resumed = site.get("/realtime/alerts/stream", **{"Last-Event-ID": "1"}).text
    assert "id: 2\n" in resumed and "id: 1\n" not in resumed
    assert stream.text.startswith("retry: 1000\n\n")


def test_a_restarted_instance_knows_who_is_inside_and_raises_nothing_twice(site: Site) -> None:
    site.scan("M1", 7)
    site.scan("M1", 8)
    site.scan("M1", 8, "out")
    for person in range(100, 250):  # the scenic site at its limit of 150
        site.scan("S1", person)
    before = site.get("/realtime/alerts").json()["last_id"]
    site.hub.stop()  # the instance goes down: its stays written, its writer lease given up
    site.clock.now = T0 + dt.timedelta(minutes=30)

    again = create_app(ApiSettings(data_dir=site.data, clock=site.clock), verifier=verifier)
    with TestClient(again) as client:
        hub = again.state.realtime
        assert hub.venue("M1")["occupancy"] == 1 and hub.venue("S1")["occupancy"] == 150
        assert hub.venue("S1")["state"] == "limit"
        assert hub.alerts.last_id == before  # the history, and nothing raised again
        site.clock.now = T0 + dt.timedelta(minutes=45)
        body = {"checkpoint_code": "M1", "payload": "P:7", "direction": "out"}
        assert (
            client.post("/checkpoint/passages", json=body, headers=site.headers["checkpoint"]).status_code
            == 201
        )
    stays = Lake(site.data / "lake").read("venue_stays").to_pylist()
    assert sorted((s["person_key"], s["time_in"], s["time_out"]) for s in stays) == [
        (7, dt.datetime(2022, 5, 1, 9, 0), dt.datetime(2022, 5, 1, 9, 45)),
        (8, dt.datetime(2022, 5, 1, 9, 0), dt.datetime(2022, 5, 1, 9, 0)),
    ]


def test_new_risk_levels_and_new_venues_in_the_lake_change_the_limits_at_once(site: Site) -> None:
    for person in range(80):
        site.scan("S1", person)
    assert site.get("/realtime/venues/S1", role="checkpoint").json()["limit"] == 150
    lake = Lake(site.data / "lake", durable=False)
    risk = pa.table({"county_code": ["330106"], "day": [dt.date(2022, 4, 30)], "level": ["high"]})
    lake.root.joinpath("area_risk/day=2022-04-30").mkdir(parents=True)
    pq.write_table(risk, lake.root / "area_risk/day=2022-04-30/part-0.parquet")
    more = spec_tables.table(
        """
        | venue_code | name   | category | county_code | capacity | as_of      |
        | G1         | Gym    | gym      | 330106      | 50       | 2022-04-30 |
        """,
        VENUES.schema,
    )
    lake.write_part("venues", dt.date(2022, 4, 30), "part-more.parquet", more)
    site.hub.watch()
    venue = site.get("/realtime/venues/S1", role="checkpoint").json()
    assert (venue["risk_level"], venue["limit"], venue["state"]) == ("high", 60, "limit")
    assert site.get("/realtime/venues/G1", role="checkpoint").json()["limit"] == 0  # gyms close at high risk
    [alert] = site.get("/realtime/alerts").json()["alerts"]
    assert (alert["kind"], alert["occupancy"], alert["limit"]) == ("limit", 80, 60)
    assert alert["rule"] == "crowd 2022-9th.1: scenic at high risk ≤ 30% of capacity"
