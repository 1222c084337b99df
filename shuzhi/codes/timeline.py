"""Timelines: each piece of evidence unrolled into the colour phases its rule prescribes, as dated rows.

The policy's rules become a small table of phases (rule, colour, first and last day counted from the evidence,
which clearing mechanisms apply to that colour); joining evidence with it gives one row per evidence and phase
with its dates. Days are counted from the evidence day, which belongs to the first phase (see
:class:`shuzhi.codes.policy.Phase`).

Columns added to the evidence: ``rule_order``, ``phase``, ``colour``, ``severity`` (0 = most severe),
``s`` (evidence day), ``known_on`` (the day it could be known: a colour holds from then), ``phase_start``,
``phase_end`` (null: open-ended), ``green_on`` (the first green day by lapse; null: open-ended),
``checkin_days`` (consecutive normal check-in days that clear this colour; null: not cleared by check-in),
``tests_apply`` (negative tests clear this colour), ``release_zh``/``release_en``, ``measure`` (where the
person is managed during the phase; null: no measure).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from shuzhi.codes.policy import CodePolicy, Rule

PHASES = pa.schema(
    [
        ("rule", pa.string()),
        ("rule_order", pa.int32()),
        ("phase", pa.int32()),
        ("colour", pa.string()),
        ("severity", pa.int32()),
        ("day_from", pa.int32()),
        ("day_to", pa.int32()),
        ("span", pa.int32()),
        ("checkin_days", pa.int32()),
        ("tests_apply", pa.bool_()),
        ("release_zh", pa.string()),
        ("release_en", pa.string()),
        ("measure", pa.string()),
    ]
)


def phase_rows(policy: CodePolicy) -> pa.Table:
    """One row per rule and phase (see :data:`PHASES`)."""
    rows = [
        _phase_row(policy, order, rule, index)
        for order, rule in enumerate(policy.rules)
        for index in range(len(rule.phases))
    ]
    return pa.Table.from_pylist(rows, schema=PHASES)


def _phase_row(policy: CodePolicy, order: int, rule: Rule, index: int) -> dict:
    colour = rule.phases[index].colour
    first, last = rule.offsets()[index]
    checkin, tests = policy.clearing.checkin, policy.clearing.negative_tests
    return {
        "rule": rule.id,
        "rule_order": order,
        "phase": index,
        "colour": colour,
        "severity": policy.severity(colour),
        "day_from": first,
        "day_to": last,
        "span": rule.span_days,
        "checkin_days": checkin.days.get(colour) if "checkin" in rule.cleared_by else None,
        "tests_apply": "negative_tests" in rule.cleared_by and colour in tests.colours,
        "release_zh": rule.release.zh if rule.release else None,
        "release_en": rule.release.en if rule.release else None,
        "measure": rule.phases[index].measure,
    }


def plus_days(day: ir.DateValue, n: ir.IntegerValue | int) -> ir.DateValue:
    """``day`` + ``n`` days, as a date on every engine (DuckDB's date + interval is a timestamp)."""
    days = n.as_interval("D") if isinstance(n, ir.Value) else ibis.interval(days=n)
    return (day.cast("timestamp") + days).date()


def phased(evidence: ir.Table, policy: CodePolicy) -> ir.Table:
    """Evidence joined with its rule's phases, dated (see the module docstring)."""
    phases = ibis.memtable(phase_rows(policy))
    t = evidence.join(phases, evidence.rule == phases.rule).select(evidence, *[c for c in PHASES.names[1:]])
    s = t.at.date()
    return t.mutate(
        s=s,
        known_on=t.known_at.date(),
        phase_start=plus_days(s, t.day_from),
        phase_end=ibis.ifelse(t.day_to.isnull(), t.until, plus_days(s, t.day_to)),
        green_on=ibis.ifelse(t.span.isnull(), plus_days(t.until, 1), plus_days(s, t.span + 1)),
    )


def holds(t: ir.Table, day: ir.DateValue) -> list[ir.BooleanValue]:
    """Predicates: the phase row ``t`` gives its colour on ``day`` (begun and known, not lapsed, not
    cleared): nobody turns red before tracing could find them, though their days count from the contact."""
    return [
        t.phase_start <= day,
        t.known_on <= day,
        t.phase_end.isnull() | (day <= t.phase_end),
        t.cleared_on.isnull() | (day < t.cleared_on),
    ]
