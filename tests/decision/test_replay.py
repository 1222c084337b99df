"""R(t) of the real 2020 epidemic city by city, from the packaged counts: the known course of the outbreak."""

from __future__ import annotations

import datetime as dt

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from shuzhi.decision.replay import STEM, write_real_rt

WUHAN, HANGZHOU, WENZHOU = "420100", "330100", "330300"


@pytest.fixture(scope="module")
def estimates(tmp_path_factory):
    path = write_real_rt("2020-5th", tmp_path_factory.mktemp("replay"))
    assert path.name == f"{STEM}.parquet"
    return pq.read_table(path)


def _r(table, code: str, first: dt.date, last: dt.date) -> list[float]:
    rows = table.filter(pc.equal(table["area_code"], code)).to_pylist()
    return [r["rt_mean"] for r in rows if first <= r["day"] <= last and not r["projected"]]


def test_wuhan_grew_in_late_january_and_shrank_from_late_february(estimates):
    late_january = _r(estimates, WUHAN, dt.date(2020, 1, 25), dt.date(2020, 2, 5))
    assert min(late_january) > 1.5
    after = [r for r in _r(estimates, WUHAN, dt.date(2020, 2, 21), dt.date(2020, 3, 10)) if r is not None]
    assert after and max(after) < 1


def test_zhejiang_s_cities_fell_below_one_by_mid_february(estimates):
    for code in (HANGZHOU, WENZHOU):
        assert max(_r(estimates, code, dt.date(2020, 1, 27), dt.date(2020, 1, 31))) > 1, code
        later = [r for r in _r(estimates, code, dt.date(2020, 2, 10), dt.date(2020, 2, 20)) if r is not None]
        assert later and max(later) < 1, code


def test_every_estimate_carries_its_reason_and_quiet_days_have_none(estimates):
    observed = estimates.filter(pc.invert(estimates["projected"]))
    assert pc.all(pc.is_valid(observed["reason"])).as_py()
    quiet = _r(estimates, HANGZHOU, dt.date(2020, 6, 1), dt.date(2020, 6, 30))
    assert quiet and all(r is None for r in quiet)  # no cases: no estimate
