"""R(t) by Cori et al.'s method and the renewal projection: hand-computed values, known R recovered."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shuzhi.decision import epi_policy
from shuzhi.decision.policy import Projection, SerialInterval
from shuzhi.decision.rt import estimate, infection_pressure, project, serial_interval_weights

POLICY = epi_policy("2020-5th")


def with_interval(mean: float, sd: float, **changes):
    interval = SerialInterval(mean_days=mean, sd_days=sd, max_days=max(2, round(mean + 6 * sd)))
    return POLICY.model_copy(update={"serial_interval": interval, **changes})


def renewal(r: list[float], weights: np.ndarray, seed_cases: float = 1000.0) -> np.ndarray:
    """The deterministic renewal series I(t) = R(t)·Σ I(t−k)·w[k] from one day of seed cases."""
    cases = [seed_cases]
    for value in r:
        pressure = sum(cases[-k] * weights[k] for k in range(1, len(weights)) if k <= len(cases))
        cases.append(value * pressure)
    return np.array(cases)


def test_the_serial_interval_weights_are_the_policy_s_gamma():
    w = serial_interval_weights(POLICY.serial_interval)
    assert w[0] == 0 and w.sum() == pytest.approx(1)
    assert (np.arange(len(w)) * w).sum() == pytest.approx(4.7, abs=0.1)
    assert np.argmax(w) == 3  # the mode of a gamma with mean 4.7, SD 2.9 is 2.9 days


def test_infection_pressure_weights_the_earlier_days():
    w = np.array([0, 0.5, 0.3, 0.2])
    assert infection_pressure(np.array([10, 0, 0, 0, 4]), w).tolist() == pytest.approx([0, 5, 3, 2, 0])


def test_the_posterior_by_hand():
    # a serial interval of exactly one day: the pressure is yesterday's cases
    policy = with_interval(1.0, 0.05, window_days=2, min_cases_in_window=1)
    found = estimate(np.array([10, 20, 40]), policy)
    # day 2: shape = 1 + 20 + 40, rate = 1/5 + 10 + 20 (prior mean 5, SD 5: shape 1, scale 5)
    assert found.mean[2] == pytest.approx(61 / 30.2, rel=1e-3)
    assert np.isnan(found.mean[0]) and "fewer than 2 days" in found.reasons[0]
    assert found.cases_in_window[2] == 60
    assert "60 local cases in the 2 days" in found.reasons[2]


@settings(max_examples=40, deadline=None)
@given(
    r=st.floats(0.5, 2.5),
    mean=st.floats(2.0, 8.0),
    sd=st.floats(1.0, 4.0),
)
def test_a_constant_r_is_recovered_from_its_renewal_series(r, mean, sd):
    policy = with_interval(mean, sd)
    weights = serial_interval_weights(policy.serial_interval)
    burn_in = len(weights) + policy.window_days  # the series' start is behind every window after this
    cases = renewal([r] * (burn_in + 10), weights, seed_cases=1e9)  # large counts: the prior hardly weighs
    found = estimate(cases, policy)
    assert found.cases_in_window[burn_in:].min() >= 1000
    assert found.mean[burn_in:] == pytest.approx(r, rel=0.01)


def test_noisy_cases_put_the_true_r_in_the_credible_interval():
    rng = np.random.default_rng(3)
    weights = serial_interval_weights(POLICY.serial_interval)
    truth = [1.6] * 30 + [0.7] * 30
    cases = [50]
    for value in truth:
        pressure = sum(cases[-k] * weights[k] for k in range(1, len(weights)) if k <= len(cases))
        cases.append(rng.poisson(value * pressure))
    found = estimate(np.array(cases), POLICY)
    days = [d for d in range(20, 61) if not 31 <= d < 31 + POLICY.window_days]  # windows astride the change
    covered = [found.low[d] <= truth[d - 1] <= found.high[d] for d in days]
    assert np.mean(covered) >= 0.9
    assert found.mean[25] > 1 > found.mean[55]


def test_imported_cases_infect_but_are_not_explained_by_r():
    cases = np.full(30, 40)
    everyone = estimate(cases, POLICY)
    half = estimate(cases, POLICY, local=np.full(30, 20))
    assert half.mean[-1] == pytest.approx(everyone.mean[-1] / 2, rel=0.02)
    none = estimate(cases, POLICY, local=np.zeros(30))
    assert np.isnan(none.mean[-1]) and "0 local cases in 7 days, 12 needed" in none.reasons[-1]


def test_too_few_cases_give_no_estimate_and_say_so():
    found = estimate(np.array([1, 0, 2, 1, 0, 1, 3, 1]), POLICY)
    assert np.isnan(found.mean).all()
    assert found.reasons[-1] == "no estimate: 8 local cases in 7 days, 12 needed"


def test_the_projection_continues_the_renewal_equation():
    weights = serial_interval_weights(POLICY.serial_interval)
    days = POLICY.projection.days
    cases = renewal([1.3] * 40, weights, seed_cases=100)
    found = estimate(cases, POLICY)
    ahead = project(cases, found, POLICY)
    assert len(ahead.expected) == days and ahead.daily_change == pytest.approx(1, abs=1e-3)
    continued = renewal([1.3] * (40 + days), weights, seed_cases=100)[-days:]
    assert ahead.expected == pytest.approx(continued, rel=0.01)
    assert (ahead.low < ahead.expected).all() and (ahead.expected < ahead.high).all()
    assert project(np.array([1, 0, 0]), estimate(np.array([1, 0, 0]), POLICY), POLICY) is None


def test_a_falling_r_is_projected_along_its_trend_or_held_as_the_policy_says():
    weights = serial_interval_weights(POLICY.serial_interval)
    falling = [2.0 * 0.96**day for day in range(60)]
    cases = renewal(falling[:40], weights, seed_cases=1e6)
    truth = renewal(falling, weights, seed_cases=1e6)[-20:-13]
    found = estimate(cases, POLICY)
    trend = project(cases, found, POLICY)
    held = project(cases, found, POLICY.model_copy(update={"projection": Projection(days=7, r_trend_days=0)}))
    assert trend.daily_change == pytest.approx(0.96, abs=0.005) and held.daily_change == 1
    assert trend.expected == pytest.approx(truth, rel=0.06)  # the week ahead within 6%
    assert held.expected[-1] > truth[-1] * 1.3  # holding R overshoots a falling epidemic
