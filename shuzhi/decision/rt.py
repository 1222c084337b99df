"""The time-varying reproduction number R(t) and the projection it implies — pure numerics on daily counts.

Cori et al. (2013): cases on day *t* arise from the *infection pressure* of earlier cases,
Λ(t) = Σₖ I(t−k)·wₖ, where wₖ is the probability that the serial interval is *k* days. Over a window of τ days
ending on *t*, with R constant and a gamma prior (shape *a*, scale *b*), R's posterior is gamma with shape
*a* + Σ I and rate 1/*b* + Σ Λ — where I counts local cases only, and Λ comes from every case, imported
ones included (Thompson et al. 2019). Its mean and credible interval are what :func:`estimate` returns,
with the counts behind them: each estimate carries its reason. Where the window holds fewer cases than the
policy's minimum (or no infection pressure), there is no estimate, and the reason says why.

:func:`project` continues the renewal equation: I(t+h) = R(t+h)·Σₖ I(t+h−k)·wₖ, with projected days feeding
later ones, once from R's posterior mean and once from each end of its credible interval; R(t+h) stays at
the last estimate or follows its recent trend, as the policy says.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from shuzhi.decision.policy import EpiPolicy, SerialInterval


def serial_interval_weights(si: SerialInterval) -> np.ndarray:
    """w[k] for k = 0..max_days: the gamma's mass over [k−½, k+½), w[0] = 0, normalised to sum to 1."""
    shape = (si.mean_days / si.sd_days) ** 2
    scale = si.sd_days**2 / si.mean_days
    edges = np.arange(si.max_days + 1) + 0.5
    cdf = stats.gamma.cdf(edges, shape, scale=scale)
    weights = np.diff(cdf, prepend=0.0)
    weights[0] = 0.0  # a case does not infect someone whose onset is the same day (Cori et al.)
    return weights / weights.sum()


def infection_pressure(cases: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Λ(t) = Σₖ I(t−k)·w[k] for every day of ``cases`` (days before the series count as zero)."""
    full = np.convolve(cases.astype(float), weights)
    return full[: len(cases)]


@dataclass(frozen=True)
class Estimates:
    """R per day of a series: NaN where there is no estimate; ``reasons`` say why, or what it rests on."""

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    cases_in_window: np.ndarray
    pressure_in_window: np.ndarray
    reasons: list[str]


def estimate(cases: np.ndarray, policy: EpiPolicy, local: np.ndarray | None = None) -> Estimates:
    """R(t) for each day of the daily ``cases``, by the policy's window, prior and serial interval.

    ``local`` (default: all of ``cases``) are the cases infected here: R explains them, while every case,
    imported or not, adds to the infection pressure.
    """
    cases = np.asarray(cases, dtype=float)
    local = cases if local is None else np.asarray(local, dtype=float)
    window = policy.window_days
    pressure = infection_pressure(cases, serial_interval_weights(policy.serial_interval))
    in_window = _window_sums(local, window)
    pressure_sum = _window_sums(pressure, window)
    prior_shape = (policy.prior.mean / policy.prior.sd) ** 2
    prior_scale = policy.prior.sd**2 / policy.prior.mean
    shape = prior_shape + in_window
    rate = 1 / prior_scale + pressure_sum
    tail = (1 - policy.credible_interval) / 2
    usable = (in_window >= policy.min_cases_in_window) & (pressure_sum > 0)
    usable[: window - 1] = False  # a window that starts before the series is not a window
    mean = np.where(usable, shape / rate, np.nan)
    low = np.where(usable, stats.gamma.ppf(tail, shape, scale=1 / rate), np.nan)
    high = np.where(usable, stats.gamma.ppf(1 - tail, shape, scale=1 / rate), np.nan)
    reasons = [
        _reason(day, usable[day], in_window[day], pressure_sum[day], policy) for day in range(len(cases))
    ]
    return Estimates(mean, low, high, in_window.astype(np.int64), pressure_sum, reasons)


def _window_sums(values: np.ndarray, window: int) -> np.ndarray:
    """Sum over the ``window`` days ending on each day."""
    running = np.concatenate([[0.0], np.cumsum(values)])
    ends = np.arange(1, len(values) + 1)
    return running[ends] - running[np.maximum(ends - window, 0)]


def _reason(day: int, usable: bool, cases: float, pressure: float, policy: EpiPolicy) -> str:
    window = policy.window_days
    if day < window - 1:
        return f"no estimate: fewer than {window} days of data"
    if usable:
        si = policy.serial_interval
        return (
            f"{cases:.0f} local cases in the {window} days to this day against an infection pressure of "
            f"{pressure:.1f} (serial interval {si.mean_days:g} ± {si.sd_days:g} days)"
        )
    if cases < policy.min_cases_in_window:
        return f"no estimate: {cases:.0f} local cases in {window} days, {policy.min_cases_in_window} needed"
    return "no estimate: no earlier cases to have infected them"


@dataclass(frozen=True)
class Projection:
    """Expected daily cases for the days after a series: at R's posterior mean and at its interval's ends."""

    expected: np.ndarray
    low: np.ndarray
    high: np.ndarray
    r: tuple[float, float, float]  # the last estimate: mean, low, high
    daily_change: float  # R's trend: the factor it changes by each day (1: constant)


def project(cases: np.ndarray, estimates: Estimates, policy: EpiPolicy) -> Projection | None:
    """The next ``projection.days`` by the renewal equation; ``None`` without an estimate on the last day.

    R starts at the last day's estimate and follows the log-linear trend of the last ``r_trend_days``
    estimates (or stays, with 0): R(t+h) = R̂(t)·g^(h+(τ−1)/2) with the fitted daily factor g, since an
    estimate over a window of τ days is R in the middle of that window.
    """
    rule = policy.projection
    r = (estimates.mean[-1], estimates.low[-1], estimates.high[-1])
    if rule.days == 0 or len(cases) == 0 or np.isnan(r[0]):
        return None
    change = _daily_change(estimates.mean, rule.r_trend_days)
    # a window's estimate is R in the middle of the window: the trend carries it on from there
    path = change ** (np.arange(1, rule.days + 1) + (policy.window_days - 1) / 2)
    weights = serial_interval_weights(policy.serial_interval)
    paths = [_renew(np.asarray(cases, dtype=float), value * path, weights) for value in r]
    return Projection(*paths, r=tuple(float(v) for v in r), daily_change=change)


def _daily_change(mean: np.ndarray, days: int) -> float:
    """exp(slope) of log R over the last ``days`` estimates; 1 with fewer estimates (or ``days`` 0)."""
    recent = mean[-days:] if days else mean[:0]
    if len(recent) < 2 or np.isnan(recent).any():
        return 1.0
    slope = np.polyfit(np.arange(len(recent)), np.log(recent), 1)[0]
    return float(np.exp(slope))


def _renew(cases: np.ndarray, r: np.ndarray, weights: np.ndarray) -> np.ndarray:
    series = list(cases)
    k = np.arange(1, len(weights))
    for value in r:
        past = np.array([series[-j] if j <= len(series) else 0.0 for j in k])
        series.append(value * float(past @ weights[1:]))
    return np.array(series[len(cases) :])
