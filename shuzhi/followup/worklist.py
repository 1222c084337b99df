"""The follow-up worklist of one day: who is under which measure, which day of it, and their tests.

The people are those whose health code on the day is set by a phase with a ``measure`` (the same winning
phase :func:`shuzhi.codes.codes` reports, so a case is followed as a case, not as a contact). Their rule's
``tests.days`` count from the evidence day (day 0, as the phases do: day 1 of a close contact's isolation is
the day after the last contact). A scheduled test is *taken* when a test by one of the rule's methods was
sampled on that date; *missed* when its date has passed without one; *due* on its date until taken. A positive
test (any method) sampled from the evidence day on marks the person for referral.

The engine computes the people, the scheduled tests up to the day with whether each was taken, and the
positives (Ibis, on every engine); the few rows per person are then assembled into the worklist here.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from shuzhi.codes.colour import as_policy, candidates, winners
from shuzhi.codes.evidence import Window
from shuzhi.codes.inputs import Sources
from shuzhi.codes.policy import CodePolicy, Rule
from shuzhi.codes.text import BETWEEN_LANGUAGES
from shuzhi.codes.timeline import holds, plus_days
from shuzhi.engine import Engine

DAYS = pa.list_(pa.int32())
FOLLOWUP = pa.schema(
    [
        ("person_key", pa.int64()),
        ("day", pa.date32()),
        ("rule", pa.string()),  # the code rule whose phase sets the measure
        ("measure", pa.string()),  # a key of the policy's labels.measures
        ("since", pa.date32()),  # the evidence day (day 0): last contact, stay in a risk area...
        ("observation_day", pa.int32()),  # days since the evidence day
        ("measure_until", pa.date32()),  # the last day under a measure (null: until released)
        ("test_days", DAYS),  # the rule's test days (from the evidence day)
        ("taken_days", DAYS),  # scheduled days, up to this day, with a test that day
        ("missed_days", DAYS),  # scheduled days before this day without one
        ("next_test_on", pa.date32()),  # the next scheduled test not yet taken (today's if due)
        ("positive_at", pa.timestamp("s")),  # the first positive sample since the evidence day
        ("status", pa.string()),  # see STATUSES
        ("reason", pa.string()),
    ]
)
STATUSES = ("positive", "missed", "due", "on_schedule")  # most urgent first: a row has the first that holds
POSITIVE = "positive"  # a test result of the canonical model


def followup(
    engine: Engine, policy: CodePolicy | str | Path, day: dt.date, allow_missing: bool = False
) -> pa.Table:
    """The follow-up worklist on ``day`` (schema :data:`FOLLOWUP`), most urgent first.

    ``policy`` is a :class:`CodePolicy` or an edition; absent input tables raise ``KeyError`` unless
    ``allow_missing``.
    """
    policy = as_policy(policy)
    sources = Sources(engine, allow_missing)
    persons = engine.to_arrow(_measured(sources, policy, day))
    if persons.num_rows == 0:
        return FOLLOWUP.empty_table()
    known = ibis.memtable(persons)
    tests = _tests_by(sources.table("tests"), day)
    slots = engine.to_arrow(_slots(known, tests, policy, day))
    positives = engine.to_arrow(_positives(known, tests))
    return _worklist(policy, day, persons, slots, positives)


def _measured(sources: Sources, policy: CodePolicy, day: dt.date) -> ir.Table:
    """person_key, rule, measure, since: the people whose code on ``day`` is set by a measured phase."""
    on = ibis.literal(day, type="date")
    phases = candidates(sources, policy, Window(day, day))
    top = winners(phases.filter(*holds(phases, on)).mutate(day=on))
    return top.filter(top.measure.notnull()).select("person_key", "rule", "measure", since=top.s)


def _tests_by(tests: ir.Table, day: dt.date) -> ir.Table:
    """Tests sampled by the end of ``day``, with their sample date."""
    end = ibis.literal(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()))
    taken = tests.filter(tests.sampled_at < end)
    return taken.select(
        t_key=taken.person_key,
        t_on=taken.sampled_at.date(),
        t_at=taken.sampled_at,
        t_method=taken.method,
        t_result=taken.result,
    )


def _schedule(policy: CodePolicy) -> pa.Table:
    """rule, test_day, method: one row per scheduled test and accepted method."""
    rows = [
        {"rule": rule.id, "test_day": test_day, "method": method}
        for rule in policy.rules
        if rule.tests
        for test_day in rule.tests.days
        for method in rule.tests.methods
    ]
    schema = pa.schema([("rule", pa.string()), ("test_day", pa.int32()), ("method", pa.string())])
    return pa.Table.from_pylist(rows, schema=schema)


def _slots(known: ir.Table, tests: ir.Table, policy: CodePolicy, day: dt.date) -> ir.Table:
    """person_key, test_day, taken: each scheduled test up to ``day``; taken if sampled on its date."""
    schedule = ibis.memtable(_schedule(policy))
    due = known.inner_join(schedule, "rule")
    due = due.mutate(test_on=plus_days(due.since, due.test_day))
    due = due.filter(due.test_on <= ibis.literal(day, type="date"))
    met = due.left_join(
        tests, [due.person_key == tests.t_key, due.test_on == tests.t_on, due.method == tests.t_method]
    )
    return met.group_by(["person_key", "test_day"]).aggregate(taken=met.t_key.notnull().any())


def _positives(known: ir.Table, tests: ir.Table) -> ir.Table:
    """person_key, positive_at: the first positive sample from each person's evidence day on."""
    met = known.inner_join(
        tests,
        [known.person_key == tests.t_key, tests.t_result == POSITIVE, tests.t_on >= known.since],
    )
    return met.group_by("person_key").aggregate(positive_at=met.t_at.min())


