"""Evidence: each source's rows that match a rule, in one shape, as Ibis expressions.

Every rule of the policy names a source (``when.source``); the builder of that source filters its table by the
rule's condition and returns one row per piece of evidence:

=========  ============  ==================================================================================
column     type          meaning
=========  ============  ==================================================================================
person_key int64         whom the evidence is about
rule       string        the rule it matches
at         timestamp[s]  when it happened (diagnosis, last contact, stay, declaration, visit, order start)
known_at   timestamp[s]  when it could be known: ``at``, or a contact's ``traced_at`` (its case's diagnosis)
until      date32        the end of an order with an end date (home observation); null otherwise
label_zh   string        the words the reason template shows as ``{label}`` (status, setting, risk level...)
label_en   string
place      string        ``{place}``: region, venue or hospital
evidence   string        a short pointer to the source row, shown with the code
=========  ============  ==================================================================================

Only evidence that can set a colour on some day of the requested window is read: from the earliest instant a
rule's phases can still reach the window's first day to the end of its last day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from shuzhi.codes.inputs import Sources
from shuzhi.codes.policy import (
    ArrivalsWhen,
    CodePolicy,
    ContactsWhen,
    DiagnosesWhen,
    Rule,
    Text,
)
from shuzhi.codes.text import join_present
from shuzhi.regions import divisions

SCHEMA = pa.schema(
    [
        ("person_key", pa.int64()),
        ("rule", pa.string()),
        ("at", pa.timestamp("s")),
        ("known_at", pa.timestamp("s")),
        ("until", pa.date32()),
        ("label_zh", pa.string()),
        ("label_en", pa.string()),
        ("place", pa.string()),
        ("evidence", pa.string()),
    ]
)


@dataclass(frozen=True)
class Window:
    """The days colours are asked for, first to last (inclusive)."""

    start: dt.date
    end: dt.date

    @property
    def before(self) -> dt.datetime:
        """Evidence counts for a day once it has happened: everything before the end of the last day."""
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time())

    def since(self, span_days: int | None) -> dt.datetime | None:
        """The earliest evidence instant whose colour, lasting ``span_days``, still reaches the first day."""
        if span_days is None:
            return None
        return dt.datetime.combine(self.start - dt.timedelta(days=span_days), dt.time())


def evidence(sources: Sources, policy: CodePolicy, window: Window) -> ir.Table:
    """Every rule's evidence in ``window``, one row per piece of evidence (see the module docstring)."""
    parts = [BUILDERS[rule.when.source](sources, policy, rule, window) for rule in policy.rules]
    out = parts[0]
    for part in parts[1:]:
        out = out.union(part)
    return out


def _rows(
    rule: Rule, person, at, label: tuple[ir.Value, ir.Value], place, pointer, until=None, known=None
) -> dict:
    """The columns of :data:`SCHEMA` for one source's rows (``known``: when known, if later than ``at``)."""
    values = {
        "person_key": person,
        "rule": ibis.literal(rule.id),
        "at": at,
        "known_at": known if known is not None else at,
        "until": until if until is not None else ibis.null(),
        "label_zh": label[0],
        "label_en": label[1],
        "place": place,
        "evidence": pointer,
    }
    return {name: value.cast(ibis.dtype(SCHEMA.field(name).type)) for name, value in values.items()}


def _in_window(column: ir.TimestampValue, window: Window, span_days: int | None) -> list[ir.BooleanValue]:
    since = window.since(span_days)
    predicates = [column < window.before]
    if since is not None:
        predicates.append(column >= since)
    return predicates


def _labelled(value: ir.StringValue, labels: dict[str, Text]) -> tuple[ir.StringValue, ir.StringValue]:
    """The Chinese and English words for a code; the code itself where the policy has no label."""
    return (
        value.substitute({k: t.zh for k, t in labels.items()}, else_=value),
        value.substitute({k: t.en for k, t in labels.items()}, else_=value),
    )


def _concat(*parts: ir.Value | str) -> ir.StringValue:
    """Parts joined as text; null parts as ''."""
    return join_present("", [p.cast("string") if isinstance(p, ir.Value) else ibis.literal(p) for p in parts])


def _celsius(temperature: ir.FloatingValue) -> ir.StringValue:
    return temperature.cast("decimal(4, 1)").cast("string") + "℃"


def _diagnoses(sources: Sources, policy: CodePolicy, rule: Rule, window: Window) -> ir.Table:
    when: DiagnosesWhen = rule.when
    t = sources.table("diagnoses")
    t = t.filter(t.status.isin(when.statuses), *_in_window(t.diagnosed_at, window, rule.span_days))
    pointer = _concat("diagnoses: ", t.status, " ", t.diagnosed_at)
    label = _labelled(t.status, policy.labels.statuses)
    return t.select(**_rows(rule, t.person_key, t.diagnosed_at, label, t.county_code, pointer))


