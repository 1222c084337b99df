"""The ``epi`` policy section: validated with the key named, and its numbers change the result."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

from shuzhi.decision import epi_policy
from shuzhi.decision.rt import estimate
from shuzhi.policy import PolicyError, edition_dir

CASES = np.array([3, 5, 8, 6, 9, 12, 10, 14, 13, 17, 15, 20, 18, 22, 25, 21, 19, 16, 14, 12])


def test_the_2020_edition_ships_the_section():
    policy = epi_policy("2020-5th")
    assert policy.serial_interval.mean_days == 4.7 and policy.window_days == 7


def test_the_2022_editions_ship_omicron_s_shorter_serial_interval():
    for name in ("2022-9th", "2022-11th"):
        interval = epi_policy(name).serial_interval
        assert (interval.mean_days, interval.sd_days) == (3.3, 2.2)
    growing = np.round(5 * 1.15 ** np.arange(20))  # 15% more cases a day
    omicron = estimate(growing, epi_policy("2022-9th"))
    wild_type = estimate(growing, epi_policy("2020-5th"))
    assert 1 < omicron.mean[-1] < wild_type.mean[-1]  # the same growth, over shorter generations


def test_an_edition_without_the_section_says_so(tmp_path):
    folder = tmp_path / "edition"
    shutil.copytree(edition_dir("2022-11th"), folder)
    (folder / "epi.yaml").unlink()
    with pytest.raises(PolicyError, match="policy section 'epi' is missing"):
        epi_policy(folder)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("window_days", 0, "key 'window_days': Input should be greater than 0"),
        ("serial_interval.sd_days", -1, "key 'serial_interval.sd_days'"),
        ("credible_interval", 1.5, "key 'credible_interval'"),
        ("prior.shape", 2, "key 'prior.shape': Extra inputs are not permitted"),
        (
            "projection.r_trend_days",
            1,
            "key 'projection.r_trend_days': Value error, 0 (R constant) or at least 2",
        ),
    ],
)
def test_a_malformed_section_names_the_key(edition, key, value, message):
    folder = edition("2020-5th", "epi", {key: value})
    with pytest.raises(PolicyError, match=re.escape(message)):
        epi_policy(folder)


def test_changing_a_number_changes_the_estimate(edition):
    shipped = estimate(CASES, epi_policy("2020-5th"))
    longer = edition("2020-5th", "epi", {"serial_interval.mean_days": 7})
    longer_interval = estimate(CASES, epi_policy(longer))
    # the same edited copy, now with a 14-day window as well
    wider_window = estimate(CASES, epi_policy(edition("2020-5th", "epi", {"window_days": 14})))
    assert longer_interval.mean[-1] > shipped.mean[-1]  # a longer generation: more R for the same growth
    assert not np.isclose(wider_window.mean[-1], longer_interval.mean[-1])
    assert np.isnan(wider_window.mean[12]) and not np.isnan(longer_interval.mean[12])
