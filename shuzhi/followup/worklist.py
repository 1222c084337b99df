"""The follow-up worklist of one day: who is under which measure, which day of it, and their tests.

The people are those whose health code on the day is set by a phase with a ``measure`` (the same winning
phase :func:`shuzhi.codes.codes` reports, so a case is followed as a case, not as a contact). Their rule's
``tests.days`` count from the evidence day (day 0, as the phases do: day 1 of a close contact's isolation is
the day after the last contact). A scheduled test is *taken* when a test by one of the rule's methods was
sampled on that date; *missed* when its date has passed without one; *due* on its date until taken. A positive
test (any method) sampled from the evidence day on, or a declaration of fever or symptoms (as the policy's
``declaration`` section defines them), marks the person for referral. A rule's ``checks.per_day`` asks for
that many health declarations (temperature and symptoms) on every day of the measure from day 1; a past day
with fewer is *silent*, and a person silent yesterday is followed up before any missed test. A contact found
by tracing only days after the contact is not held to the days up to the one they were found on
(``traced_on``): their tests and checks are judged from the day after it.

Two queries through the engine layer (Ibis, on every engine): the people, fetched (a small table even in a
large outbreak), then the worklist itself — each person's scheduled tests joined with the tests sampled on
their dates, each day of a measure joined with the declarations made that day, the first positive and the
first declared symptoms, the status and the reason, most urgent first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from shuzhi.codes.colour import as_policy, candidates, winners
from shuzhi.codes.evidence import Window, symptomatic
from shuzhi.codes.inputs import Sources
from shuzhi.codes.policy import CodePolicy
from shuzhi.codes.text import BETWEEN_LANGUAGES, join_present
from shuzhi.codes.timeline import holds, plus_days
from shuzhi.engine import Engine

DAYS = pa.list_(pa.int32())
FOLLOWUP = pa.schema(
    [
        ("person_key", pa.int64()),
        ("county_code", pa.string()),  # where the person is registered (null: not a resident): whose team
        ("day", pa.date32()),
        ("rule", pa.string()),  # the code rule whose phase sets the measure
        ("measure", pa.string()),  # a key of the policy's labels.measures
        ("since", pa.date32()),  # the evidence day (day 0): last contact, stay in a risk area...
        ("traced_on", pa.date32()),  # the day it could be known (a contact: by tracing); judged after it
        ("observation_day", pa.int32()),  # days since the evidence day
        ("measure_until", pa.date32()),  # the last day under a measure (null: until released)
        ("test_days", DAYS),  # the rule's test days (from the evidence day)
        ("taken_days", DAYS),  # scheduled days, up to this day, with a test that day
        ("missed_days", DAYS),  # scheduled days before this day without one
        ("next_test_on", pa.date32()),  # the next scheduled test not yet taken (today's if due)
        ("positive_at", pa.timestamp("s")),  # the first positive sample since the evidence day
        ("symptoms_at", pa.timestamp("s")),  # the first declaration of fever or symptoms since then
        ("checks_per_day", pa.int32()),  # health declarations the rule asks for a day (null: none)
        ("silent_days", DAYS),  # days of the measure before this day with fewer declarations than asked
        ("last_check_at", pa.timestamp("s")),  # the last declaration since the evidence day
        ("status", pa.string()),  # see STATUSES
        ("reason", pa.string()),
    ]
)
# most urgent first: a row has the first that holds
STATUSES = ("positive", "symptomatic", "silent", "missed", "due", "on_schedule")
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
    since_days = pc.days_between(persons["since"], pa.scalar(day, pa.date32())).cast(pa.int32())
    people = ibis.memtable(persons.append_column("observation_day", since_days))
    rules = ibis.memtable(_rules(policy))
    joined = people.inner_join(rules, ["rule", "measure"])
    known = joined.select(*joined.columns)  # a finished join: joined again below
    tests = _tests_by(sources.table("tests"), day)
    on = ibis.literal(day, type="date")
    # each from a table of its own: Ibis resolves a join back onto a relation derived from ``known`` itself
    # to the wrong side (its rows were lost)
    tested = _per_person(_keys(persons), tests, policy, on)
    positive = _positives(_keys(persons), tests)
    declarations = _theirs(_keys(persons), _declarations_by(sources.table("declarations"), policy, day))
    declared = _declared(declarations)
    checked = _checks(_keys(persons), declarations, policy, on)
    rows = _joined_on_person(known, tested, "f_key")
    rows = _joined_on_person(_joined_on_person(rows, positive, "p_key"), declared, "s_key")
    rows = _joined_on_person(rows, checked, "c_key")
    return _with_empty_lists(engine.to_arrow(_worklist(rows, on)))


def _measured(sources: Sources, policy: CodePolicy, day: dt.date) -> ir.Table:
    """person_key, county_code, rule, measure, since, traced_on: the people whose code on ``day`` is set by a
    measured phase, and the county they are registered in."""
    on = ibis.literal(day, type="date")
    phases = candidates(sources, policy, Window(day, day))
    top = winners(phases.filter(*holds(phases, on)).mutate(day=on))
    top = top.filter(top.measure.notnull())
    residents = sources.table("residents")
    homes = top.left_join(residents, top.person_key == residents.person_key)
    return homes.select(
        top.person_key, residents.county_code, top.rule, top.measure, since=top.s, traced_on=top.known_on
    )


def _joined_on_person(left: ir.Table, right: ir.Table, key: str) -> ir.Table:
    """``left`` with the columns of ``right`` whose ``key`` is its person (null where it has none)."""
    joined = left.left_join(right, left.person_key == right[key])
    return joined.select(*left.columns, *[c for c in right.columns if c != key])


def _keys(persons: pa.Table) -> ir.Table:
    """person_key, rule, since, traced_on of the people, as a table of its own."""
    return ibis.memtable(persons.select(["person_key", "rule", "since", "traced_on"]))


def _rules(policy: CodePolicy) -> pa.Table:
    """Per rule and measure: the last measured day, the test days (as a list and as text) and the measure's
    words: what the worklist repeats for everyone under it."""
    rows = {
        (rule.id, phase.measure): {
            "rule": rule.id,
            "measure": phase.measure,
            "last_day": rule.measured_days(),
            "checks_per_day": rule.checks.per_day if rule.checks else None,
            "test_days": rule.tests.days if rule.tests else [],
            **{f"days_{lang}": _joined(rule.tests.days, lang) if rule.tests else None for lang in WORDS},
            **{f"measure_{lang}": getattr(policy.labels.measures[phase.measure], lang) for lang in WORDS},
        }
        for rule in policy.rules
        for phase in rule.phases
        if phase.measure
    }
    texts = [f"{what}_{lang}" for what in ("days", "measure") for lang in WORDS]
    schema = pa.schema(
        [("rule", pa.string()), ("measure", pa.string()), ("last_day", pa.int32())]
        + [("checks_per_day", pa.int32()), ("test_days", DAYS)]
        + [(name, pa.string()) for name in texts]
    )
    return pa.Table.from_pylist(list(rows.values()), schema=schema)


def _joined(days: list[int], lang: str) -> str:
    return WORDS[lang].listed.join(map(str, days))


def _tests_by(tests: ir.Table, day: dt.date) -> ir.Table:
    """Tests sampled by the end of ``day``, with their sample date."""
    taken = tests.filter(tests.sampled_at < _end_of(day))
    return taken.select(
        t_key=taken.person_key,
        t_on=taken.sampled_at.date(),
        t_at=taken.sampled_at,
        t_method=taken.method,
        t_result=taken.result,
    )


def _end_of(day: dt.date) -> ir.TimestampValue:
    """The first instant after ``day``: what happened by then counts for it (as for the codes)."""
    return ibis.literal(Window(day, day).before)


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


def _per_person(known: ir.Table, tests: ir.Table, policy: CodePolicy, on: ir.DateValue) -> ir.Table:
    """f_key (the person), taken_days, missed_days, due, next_test_on: each scheduled test, taken if sampled
    on its date by the end of the day ``on``; one not taken is asked for only after the day the person was
    traced on."""
    schedule = ibis.memtable(_schedule(policy))
    due = known.select("person_key", "rule", "since", "traced_on").inner_join(schedule, "rule")
    due = due.mutate(test_on=plus_days(due.since, due.test_day))
    met = due.left_join(
        tests, [due.person_key == tests.t_key, due.test_on == tests.t_on, due.method == tests.t_method]
    )
    slots = met.group_by(["person_key", "test_day", "test_on", "traced_on"]).aggregate(
        taken=met.t_key.notnull().any()
    )
    asked = ~slots.taken & (slots.test_on > slots.traced_on)
    open_today = asked & (slots.test_on == on)
    return slots.group_by(f_key=slots.person_key).aggregate(
        taken_days=slots.test_day.collect(where=slots.taken).sort(),
        missed_days=slots.test_day.collect(where=asked & (slots.test_on < on)).sort(),
        due=open_today.any(),
        next_test_on=slots.test_on.min(where=(asked & (slots.test_on > on)) | open_today),
    )


def _positives(known: ir.Table, tests: ir.Table) -> ir.Table:
    """p_key (the person), positive_at: the first positive sample from each person's evidence day on."""
    met = known.inner_join(
        tests,
        [known.person_key == tests.t_key, tests.t_result == POSITIVE, tests.t_on >= known.since],
    )
    return met.group_by(p_key=met.person_key).aggregate(positive_at=met.t_at.min())