def _contacts(sources: Sources, policy: CodePolicy, rule: Rule, window: Window) -> ir.Table:
    when: ContactsWhen = rule.when
    t = sources.table("contacts")
    t = t.filter(
        t.classification.isin(when.classifications),
        t.degree.isin(when.degrees),
        *_in_window(t.last_contact_at, window, rule.span_days),
    )
    via = ibis.ifelse(t.via_key.isnull(), "", _concat(" via ", t.via_key))
    at = ibis.ifelse(t.place.isnull(), "", _concat(", at ", t.place))  # another region's: "330100:V…"
    pointer = _concat(
        "contacts: case ",
        t.case_key,
        via,
        ", ",
        t.rule,
        ", ",
        t.first_contact_at,
        " – ",
        t.last_contact_at,
        at,
    )
    label = _labelled(t.setting, policy.labels.settings)
    traced = t.traced_at.fill_null(t.last_contact_at)  # a contact counts once tracing could find it
    return t.select(**_rows(rule, t.contact_key, t.last_contact_at, label, t.place, pointer, known=traced))


def symptomatic(t: ir.Table, policy: CodePolicy) -> ir.BooleanValue:
    """A declaration with a temperature at or above fever, or one of the policy's symptoms."""
    fever = (t.temperature >= policy.declaration.fever_celsius).fill_null(False)
    for symptom in policy.declaration.symptoms:
        fever = fever | t.symptoms.contains(symptom).fill_null(False)
    return fever


def normal_checkin(t: ir.Table, policy: CodePolicy) -> ir.BooleanValue:
    """A declaration with a temperature below fever and none of the policy's symptoms."""
    return t.temperature.notnull() & ~symptomatic(t, policy)


def _symptom_words(t: ir.Table, policy: CodePolicy, lang: str) -> ir.StringValue:
    labels = policy.labels.symptoms
    fever = policy.declaration.fever_celsius
    parts = [ibis.ifelse(t.temperature >= fever, _celsius(t.temperature), ibis.null("string"))]
    for symptom in policy.declaration.symptoms:
        word = getattr(labels[symptom], lang) if symptom in labels else symptom
        parts.append(ibis.ifelse(t.symptoms.contains(symptom).fill_null(False), word, ibis.null("string")))
    return join_present("、" if lang == "zh" else ", ", parts)


def _symptoms(sources: Sources, policy: CodePolicy, rule: Rule, window: Window) -> ir.Table:
    t = sources.table("declarations")
    t = t.filter(*_in_window(t.declared_at, window, rule.span_days))
    t = t.filter(symptomatic(t, policy))
    pointer = _concat(
        "declarations: ", _celsius(t.temperature), " ", t.symptoms.join(","), " ", t.declared_at
    )
    label = (_symptom_words(t, policy, "zh"), _symptom_words(t, policy, "en"))
    return t.select(**_rows(rule, t.person_key, t.declared_at, label, t.county_code, pointer))


def _fever_visits(sources: Sources, policy: CodePolicy, rule: Rule, window: Window) -> ir.Table:
    t = sources.table("fever_visits")
    t = t.filter(*_in_window(t.visited_at, window, rule.span_days))
    pointer = _concat("fever_visits: ", t.hospital, " ", t.visited_at, " ", _celsius(t.temperature))
    words = _celsius(t.temperature).fill_null("")
    return t.select(**_rows(rule, t.person_key, t.visited_at, (words, words), t.hospital, pointer))


def _home_observations(sources: Sources, policy: CodePolicy, rule: Rule, window: Window) -> ir.Table:
    t = sources.table("home_observations")
    start = t.start_date.cast("timestamp(0)")
    t = t.filter(t.start_date <= window.end, t.end_date.isnull() | (t.end_date >= window.start))
    t = t.filter(*_in_window(start, window, rule.span_days))
    pointer = _concat("home_observations: ", t.start_date, " – ", t.end_date, " ", t.reason)
    reason = t.reason.fill_null("")
    return t.select(**_rows(rule, t.person_key, start, (reason, reason), t.county_code, pointer, t.end_date))


def _arrivals(sources: Sources, policy: CodePolicy, rule: Rule, window: Window) -> ir.Table:
    """Stays in a region that had an area of one of the rule's levels on the day of the stay."""
    when: ArrivalsWhen = rule.when
    t = sources.shared("arrivals", lambda: _risky_stays(sources, policy, window))
    t = t.filter(t.level.isin(when.levels), t.via.isin(when.via), *_in_window(t.at, window, rule.span_days))
    names = _region_names()
    t = t.left_join(names, t.region == names.code).select(t, name=names.name)
    place = _concat(t.region, " ", t.name.fill_null(""))
    label = _labelled(t.level, policy.labels.levels)
    return t.select(**_rows(rule, t.person_key, t.at, label, place.strip(), t.pointer))


