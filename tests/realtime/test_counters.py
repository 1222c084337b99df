"""People counters drive occupancy: the device simulator's readings (as the MQTT subscriber delivers them,
de-duplicated) take a scenic site towards its limit, and the warning comes from the counters' forecast."""

from __future__ import annotations

import datetime as dt

from shuzhi.realtime.devices import CounterSimulator, Venue
from shuzhi.realtime.occupancy import Occupancy, VenueInfo
from shuzhi.realtime.policy import load_policy

START = dt.datetime(2022, 5, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def test_counters_ramping_a_venue_past_its_limit_warn_minutes_before_it() -> None:
    simulator = CounterSimulator([Venue("S1", "scenic", 1000)], seed=7, start=START, interval=30, ramp=1.1)
    engine = Occupancy(load_policy("2022-9th"), [VenueInfo("S1", "West Lake", "scenic", "330106", 1000)])
    alerts = []
    for reading in simulator.run(60):
        engine.counter(reading)
        engine.tick(reading.at.timestamp())
        alerts.extend(engine.alerts)
        engine.alerts.clear()
    view = engine.venue("S1")
    assert view["source"] == "counters" and view["counter_headcount"] == simulator.truth["S1"].inside
    assert [a.kind for a in alerts][:2] == ["warning", "limit"]
    warning, limit = alerts[0], alerts[1]
    assert warning.source == "counters" and warning.occupancy < 750 <= warning.forecast
    assert limit.occupancy >= 750
    assert limit.at - warning.at >= dt.timedelta(minutes=5), (warning.at, limit.at)
    assert len(alerts) == 2  # the crowd holds above the limit: no flapping