def _worklist(
    policy: CodePolicy, day: dt.date, persons: pa.Table, slots: pa.Table, positives: pa.Table
) -> pa.Table:
    taken: dict[int, set[int]] = defaultdict(set)
    for slot in slots.to_pylist():
        if slot["taken"]:
            taken[slot["person_key"]].add(slot["test_day"])
    first_positive = {p["person_key"]: p["positive_at"] for p in positives.to_pylist()}
    rules = {rule.id: rule for rule in policy.rules}
    rows = [
        _row(policy, rules[p["rule"]], day, p, taken[p["person_key"]], first_positive.get(p["person_key"]))
        for p in persons.to_pylist()
    ]
    rows.sort(key=lambda r: (STATUSES.index(r["status"]), r["since"], r["person_key"]))
    return pa.Table.from_pylist(rows, schema=FOLLOWUP)


def _row(
    policy: CodePolicy,
    rule: Rule,
    day: dt.date,
    person: dict,
    taken: set[int],
    positive_at: dt.datetime | None,
) -> dict:
    since: dt.date = person["since"]
    today = (day - since).days
    scheduled = rule.tests.days if rule.tests else []
    missed = [d for d in scheduled if d < today and d not in taken]
    upcoming = [d for d in scheduled if d > today or (d == today and d not in taken)]
    last = rule.measured_days()
    row = {
        "person_key": person["person_key"],
        "day": day,
        "rule": rule.id,
        "measure": person["measure"],
        "since": since,
        "observation_day": today,
        "measure_until": None if last is None else since + dt.timedelta(days=last),
        "test_days": scheduled,
        "taken_days": sorted(taken),
        "missed_days": missed,
        "next_test_on": since + dt.timedelta(days=upcoming[0]) if upcoming else None,
        "positive_at": positive_at,
    }
    row["status"] = _status(row, today)
    row["reason"] = _reason(policy, row, last)
    return row


def _status(row: dict, today: int) -> str:
    if row["positive_at"] is not None:
        return "positive"
    if row["missed_days"]:
        return "missed"
    due_today = today in row["test_days"] and today not in row["taken_days"]
    return "due" if due_today else "on_schedule"


def _reason(policy: CodePolicy, row: dict, last: int | None) -> str:
    """'集中隔离医学观察 第4天（共10天，自2022-07-01）；…' in Chinese, then English."""
    measure = policy.labels.measures[row["measure"]]
    day, since = row["observation_day"], row["since"]
    zh_of, en_of = ("", "") if last is None else (f"共{last}天，", f" of {last}")
    zh = [f"{measure.zh} 第{day}天（{zh_of}自{since}）"]
    en = [f"{measure.en}, day {day}{en_of} (since {since})"]
    if row["test_days"]:
        zh.append("核酸检测日 " + _days(row["test_days"], "、"))
        en.append("tests on days " + _days(row["test_days"], ", "))
        if row["taken_days"]:
            zh.append("已检 " + _days(row["taken_days"], "、"))
            en.append("taken " + _days(row["taken_days"], ", "))
        if row["missed_days"]:
            zh.append("漏检 " + _days(row["missed_days"], "、"))
            en.append("missed " + _days(row["missed_days"], ", "))
        if row["next_test_on"] is not None:
            zh.append(f"下次 {row['next_test_on']}")
            en.append(f"next {row['next_test_on']}")
    if row["positive_at"] is not None:
        zh.append(f"{row['positive_at']:%Y-%m-%d %H:%M} 采样阳性，转诊")
        en.append(f"positive sample {row['positive_at']:%Y-%m-%d %H:%M}: refer for diagnosis")
    return "；".join(zh) + BETWEEN_LANGUAGES + "; ".join(en)


def _days(days: list[int], separator: str) -> str:
    return separator.join(str(d) for d in days)
