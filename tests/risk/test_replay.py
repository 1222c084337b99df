"""The real 2020 replay: every city every day under the February 2020 rule, from the packaged counts."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from shuzhi.regions import divisions
from shuzhi.risk.policy import area_risk_policy, level_rank
from shuzhi.risk.replay import is_area, load_counts, rate_cities, replay

WUHAN, HANGZHOU = "420100", "330100"


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    path = replay("2020-5th", tmp_path_factory.mktemp("replay"))
    return pq.read_table(path), json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))


def _levels(table, code: str) -> dict[dt.date, str]:
    rows = table.filter(pc.field("city_code") == code).to_pylist()
    return {r["day"]: r["level"] for r in rows}


def test_wuhan_is_high_throughout_february_2020(written):
    wuhan = _levels(written[0], WUHAN)
    february = [dt.date(2020, 2, d) for d in range(1, 30)]
    assert {wuhan[d] for d in february} == {"high"}


def test_hangzhou_goes_medium_then_low(written):
    hangzhou = _levels(written[0], HANGZHOU)
    assert hangzhou[dt.date(2020, 2, 1)] == "high"
    assert hangzhou[dt.date(2020, 2, 25)] == "medium"
    assert hangzhou[dt.date(2020, 3, 10)] == "low"
    assert hangzhou[dt.date(2020, 4, 15)] == "low"


def test_every_city_every_day(written):
    table, doc = written
    counts = load_counts()
    codes = set(counts.filter(is_area(counts["city_code"]))["city_code"].to_pylist())
    assert set(table["city_code"].to_pylist()) == codes
    assert codes <= set(divisions())
    n_days = (dt.date(2020, 12, 8) - dt.date(2019, 12, 1)).days + 1
    assert table.num_rows == len(codes) * n_days
    assert doc["days"] == ["2019-12-01", "2020-12-08"]
    assert set(doc["cities"]) == codes
    assert {len(levels) for levels in doc["cities"].values()} == {n_days}
    assert doc["levels"] == ["low", "medium", "high"]
    assert doc["names"][HANGZHOU] == "杭州市"


def test_placeholders_are_skipped_and_listed(written):
    table, doc = written
    skipped = {s["code"]: s for s in doc["skipped"]}
    assert {"1100y0", "3300y1", "4200y0"} <= set(skipped)
    assert skipped["3300y1"]["name"] == "境外输入"
    assert not set(skipped) & set(table["city_code"].to_pylist())


def test_the_proxy_level_lies_between_no_cluster_and_any_cluster(written):
    for row in written[0].select(["level", "level_if_no_cluster", "level_if_cluster"]).to_pylist():
        assert (
            level_rank(row["level_if_no_cluster"])
            <= level_rank(row["level"])
            <= level_rank(row["level_if_cluster"])
        )


def test_the_json_matches_the_parquet(written):
    table, doc = written
    wuhan = _levels(table, WUHAN)
    assert [("low", "medium", "high")[i] for i in doc["cities"][WUHAN]] == [wuhan[d] for d in sorted(wuhan)]


def test_the_cluster_proxy_is_policy_data(engine, edition):
    counts = load_counts()
    hangzhou = counts.filter(pc.field("city_code") == HANGZHOU)
    feb_15 = dt.date(2020, 2, 15)
    shipped = _levels(rate_cities(engine, area_risk_policy("2020-5th"), hangzhou), HANGZHOU)
    folder = edition("2020-5th", "area_risk", {"replay.cluster_proxy_min_new_14d": 100})
    edited = _levels(rate_cities(engine, area_risk_policy(folder), hangzhou), HANGZHOU)
    assert (shipped[feb_15], edited[feb_15]) == ("high", "medium")


def test_the_replay_needs_the_county_rule(tmp_path):
    with pytest.raises(ValueError, match="county"):
        replay("2022-9th", tmp_path)