def _declarations_by(declarations: ir.Table, policy: CodePolicy, day: dt.date) -> ir.Table:
    """Health declarations made by the end of ``day``, with their date and whether they declare fever or
    symptoms."""
    d = declarations.filter(declarations.declared_at < _end_of(day))
    return d.select(
        d_key=d.person_key, d_on=d.declared_at.date(), d_at=d.declared_at, d_ill=symptomatic(d, policy)
    )


def _theirs(known: ir.Table, declarations: ir.Table) -> ir.Table:
    """The declarations of the people, each from their evidence day on (a small part of everyone's)."""
    met = known.inner_join(
        declarations, [known.person_key == declarations.d_key, declarations.d_on >= known.since]
    )
    return met.select(*declarations.columns)


def _declared(theirs: ir.Table) -> ir.Table:
    """s_key (the person), symptoms_at, last_check_at: the first declaration of fever or symptoms and the
    last declaration."""
    return theirs.group_by(s_key=theirs.d_key).aggregate(
        symptoms_at=theirs.d_at.min(where=theirs.d_ill), last_check_at=theirs.d_at.max()
    )


def _check_days(policy: CodePolicy) -> pa.Table:
    """rule, check_day, per_day: one row per day of a measure that asks for daily health checks."""
    rows = [
        {"rule": rule.id, "check_day": check_day, "per_day": rule.checks.per_day}
        for rule in policy.rules
        if rule.checks
        for check_day in range(1, rule.measured_days() + 1)
    ]
    schema = pa.schema([("rule", pa.string()), ("check_day", pa.int32()), ("per_day", pa.int32())])
    return pa.Table.from_pylist(rows, schema=schema)


