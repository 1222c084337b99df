"""Build the catalogue of one data directory (see :mod:`shuzhi.catalogue`)."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import ibis
import pyarrow.parquet as pq

from shuzhi import model
from shuzhi.engine import Engine, connect
from shuzhi.federation.exchange import LANDED
from shuzhi.ingest.app import PART as APP_PART
from shuzhi.lake import Lake
from shuzhi.pipeline import DEFAULT_EDITION, DERIVED, RUNS_FILE
from shuzhi.realtime.stays import PART_PREFIX as LIVE_PART
from shuzhi.risk import evidence
from shuzhi.risk.policy import area_risk_policy
from shuzhi.settings import DataDir

INTERNAL = ("_ledger", "_reports")  # the lake's own bookkeeping, not data
LIVE_SOURCES = (  # parts written beside a feed's, not through the ledger: by their name
    (LIVE_PART, "checkpoint scans, live (realtime)"),
    (APP_PART, "residents' declarations in the app"),
)


@dataclass(frozen=True)
class Held:
    """One table of the lake."""

    name: str
    kind: str  # feed | derived | received | quarantine
    description: str
    rows: int
    first_day: dt.date | None
    last_day: dt.date | None
    last_written: dt.datetime | None
    sources: list[str] = field(
        default_factory=list
    )  # feeds that landed it, the step that wrote it, or who sent it
    files: int = 0  # source files ingested
    quarantined: int = 0  # rows of those files set aside with their reasons


@dataclass(frozen=True)
class Measure:
    """What the work achieved, measured on the lake, with how it was measured."""

    name: str
    value: float | None
    unit: str
    how: str


@dataclass(frozen=True)
class Catalogue:
    held: list[Held]
    algorithms: dict[str, Any]
    measures: list[Measure]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def catalogue(data: DataDir, engine: Engine | None = None) -> Catalogue:
    """The catalogue of ``data``: tables held, the steps' last runs, and the measures."""
    runs = _runs(data.outputs / RUNS_FILE)
    engine = engine or connect(lake=data.lake)
    edition = next((run["edition"] for run in runs.values() if "edition" in run), DEFAULT_EDITION)
    return Catalogue(_held(data.lake), runs, measures(engine, edition))