def _risky_stays(sources: Sources, policy: CodePolicy, window: Window) -> ir.Table:
    """Stays in flagged regions for every arrivals rule at once (each source is read once), away from home."""
    rules = [r for r in policy.rules if isinstance(r.when, ArrivalsWhen)]
    spans = [r.span_days for r in rules]
    span = None if None in spans else max(spans)
    levels = sorted({level for r in rules for level in r.when.levels})
    flagged = _flagged(sources, levels, policy.arrivals.match_digits, window, span)
    vias = sorted({via for r in rules for via in r.when.via})
    stays = [STAYS[via](sources, policy, span, window, flagged).mutate(via=ibis.literal(via)) for via in vias]
    t = stays[0]
    for more in stays[1:]:
        t = t.union(more)
    if not policy.arrivals.exclude_home:
        return t
    home = sources.table("residents")
    digits = policy.arrivals.match_digits
    away = [t.person_key == home.person_key, home.county_code.substr(0, digits) != t.region.substr(0, digits)]
    return t.join(home, away).select(t)


def _flagged(sources: Sources, levels: list[str], digits: int, window: Window, span: int | None) -> ir.Table:
    """(area, day, level): areas at ``digits`` precision holding a county at one of ``levels`` that day."""
    r = sources.table("area_risk")
    since = window.since(span)
    r = r.filter(r.level.isin(levels), r.day <= window.end)
    if since is not None:
        r = r.filter(r.day >= since.date())
    return r.select(area=r.county_code.substr(0, digits), day=r.day, level=r.level).distinct()


def _risky(t: ir.Table, region: str, day: ir.DateValue, flagged: ir.Table, policy: CodePolicy) -> ir.Table:
    """Rows of ``t`` whose ``region`` was flagged on ``day``, with the flag's ``level``."""
    t = t.mutate(stay_area=t[region].substr(0, policy.arrivals.match_digits), stay_day=day)
    return t.join(flagged, [t.stay_area == flagged.area, t.stay_day == flagged.day]).select(
        t, level=flagged.level
    )


def _telecom(
    sources: Sources, policy: CodePolicy, span: int | None, window: Window, flagged: ir.Table
) -> ir.Table:
    t = sources.table("telecom_stays")
    hours = policy.arrivals.min_stay_hours
    t = t.filter(
        *_in_window(t.first_seen, window, span),
        (t.last_seen.epoch_seconds() - t.first_seen.epoch_seconds()) >= hours * 3600,
    )
    t = _risky(t, "city_code", t.first_seen.date(), flagged, policy)
    pointer = _concat("telecom_stays: ", t.city_code, " ", t.first_seen, " – ", t.last_seen)
    return _stay(t, t.city_code, t.last_seen, pointer)


def _trips(
    sources: Sources, policy: CodePolicy, span: int | None, window: Window, flagged: ir.Table
) -> ir.Table:
    t = sources.table("trips")
    t = t.filter(*_in_window(t.dep_time, window, span))
    t = _risky(t, "origin_region", t.dep_time.date(), flagged, policy)
    pointer = _concat(
        "trips: ", t.mode, " ", t.trip_no, " ", t.origin_region, " → ", t.destination_region, " ", t.dep_time
    )
    return _stay(t, t.origin_region, t.dep_time, pointer)


def _declared(
    sources: Sources, policy: CodePolicy, span: int | None, window: Window, flagged: ir.Table
) -> ir.Table:
    t = sources.table("declarations")
    t = t.filter(*_in_window(t.declared_at, window, span))
    t = t.select("person_key", "declared_at", region=t.visited_regions).unnest("region", keep_empty=False)
    t = _risky(t, "region", t.declared_at.date(), flagged, policy)
    pointer = _concat("declarations: visited ", t.region, ", declared ", t.declared_at)
    return _stay(t, t.region, t.declared_at, pointer)


def _stay(t: ir.Table, region: ir.StringValue, at: ir.TimestampValue, pointer: ir.StringValue) -> ir.Table:
    """One stay in a flagged region: the shape every arrival source is brought to."""
    return t.select(
        person_key=t.person_key.cast("int64"),
        region=region.cast("string"),
        level=t.level,
        at=at.cast("timestamp(0)"),
        pointer=pointer.cast("string"),
    )


@cache
def _region_table() -> pa.Table:
    regions = divisions()
    return pa.table({"code": list(regions), "name": [r.name for r in regions.values()]})


def _region_names() -> ir.Table:
    return ibis.memtable(_region_table())


Builder = Callable[[Sources, CodePolicy, Rule, Window], ir.Table]

BUILDERS: dict[str, Builder] = {
    "diagnoses": _diagnoses,
    "contacts": _contacts,
    "arrivals": _arrivals,
    "symptoms": _symptoms,
    "fever_visits": _fever_visits,
    "home_observations": _home_observations,
}

StayBuilder = Callable[[Sources, CodePolicy, int | None, Window, ir.Table], ir.Table]

STAYS: dict[str, StayBuilder] = {"telecom": _telecom, "trips": _trips, "declarations": _declared}
