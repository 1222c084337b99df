"""The occupancy engine: limits from the crowd policy, scans and counters reconciled, stays, the forecast
warning before the limit, alerts with their reasons, and hysteresis."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest

from shuzhi.policy import PolicyError
from shuzhi.realtime.events import CounterReading
from shuzhi.realtime.live import Realtime
from shuzhi.realtime.occupancy import Occupancy, VenueInfo
from shuzhi.realtime.policy import load_policy

T0 = dt.datetime(2022, 5, 1, 1, 0, tzinfo=dt.UTC).timestamp()  # 09:00 in China
POLICY = load_policy("2022-9th")
LAKE = VenueInfo("S1", "West Lake", "scenic", "330106", 1000)
DINER = VenueInfo("R1", "Noodle house", "restaurant", "330106", 40)
CINEMA = VenueInfo("C1", "Cinema", "cinema", "330102", 200)


def engine(*venues: VenueInfo, risk: dict[str, str] | None = None) -> Occupancy:
    return Occupancy(POLICY, venues or (LAKE, DINER, CINEMA), risk)


def test_limits_follow_the_policy_by_category_and_the_countys_risk_level() -> None:
    occ = engine()
    assert (occ.venue("S1")["limit"], occ.venue("S1")["share"]) == (750, 0.75)
    assert occ.venue("S1")["rule"] == "crowd 2022-9th.1: scenic at low risk ≤ 75% of capacity"
    occ.set_risk_levels({"330106": "medium", "330102": "high"})
    assert [occ.venue(c)["limit"] for c in ("S1", "R1", "C1")] == [500, 20, 0]
    assert occ.venue("C1")["rule"].startswith("crowd 2022-9th.1: cinema at high risk ≤ 0%")
    spring_2020 = Occupancy(load_policy("2020-5th"), [LAKE])
    assert spring_2020.venue("S1")["limit"] == 300  # April 2020: scenic sites at 30% of capacity


def test_scans_count_people_in_and_out_once_each() -> None:
    occ = engine()
    occ.scan("R1", True, T0, 1)
    occ.scan("R1", True, T0 + 1, 1)  # a repeat: still one person
    occ.scan("R1", True, T0 + 2, 2, valid=False)  # refused at the door
    occ.scan("R1", True, T0 + 3, None)  # a code that names nobody here
    occ.scan("R1", False, T0 + 4, 3)  # never came in (by scan)
    occ.scan("X9", True, T0 + 5, 4)  # not a registered venue
    assert occ.venue("R1")["occupancy"] == 2
    occ.scan("R1", False, T0 + 60, 1)
    occ.scan("R1", False, T0 + 61, None)
    assert occ.venue("R1")["occupancy"] == 0
    stats = occ.stats
    assert (stats.repeated, stats.refused, stats.unmatched_exits, stats.unregistered) == (1, 1, 1, 1)
    [stay] = occ.stays
    assert (stay.person_key, stay.venue_code, stay.time_in, stay.time_out, stay.closed_by) == (
        1, "R1", T0, T0 + 60, "exit",
    )  # fmt: skip


def test_a_stay_without_an_exit_closes_after_its_categorys_timeout() -> None:
    occ = engine()
    occ.scan("R1", True, T0, 7)
    occ.scan("S1", True, T0, 7)
    occ.tick(T0 + 119 * 60)
    assert occ.stays == []
    occ.tick(T0 + 120 * 60)  # restaurants: 120 minutes
    assert [(s.venue_code, s.time_out - s.time_in, s.closed_by) for s in occ.stays] == [
        ("R1", 7200, "timeout")
    ]
    occ.tick(T0 + 240 * 60)  # scenic sites: 240 minutes
    assert [s.venue_code for s in occ.stays] == ["R1", "S1"]
    assert occ.venue("R1")["occupancy"] == occ.venue("S1")["occupancy"] == 0


def test_counters_count_the_headcount_where_they_report_scans_say_who() -> None:
    occ = engine()
    for person in range(10):
        occ.scan("S1", True, T0 + person, person)
    assert occ.venue("S1")["source"] == "scans"
    reading = CounterReading("S1", "S1-gate", 1, dt.datetime.fromtimestamp(T0 + 30, dt.UTC), 25, 5)
    occ.counter(reading)
    view = occ.venue("S1")
    # the counters start from the scans' headcount and add their own entries and exits
    assert (view["source"], view["occupancy"], view["scanned_inside"], view["counter_headcount"]) == (
        "counters", 30, 10, 30,
    )  # fmt: skip
    occ.scan("S1", True, T0 + 40, 99)  # a scan no longer moves the headcount, it still opens a stay
    assert (occ.venue("S1")["occupancy"], occ.venue("S1")["scanned_inside"]) == (30, 11)
    occ.tick(T0 + 30 + 16 * 60)  # counters silent for longer than counters.stale_minutes
    assert (occ.venue("S1")["source"], occ.venue("S1")["occupancy"]) == ("scans", 11)


def test_counties_add_up_their_venues() -> None:
    occ = engine()
    occ.scan("S1", True, T0, 1)
    occ.scan("R1", True, T0, 2)
    occ.scan("C1", True, T0, 3)
    counties = {c["county_code"]: c for c in occ.counties()}
    assert counties["330106"] == {
        "county_code": "330106", "risk_level": "low", "venues": 2, "occupancy": 2, "capacity": 1040,
        "limit": 780, "warning": 0, "at_limit": 0,
    }  # fmt: skip
    assert counties["330102"]["occupancy"] == 1


def ramp(occ: Occupancy, code: str, minutes: int, first_rate: int, step: int) -> list:
    """Arrivals at a rising rate (first_rate, first_rate + step, ... per minute); alerts in order."""
    alerts, person = [], 0
    for minute in range(minutes):
        rate = first_rate + step * minute
        for i in range(rate):
            person += 1
            occ.scan(code, True, T0 + minute * 60 + i * 60 / rate, person)
            alerts.extend(occ.alerts)
            occ.alerts.clear()
        occ.tick(T0 + (minute + 1) * 60)
        alerts.extend(occ.alerts)
        occ.alerts.clear()
    return alerts


def test_the_forecast_warns_before_the_limit_and_the_limit_alert_follows() -> None:
    occ = engine(LAKE)
    alerts = ramp(occ, "S1", 60, 5, 1)
    warning, limit = alerts[0], alerts[1]
    assert (warning.kind, limit.kind) == ("warning", "limit")
    assert warning.occupancy < warning.limit == 750 <= warning.forecast
    assert limit.occupancy == 750
    assert (limit.at - warning.at) >= dt.timedelta(minutes=5)  # minutes of warning before the limit
    assert warning.rule == "crowd 2022-9th.1: scenic at low risk ≤ 75% of capacity"
    assert warning.policy_version == "2022-9th.1"
    assert warning.reasons[0].startswith("West Lake (S1, scenic, county 330106): forecast")
    assert "Holt's damped trend" in warning.reasons[3]
    assert warning.arrivals_per_minute > 20
    assert len(alerts) == 2  # no flapping while the crowd keeps coming


def test_without_a_trend_there_is_no_early_warning_only_the_limit() -> None:
    occ = engine(DINER)
    for person in range(30):  # 30 people arrive in one burst: no history, no forecast
        occ.scan("R1", True, T0, person)
    assert [a.kind for a in occ.alerts] == ["limit"]
    assert occ.alerts[0].occupancy == 30


def test_hysteresis_an_alert_clears_below_the_clear_share_after_the_hold() -> None:
    occ = engine(DINER)  # limit 30
    for person in range(30):
        occ.scan("R1", True, T0, person)
    occ.alerts.clear()
    t = T0
    for person in range(4):  # 26 inside: below the clear line (90% of 30 = 27)
        t += 1
        occ.scan("R1", False, t, person)
    occ.tick(T0 + 60)  # but the alert is younger than hold_seconds: it stays
    assert occ.venue("R1")["state"] == "limit" and occ.alerts == []
    occ.scan("R1", True, T0 + 70, 100)
    occ.scan("R1", True, T0 + 71, 101)  # 28, just under the limit: no new alert either way
    assert occ.alerts == []
    for person in range(4, 12):
        occ.scan("R1", False, T0 + 80 + person, person)  # 20 inside
    for minute in range(3, 12):
        occ.tick(T0 + minute * 60)
    assert [a.kind for a in occ.alerts] == ["clear"]
    assert occ.venue("R1")["state"] == "normal"


def test_a_closed_category_is_at_its_limit_with_the_first_person() -> None:
    occ = engine(CINEMA, risk={"330102": "high"})
    occ.scan("C1", True, T0, 1)
    [alert] = occ.alerts
    assert (alert.kind, alert.occupancy, alert.limit) == ("limit", 1, 0)


def test_a_malformed_crowd_policy_names_the_key(tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "shuzhi/policy/editions/2022-9th/crowd.yaml").read_text()
    (tmp_path / "crowd.yaml").write_text(text.replace("  scenic: {", "  zoo: {"))
    with pytest.raises(PolicyError, match="unknown venue categories"):
        load_policy(tmp_path)
    (tmp_path / "crowd.yaml").write_text(text.replace("alpha: 0.3", "alpha: 1.5"))
    with pytest.raises(PolicyError, match="key 'warning.alpha'"):
        load_policy(tmp_path)


def test_a_counter_whose_clock_runs_ahead_is_taken_at_the_instances_time() -> None:
    now = dt.datetime.fromtimestamp(T0, dt.UTC)
    hub = Realtime(engine(LAKE), clock=lambda: now)
    hub.counter_sink(CounterReading("S1", "S1-gate", 1, now + dt.timedelta(days=400), 5, 0))
    later = now + dt.timedelta(seconds=90)
    hub.passages(
        [SimpleNamespace(checkpoint_code="S1", person_key=1, passed_at=later, direction="in", valid=True)]
    )
    # the bins follow the instance's time, not the device's: the next minute still closes a bin
    assert hub.occupancy._venues["S1"].bin_end < T0 + 3600


def test_the_trend_warns_earlier_than_a_smoothed_rate_alone_on_a_rising_crowd() -> None:
    """Holt's trend against the same smoothing with the trend switched off (β = 0: an EWMA of the rate)."""
    level_only = POLICY.model_copy(update={"warning": POLICY.warning.model_copy(update={"beta": 0.0})})
    lead = {}
    for name, policy in (("holt", POLICY), ("ewma", level_only)):
        alerts = ramp(Occupancy(policy, [LAKE]), "S1", 60, 5, 1)
        at = {a.kind: a.at for a in alerts}
        lead[name] = (at["limit"] - at["warning"]).total_seconds() / 60
    assert lead["holt"] > lead["ewma"] + 1, lead
    assert lead["holt"] >= 8, lead  # most of the 10-minute horizon