def _runs(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")).get("steps", {}) if path.is_file() else {}


def _held(root: Path) -> list[Held]:
    if not root.is_dir():
        return []
    landed = _landed(Lake(root).ledger().values())
    tables = sorted(p.name for p in root.iterdir() if p.is_dir() and p.name not in INTERNAL)
    return [_table(root / name, landed.get(name, {})) for name in tables]


def _landed(entries) -> dict[str, dict[str, Any]]:
    """Per table: the feeds, files and quarantined rows of the ledger's entries."""
    out: dict[str, dict[str, Any]] = defaultdict(lambda: {"feeds": set(), "files": 0, "quarantined": 0})
    for entry in entries:
        for table in {part.split("/", 1)[0] for part in entry.get("parts", [])}:
            out[table]["feeds"].add(entry["feed"])
            out[table]["files"] += 1
            out[table]["quarantined"] += sum(entry.get("quarantined", {}).values())
    return out


def _table(folder: Path, landed: dict[str, Any]) -> Held:
    parts = sorted(folder.glob("*=*/*.parquet"))
    days = sorted({p.parent.name.split("=", 1)[1] for p in parts})
    name = folder.name
    canonical = model.TABLES.get(name)
    if name == "quarantine":
        kind, sources = "quarantine", sorted(landed.get("feeds", ()))
        description = "Rows set aside at ingestion, with file, line, field and reason."
    elif canonical is not None:
        kind, description, sources = "feed", canonical.description, sorted(landed.get("feeds", ()))
        sources += [label for prefix, label in LIVE_SOURCES if any(p.name.startswith(prefix) for p in parts)]
    elif name in LANDED:
        kind, description, sources = "received", LANDED[name], ["federation: other regions' signed messages"]
    else:
        step, description = DERIVED.get(name, ("?", "A derived table no step of this version writes."))
        kind, sources = "derived", [f"pipeline step {step}"]
    stamp = max((p.stat().st_mtime for p in parts), default=None)
    return Held(
        name=name,
        kind=kind,
        description=description,
        rows=sum(pq.read_metadata(p).num_rows for p in parts),
        first_day=_day(days[0]) if days else None,
        last_day=_day(days[-1]) if days else None,
        last_written=dt.datetime.fromtimestamp(stamp, dt.UTC).replace(microsecond=0) if stamp else None,
        sources=sources,
        files=landed.get("files", 0),
        quarantined=landed.get("quarantined", 0),
    )


def _day(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:  # a year partition (registries): its first day
        return dt.date(int(text[:4]), 1, 1) if text[:4].isdigit() else None


def measures(engine: Engine, edition: str = DEFAULT_EDITION) -> list[Measure]:
    """The measures the lake allows (cases counted as ``edition`` counts them); without its tables a
    measure's value is None and ``how`` says why."""
    return [
        _observed(engine, edition),
        _onset_to_diagnosis(engine),
        _contacts_per_case(engine),
        _contact_to_tracing(engine),
        _tracing_to_first_check(engine),
        _case_to_observation(engine),
        _tests_taken(engine),
        _checked_yesterday(engine),
    ]


def _observed(engine: Engine, edition: str) -> Measure:
    how = "share of counted cases under home observation when diagnosed (tracing found them first)"
    if not engine.has_table("diagnoses"):
        return Measure("cases found under observation", None, "%", f"{how}; no diagnoses")
    cases = evidence.cases(engine, area_risk_policy(edition))
    row = engine.to_arrow(cases.aggregate(n=cases.count(), observed=cases.observed.cast("int64").sum()))
    n, observed = row["n"][0].as_py(), row["observed"][0].as_py() or 0
    return Measure("cases found under observation", round(100 * observed / n, 1) if n else None, "%", how)


def _onset_to_diagnosis(engine: Engine) -> Measure:
    how = "median days from symptom onset to the first diagnosis, over cases with an onset date"
    if not engine.has_table("diagnoses"):
        return Measure("onset to diagnosis", None, "days", f"{how}; no diagnoses")
    d = engine.table("diagnoses")
    first = d.group_by("person_key").aggregate(
        onset=d.onset_date.min(), diagnosed=d.diagnosed_at.min().date()
    )
    first = first.filter(first.onset.notnull())
    days = first.diagnosed.delta(first.onset, unit="day")
    value = engine.to_arrow(first.aggregate(m=days.median()))["m"][0].as_py()
    return Measure("onset to diagnosis", None if value is None else float(value), "days", how)


def _contacts_per_case(engine: Engine) -> Measure:
    how = "close contacts listed per traced case (mean), from the last trace"
    if not engine.has_table("contacts"):
        return Measure("close contacts per case", None, "persons", f"{how}; not traced yet")
    c = engine.table("contacts")
    close = c.filter(c.classification == "close")
    per_case = close.group_by("case_key").aggregate(n=close.contact_key.nunique())
    value = engine.to_arrow(per_case.aggregate(m=per_case.n.mean()))["m"][0].as_py()
    return Measure("close contacts per case", None if value is None else round(value, 1), "persons", how)


def _contact_to_tracing(engine: Engine) -> Measure:
    how = (
        "median hours from a close contact's last contact with the case to when tracing could find them (the "
        "case's diagnosis), over the close contacts of the last trace: the time they went on unaware"
    )
    if not engine.has_table("contacts"):
        return Measure("contact to tracing", None, "hours", f"{how}; not traced yet")
    c = engine.table("contacts")
    close = c.filter(c.classification == "close", c.traced_at.notnull(), c.last_contact_at.notnull())
    hours = (close.traced_at.epoch_seconds() - close.last_contact_at.epoch_seconds()) / 3600
    value = engine.to_arrow(close.aggregate(m=hours.median()))["m"][0].as_py()
    return Measure("contact to tracing", None if value is None else round(value, 1), "hours", how)


def _tracing_to_first_check(engine: Engine) -> Measure:
    how = (
        "median hours from when tracing could find a close contact to their first health declaration after "
        "it (in the app, by a follow-up team or at an isolation site: the first sign they were reached), "
        "over the close contacts of the last trace who made one"
    )
    missing = [t for t in ("contacts", "declarations") if not engine.has_table(t)]
    if missing:
        return Measure("tracing to first check", None, "hours", f"{how}; no {', '.join(missing)}")
    c, d = engine.table("contacts"), engine.table("declarations")
    close = c.filter(c.classification == "close", c.traced_at.notnull())
    traced = close.group_by(person=close.contact_key).aggregate(traced=close.traced_at.min())
    checks = d.select(declarant=d.person_key, declared=d.declared_at)
    met = traced.inner_join(checks, [traced.person == checks.declarant, checks.declared >= traced.traced])
    first = met.group_by("person").aggregate(
        hours=(met.declared.epoch_seconds().min() - met.traced.epoch_seconds().min()) / 3600
    )
    value = engine.to_arrow(first.aggregate(m=first.hours.median()))["m"][0].as_py()
    return Measure("tracing to first check", None if value is None else round(value, 1), "hours", how)


def _case_to_observation(engine: Engine) -> Measure:
    how = (
        "median days from a case's diagnosis to the home observation of its close contacts (the first order "
        "starting on or after the diagnosis day), over the close contacts of the last trace who got one"
    )
    missing = [t for t in ("contacts", "diagnoses", "home_observations") if not engine.has_table(t)]
    if missing:
        return Measure("case to contacts under observation", None, "days", f"{how}; no {', '.join(missing)}")
    c, d, o = (engine.table(t) for t in ("contacts", "diagnoses", "home_observations"))
    close = c.filter(c.classification == "close").select("case_key", "contact_key").distinct()
    cases = d.group_by(case=d.person_key).aggregate(diagnosed=d.diagnosed_at.min().date())
    orders = o.select(observed=o.person_key, start=o.start_date)
    pairs = close.inner_join(cases, close.case_key == cases.case).inner_join(
        orders, [close.contact_key == orders.observed, orders.start >= cases.diagnosed]
    )
    first = pairs.group_by(["case_key", "contact_key"]).aggregate(
        days=(pairs.start.min().delta(pairs.diagnosed.min(), unit="day"))
    )
    value = engine.to_arrow(first.aggregate(m=first.days.median()))["m"][0].as_py()
    return Measure("case to contacts under observation", None if value is None else float(value), "days", how)


def _tests_taken(engine: Engine) -> Measure:
    how = (
        "share of the tests the protocol scheduled up to the day that were taken on their day, over everyone "
        "on the last follow-up worklist"
    )

    def taken_of_scheduled(f: ibis.Table) -> tuple[ibis.Value, ibis.Value]:
        taken, missed = f.taken_days.length().fill_null(0), f.missed_days.length().fill_null(0)
        return taken.sum(), (taken + missed).sum()

    return _share_of_worklist(engine, "scheduled tests taken", how, taken_of_scheduled)


def _checked_yesterday(engine: Engine) -> Measure:
    how = (
        "share of the people on the last follow-up worklist whose measure asks for daily health checks and "
        "had begun by the day before (and who were traced before that day), who made them all that day"
    )

    def checked_of_asked(f: ibis.Table) -> tuple[ibis.Value, ibis.Value]:
        # yesterday was day 1 or later, and after the day the person was traced on
        judged = (f.observation_day >= 2) & (f.day.delta(f.traced_on, unit="day") >= 2).fill_null(True)
        asked = f.checks_per_day.notnull() & judged
        silent = f.silent_days.contains(f.observation_day - 1).fill_null(False)
        return (asked & ~silent).cast("int64").sum(), asked.cast("int64").sum()

    return _share_of_worklist(engine, "daily health checks made", how, checked_of_asked)


def _share_of_worklist(
    engine: Engine, name: str, how: str, part_of_whole: Callable[[ibis.Table], tuple[ibis.Value, ibis.Value]]
) -> Measure:
    """A percentage over the last follow-up worklist: ``part_of_whole`` gives both sums from its table."""
    if not engine.has_table("followup"):
        return Measure(name, None, "%", f"{how}; no follow-up worklist")
    f = engine.table("followup")
    part, whole = part_of_whole(f)
    row = engine.to_arrow(f.aggregate(part=part, whole=whole))
    done, of = row["part"][0].as_py() or 0, row["whole"][0].as_py() or 0
    return Measure(name, round(100 * done / of, 1) if of else None, "%", how)
