"""Clearing: the day a piece of evidence stops setting a colour before its phases lapse.

Two mechanisms, each configured under ``clearing`` in the policy and applied to a rule when the rule lists it
in ``cleared_by``:

* ``checkin`` — consecutive days of normal daily check-in (a declaration with a temperature below fever and
  none of the policy's symptoms; a day counts when all its declarations are normal), counted from
  ``from_offset_days`` after the evidence. The number of days needed depends on the colour the rule shows on
  the day the streak completes (Hangzhou 2020: 14 for red, 7 for yellow).
* ``negative_tests`` — ``count`` negative tests of the listed methods, sampled at or after both the evidence
  and the start of a phase of a listed colour, consecutive samples at least ``min_gap_hours`` apart and all
  within ``within_days`` of the first; effective when the last result is reported.

A mechanism takes effect on the first day that it is satisfied while the rule shows a colour it applies to;
from that day the evidence sets no colour (codes are as of the end of the day). The result has one row per
evidence (``person_key``, ``rule``, ``at``) that is cleared, with ``cleared_on``.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from shuzhi.codes.evidence import Window, normal_checkin
from shuzhi.codes.inputs import Sources
from shuzhi.codes.policy import CodePolicy
from shuzhi.codes.timeline import plus_days

EPOCH = dt.date(1970, 1, 1)
KEY = ("person_key", "rule", "at")
PHASE = (*KEY, "phase_start", "phase_end")


def cleared(sources: Sources, policy: CodePolicy, phases: ir.Table, window: Window) -> ir.Table | None:
    """(person_key, rule, at, cleared_on) of evidence a mechanism clears; None if no rule can be cleared."""
    parts = []
    if any("checkin" in r.cleared_by for r in policy.rules):
        parts.append(_by_checkin(sources, policy, phases, window))
    if any("negative_tests" in r.cleared_by for r in policy.rules):
        parts.append(_by_tests(sources, policy, phases, window))
    if not parts:
        return None
    out = parts[0]
    for part in parts[1:]:
        out = out.union(part)
    return out.group_by(*KEY).agg(cleared_on=out.cleared_on.min())


def _earliest(policy: CodePolicy, mechanism: str, window: Window) -> dt.datetime | None:
    """The earliest evidence instant any rule cleared by ``mechanism`` reads; None if unbounded."""
    spans = [r.span_days for r in policy.rules if mechanism in r.cleared_by]
    if any(span is None for span in spans):
        return None
    return window.since(max(spans))


def _since(t: ir.Table, column: str, since: dt.datetime | None, window: Window) -> ir.Table:
    t = t.filter(t[column] < window.before)
    return t if since is None else t.filter(t[column] >= since)


def _normal_days(sources: Sources, policy: CodePolicy, persons: ir.Column, window: Window) -> ir.Table:
    """(person_key, day): days on which a person declared, and declared only normally."""
    t = sources.table("declarations")
    t = _since(t, "declared_at", _earliest(policy, "checkin", window), window)
    t = t.filter(t.person_key.isin(persons))
    t = t.mutate(day=t.declared_at.date(), abnormal=(~normal_checkin(t, policy)).cast("int32"))
    days = t.group_by("person_key", "day").agg(abnormal=t.abnormal.sum())
    return days.filter(days.abnormal == 0).select("person_key", "day")


def _by_checkin(sources: Sources, policy: CodePolicy, phases: ir.Table, window: Window) -> ir.Table:
    offset = policy.clearing.checkin.from_offset_days
    windows = phases.filter(phases.checkin_days.notnull()).select(*PHASE, "s", "checkin_days")
    keys = windows.select(*KEY, count_from=plus_days(windows.s, offset)).distinct()
    days = _normal_days(sources, policy, keys.person_key, window)
    streak = keys.join(days, [keys.person_key == days.person_key, days.day >= keys.count_from]).select(
        *KEY, day=days.day
    )
    position = ibis.row_number().over(group_by=list(KEY), order_by=streak.day)
    streak = streak.mutate(run=streak.day.delta(ibis.literal(EPOCH), unit="day") - position)
    runs = streak.group_by(*KEY, "run").agg(run_from=streak.day.min(), run_to=streak.day.max())
    w = windows.join(runs, [windows[k] == runs[k] for k in KEY]).select(
        windows, run_from=runs.run_from, run_to=runs.run_to
    )
    done = plus_days(w.run_from, w.checkin_days - 1)
    w = w.mutate(cleared_on=ibis.greatest(done, w.phase_start))
    return _within_phase(w.filter(w.cleared_on <= w.run_to))


def _by_tests(sources: Sources, policy: CodePolicy, phases: ir.Table, window: Window) -> ir.Table:
    rule = policy.clearing.negative_tests
    windows = phases.filter(phases.tests_apply).select(*PHASE)
    windows = windows.mutate(sampled_from=ibis.greatest(windows.at, windows.phase_start.cast("timestamp(0)")))
    tests = sources.table("tests")
    tests = _since(tests, "sampled_at", _earliest(policy, "negative_tests", window), window)
    tests = tests.filter(
        tests.result == "negative",
        tests.method.isin(rule.methods),
        tests.reported_at.notnull(),
        tests.person_key.isin(windows.person_key),
    ).select("person_key", "sampled_at", "reported_at")
    first = tests.view()
    chain = windows.join(
        first, [windows.person_key == first.person_key, first.sampled_at >= windows.sampled_from]
    ).select(windows, first_at=first.sampled_at, last_at=first.sampled_at, done_at=first.reported_at)
    gap = ibis.interval(seconds=round(rule.min_gap_hours * 3600))
    within = ibis.interval(seconds=round(rule.within_days * 86400))
    for _ in range(rule.count - 1):
        more = tests.view()
        chain = chain.join(
            more,
            [
                chain.person_key == more.person_key,
                more.sampled_at >= chain.last_at + gap,
                more.sampled_at <= chain.first_at + within,
            ],
        ).select(
            *[chain[c] for c in chain.columns if c not in ("last_at", "done_at")],
            last_at=more.sampled_at,
            done_at=ibis.greatest(chain.done_at, more.reported_at),
        )
    chain = chain.filter(chain.done_at < window.before)
    return _within_phase(chain.mutate(cleared_on=ibis.greatest(chain.done_at.date(), chain.phase_start)))


def _within_phase(t: ir.Table) -> ir.Table:
    """Clearances that fall while the phase lasts, as (person_key, rule, at, cleared_on)."""
    t = t.filter(t.phase_end.isnull() | (t.cleared_on <= t.phase_end))
    return t.select(*KEY, cleared_on=t.cleared_on.cast("date"))