def _checks(known: ir.Table, theirs: ir.Table, policy: CodePolicy, on: ir.DateValue) -> ir.Table:
    """c_key (the person), silent_days, silent_yesterday: the past days of the measure (from day 1, and after
    the day the person was traced on) with fewer of ``theirs`` (declarations) than the rule asks for, and
    whether the day before ``on`` is one."""
    days = ibis.memtable(_check_days(policy))
    slots = known.select("person_key", "rule", "since", "traced_on").inner_join(days, "rule")
    slots = slots.mutate(check_on=plus_days(slots.since, slots.check_day))
    slots = slots.filter(slots.check_on < on, slots.check_on > slots.traced_on)
    made = theirs.group_by(["d_key", "d_on"]).aggregate(made=theirs.count())
    met = slots.left_join(made, [slots.person_key == made.d_key, slots.check_on == made.d_on])
    silent = met.made.fill_null(0) < met.per_day
    return met.group_by(c_key=met.person_key).aggregate(
        silent_days=met.check_day.collect(where=silent).sort(),
        silent_yesterday=(silent & (plus_days(met.check_on, 1) == on)).any(),
    )


def _worklist(t: ir.Table, on: ir.DateValue) -> ir.Table:
    """The rows of :data:`FOLLOWUP`, most urgent first."""
    missed = _present(t.missed_days)
    status = ibis.cases(
        (t.positive_at.notnull(), STATUSES[0]),
        (t.symptoms_at.notnull(), STATUSES[1]),
        (t.silent_yesterday.fill_null(False), STATUSES[2]),
        (missed, STATUSES[3]),
        (t.due.fill_null(False), STATUSES[4]),
        else_=STATUSES[5],
    )
    t = t.mutate(
        status=status,
        day=on,
        measure_until=plus_days(t.since, t.last_day),
        reason=_reason(t, "zh") + BETWEEN_LANGUAGES + _reason(t, "en"),
    )
    urgency = t.status.cases(*[(s, i) for i, s in enumerate(STATUSES)])
    return t.select(*FOLLOWUP.names).order_by([urgency, t.since, t.person_key])


@dataclass(frozen=True)
class Words:
    """The reason's words in one language."""

    between: str  # between the parts
    traced: str  # before the day a contact was traced on, after the evidence day
    listed: str  # between the days of a list
    tests: str
    taken: str
    missed: str
    upcoming: str
    checks: tuple[str, str]  # before and after the number of daily checks
    silent: str
    last_check: str
    never: str  # no declaration since the evidence day
    positive: tuple[str, str]  # before and after the time of the positive sample
    symptoms: tuple[str, str]  # before and after the time of the declaration


WORDS = {
    "zh": Words(
        between="；",
        traced="，追踪于",
        listed="、",
        tests="核酸检测日 ",
        taken="已检 ",
        missed="漏检 ",
        upcoming="下次 ",
        checks=("每日体温与症状监测", "次"),
        silent="漏报 ",
        last_check="最近申报 ",
        never="无",
        positive=("", " 采样阳性，转诊"),
        symptoms=("", " 申报发热或症状，转诊"),
    ),
    "en": Words(
        between="; ",
        traced=", traced on ",
        listed=", ",
        tests="tests on days ",
        taken="taken ",
        missed="missed ",
        upcoming="next ",
        checks=("", " health checks a day"),
        silent="checks missed on days ",
        last_check="last check ",
        never="none",
        positive=("positive sample ", ": refer for diagnosis"),
        symptoms=("fever or symptoms declared ", ": refer for diagnosis"),
    ),
}


def _reason(t: ir.Table, lang: str) -> ir.StringValue:
    """'集中隔离医学观察 第4天（共10天，自2022-07-01）；核酸检测日 1、2、3…' or its English."""
    words = WORDS[lang]
    day, since, last = t.observation_day.cast("string"), t.since.cast("string"), t.last_day.cast("string")
    traced = (t.traced_on > t.since).ifelse(words.traced + t.traced_on.cast("string"), "")
    if lang == "zh":
        head = t.measure_zh + " 第" + day + "天（" + t.last_day.isnull().ifelse("", "共" + last + "天，")
        head = head + "自" + since + traced + "）"
    else:
        head = t.measure_en + ", day " + day + t.last_day.isnull().ifelse("", " of " + last)
        head = head + " (since " + since + traced + ")"
    return join_present(
        words.between,
        [
            head,
            words.tests + t[f"days_{lang}"],
            _listed(words.taken, t.taken_days, words.listed),
            _listed(words.missed, t.missed_days, words.listed),
            words.upcoming + t.next_test_on.cast("string"),
            words.checks[0] + t.checks_per_day.cast("string") + words.checks[1],
            _listed(words.silent, t.silent_days, words.listed),
            _present(t.silent_days).ifelse(
                words.last_check + _minute(t.last_check_at).fill_null(words.never), ibis.null("string")
            ),
            _at(words.positive, t.positive_at),
            _at(words.symptoms, t.symptoms_at),
        ],
    )


def _at(words: tuple[str, str], at: ir.TimestampValue) -> ir.StringValue:
    return words[0] + _minute(at) + words[1]


def _minute(at: ir.TimestampValue) -> ir.StringValue:
    return at.strftime("%Y-%m-%d %H:%M")


def _present(days: ir.ArrayValue) -> ir.BooleanValue:
    """Whether a list has items (an empty collection is null on some engines, empty on others)."""
    return (days.length() > 0).fill_null(False)


def _listed(label: str, days: ir.ArrayValue, separator: str) -> ir.StringValue:
    return _present(days).ifelse(label + days.cast("array<string>").join(separator), ibis.null("string"))


def _with_empty_lists(table: pa.Table) -> pa.Table:
    """The engine's rows as :data:`FOLLOWUP`, a missing list as an empty one (engines differ)."""
    columns = {
        name: pc.if_else(pc.is_null(column), pa.scalar([], DAYS), column)
        if name.endswith("_days")
        else column
        for name, column in zip(table.column_names, table.columns, strict=True)
    }
    return pa.table(columns).select(FOLLOWUP.names).cast(FOLLOWUP)


def to_csv(worklist: pa.Table, sink: str | Path | BinaryIO) -> None:
    """The worklist as CSV (UTF-8, a header row) into ``sink``: list columns as their items separated by
    spaces, so a county team can print or open it."""
    flat = {
        name: pc.binary_join(pc.cast(column, pa.list_(pa.string())), " ")
        if pa.types.is_list(column.type)
        else column
        for name, column in zip(worklist.column_names, worklist.columns, strict=True)
    }
    pacsv.write_csv(pa.table(flat), sink)
