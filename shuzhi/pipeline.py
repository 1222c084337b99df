"""The analytic pipeline: from the landed lake to the results every audience reads.

``analyse`` traces contacts, rates every county, computes the index and every resident's health code for the
period the lake covers, under one policy edition, and writes the results back into the lake as derived tables
(``contacts``, ``area_risk``, ``five_colour``, ``index``, ``codes``, ``code_changes``, ``code_counts``,
``followup``, ``risk_arrivals``, ``od_flows``, ``epi``, and the published ``open_statistics`` and
``published_itineraries``) plus the transmission graph as JSON. Derived tables are replaced as a whole
on every run (recomputable).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from shuzhi import codes as health_codes
from shuzhi import decision, followup, public, tracing
from shuzhi.engine import Engine, connect
from shuzhi.lake import Lake
from shuzhi.policy import PolicyError, edition_dir, section_path
from shuzhi.risk import area, five_colour, flows, index
from shuzhi.risk.policy import area_risk_policy
from shuzhi.settings import DataDir

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]
DEFAULT_EDITION = "2020-5th"  # the synthetic province lives in early 2020
RESULT_PART = "part-results.parquet"
GRAPH_FILE = "graph.json"
OPTIONAL_SECTIONS = {"epi"}  # without it the step says so and writes nothing (no curves, no R(t))
RUNS_FILE = "analysis.json"  # what each step last did: tables, policy files' SHA-256, when, how long


@dataclass
class Analysis:
    """What a run computed: the period, the tables written and headline counts."""

    edition: str
    start: dt.date
    end: dt.date
    tables: dict[str, int] = field(default_factory=dict)  # rows written per derived table
    cases: int = 0
    contacts_by_class: dict[str, int] = field(default_factory=dict)
    close_by_setting: dict[str, int] = field(default_factory=dict)  # household, workplace, meal, ...
    codes_by_colour: dict[str, int] = field(default_factory=dict)
    followup_by_status: dict[str, int] = field(default_factory=dict)  # on the last day: positive, missed...
    counties_by_level: dict[str, int] = field(default_factory=dict)
    latest_rt: dict[str, Any] | None = None  # the province's last R estimate
    graph: Path | None = None


def period(engine: Engine) -> tuple[dt.date, dt.date]:
    """First and last day of daily life in the lake (the venue stays' days)."""
    days = engine.table("venue_stays").day
    row = engine.to_arrow(days.min().name("first").as_table().cross_join(days.max().name("last").as_table()))
    return row["first"][0].as_py(), row["last"][0].as_py()


def analyse(
    data: DataDir,
    edition: str = DEFAULT_EDITION,
    steps: tuple[str, ...] | None = None,
    engine: Engine | None = None,
    progress: Progress | None = None,
    app_declarations_until: dt.datetime | None = None,
) -> Analysis:
    """Run the named ``steps`` (default: all of ``STEPS``, in order); write their results to the lake.

    A later step reads what earlier steps wrote (codes read contacts and area risk), from this run or a
    previous one. ``app_declarations_until``: the lake holds the app's health declarations made before
    then (recorded with each step, so a code knows which declarations it has not seen).
    """
    unknown = set(steps or ()) - set(STEPS)
    if unknown:
        raise ValueError(f"unknown steps {sorted(unknown)}; steps are {', '.join(STEPS)}")
    chosen = [name for name in STEPS if steps is None or name in steps]
    _check_sections(edition, chosen)
    engine = engine or connect(lake=data.lake)
    start, end = period(engine)
    result = Analysis(edition, start, end)
    runs = {}
    for done, name in enumerate(chosen):
        if progress:
            progress("Analysing", done, len(chosen))
        step = STEPS[name]
        log.info("%s (%s, %s..%s)", step.label, edition, start, end)
        before, started = set(result.tables), time.perf_counter()
        step.run(engine, data, edition, result)
        runs[name] = _run_record(
            step, edition, sorted(set(result.tables) - before), time.perf_counter() - started
        )
    if app_declarations_until is not None:
        for record in runs.values():
            record["app_declarations_until"] = app_declarations_until.isoformat(timespec="seconds")
    _record_runs(data, edition, (start, end), engine.name, runs)
    if progress:
        progress("Analysing", len(chosen), len(chosen))
    return result


def _check_sections(edition: str, chosen: list[str]) -> None:
    """Refuse, before anything runs, an edition that lacks a policy section the chosen steps apply."""
    needed = {section for name in chosen for section in STEPS[name].sections} - OPTIONAL_SECTIONS
    missing = sorted(section for section in needed if not section_path(edition, section).is_file())
    if missing:
        files = ", ".join(f"{section}.yaml" for section in missing)
        raise PolicyError(
            f"{edition_dir(edition)}: the analysis needs the policy sections {files}, which are missing"
        )


def _trace(engine: Engine, data: DataDir, edition: str, result: Analysis) -> None:
    traced = tracing.trace(engine, tracing.load_policy(edition))
    contacts = traced.contacts
    _replace(engine, data, result, "contacts", contacts, "first_contact_at")
    result.cases = traced.cases.num_rows
    result.contacts_by_class = _count_by(contacts, "classification")
    result.close_by_setting = _count_by(traced.close, "setting")
    data.outputs.mkdir(parents=True, exist_ok=True)
    result.graph = data.outputs / GRAPH_FILE
    result.graph.write_text(json.dumps(traced.graph(), ensure_ascii=False, default=str), encoding="utf-8")


def _rate_areas(engine: Engine, data: DataDir, edition: str, result: Analysis) -> None:
    risk = area.area_risk(engine, edition, result.start, result.end)
    _replace(engine, data, result, "area_risk", risk, "day")
    last = risk.filter(pc.equal(risk["day"], pa.scalar(result.end, pa.date32())))
    result.counties_by_level = _count_by(last, "level")
    _replace(
        engine,
        data,
        result,
        "five_colour",
        five_colour.five_colour(engine, edition, result.start, result.end),
        "day",
    )
    rated = area_risk_policy(edition).compound is not None  # the 9th edition rates compounds too
    compounds = area.compound_risk(engine, edition, result.start, result.end) if rated else None
    _replace(engine, data, result, "compound_risk", compounds, "day")


def _index(engine: Engine, data: DataDir, edition: str, result: Analysis) -> None:
    _replace(
        engine, data, result, "index", index.index(engine, edition, edition, result.start, result.end), "day"
    )


def _codes(engine: Engine, data: DataDir, edition: str, result: Analysis) -> None:
    today = health_codes.codes(engine, edition, result.end, allow_missing=True)
    _replace(engine, data, result, "codes", today, "day")
    result.codes_by_colour = _count_by(today, "colour")
    history = health_codes.code_history(engine, edition, result.start, result.end, allow_missing=True)
    _replace(engine, data, result, "code_changes", history.changes, "day")
    _replace(engine, data, result, "code_counts", history.daily, "day")


def _followup(engine: Engine, data: DataDir, edition: str, result: Analysis) -> None:
    worklist = followup.followup(engine, edition, result.end, allow_missing=True)
    _replace(engine, data, result, "followup", worklist, "day")
    result.followup_by_status = _count_by(worklist, "status")


def _flows(engine: Engine, data: DataDir, edition: str, result: Analysis) -> None:
    rated = engine.table("area_risk")
    risk = engine.to_arrow(rated.select(region_code=rated.county_code, day=rated.day, level=rated.level))
    found = flows.flows(engine, area_risk_policy(edition), result.start, result.end, risk=risk)
    _replace(engine, data, result, "risk_arrivals", found.arrivals, "day")
    _replace(engine, data, result, "od_flows", found.od, "day")


def _epi(engine: Engine, data: DataDir, edition: str, result: Analysis) -> None:
    try:
        policy = decision.epi_policy(edition)
    except PolicyError as missing:
        log.warning("no epidemic curves or R(t): %s", missing)
        return
    curves = decision.epidemic(engine, policy, area_risk_policy(edition), result.start, result.end)
    _replace(engine, data, result, "epi", curves, "day")
    province = curves.filter(pc.equal(curves["area_level"], "province"))
    result.latest_rt = _latest_estimate(province)


def _latest_estimate(curves: pa.Table) -> dict[str, Any] | None:
    """The last observed day with an R estimate: day, mean, low, high."""
    rows = curves.filter(pc.and_(pc.invert(curves["projected"]), pc.is_valid(curves["rt_mean"])))
    if rows.num_rows == 0:
        return None
    last = rows.slice(rows.num_rows - 1).to_pylist()[0]
    return {key: last[key] for key in ("area_code", "day", "rt_mean", "rt_low", "rt_high")}


def _publish(engine: Engine, data: DataDir, edition: str, result: Analysis) -> None:
    rules = public.publication_policy(edition)
    statistics = public.open_statistics(engine, area_risk_policy(edition), rules)
    _replace(engine, data, result, "open_statistics", engine.to_arrow(statistics), "day")
    if engine.has_table("trips"):
        trips = public.published_itineraries(engine, tracing.load_policy(edition), rules)
        _replace(engine, data, result, "published_itineraries", engine.to_arrow(trips), "day")


@dataclass(frozen=True)
class Step:
    """One analytic step: what it is called, what runs it, the policy sections it applies, what it writes."""

    label: str
    run: Callable[[Engine, DataDir, str, Analysis], None]
    sections: tuple[str, ...]
    writes: dict[str, str]  # derived table → what it holds


STEPS: dict[str, Step] = {
    "trace": Step(
        "Tracing contacts",
        _trace,
        ("contact",),
        {"contacts": "Each case's close contacts, contacts of contacts and companions, with evidence."},
    ),
    "risk": Step(
        "Rating areas",
        _rate_areas,
        ("area_risk",),
        {
            "area_risk": "Every county's risk level per day, with the reason.",
            "five_colour": "Zhejiang's five-colour rating of every county per day, with the reason.",
            "compound_risk": "The compounds (小区/楼栋) at medium or high risk per day, with the reason "
            "(editions that rate compounds, as the 9th does).",
        },
    ),
    "index": Step(
        "Computing the index",
        _index,
        ("index",),
        {"index": "The index of every county and city per day, with each sub-indicator."},
    ),
    "codes": Step(
        "Colouring health codes",
        _codes,
        ("codes",),
        {
            "codes": "Every resident's health code on the last day: colour, rule, reasons, valid-until.",
            "code_changes": "Each resident's changes of colour, day by day.",
            "code_counts": "Residents by colour per day.",
        },
    ),
    "followup": Step(
        "Listing the follow-up",
        _followup,
        ("codes",),
        {
            "followup": "Everyone under a management measure on the last day: which day of it, the tests "
            "taken, missed and next, a positive test or declared symptoms (the follow-up worklist).",
        },
    ),
    "flows": Step(
        "Following high-risk flows",
        _flows,
        ("area_risk",),
        {
            "risk_arrivals": "Residents whose recent places show a medium or high-risk area, per day.",
            "od_flows": "Movements between cities per day, by trips and telecom itineraries.",
        },
    ),
    "epi": Step(
        "Estimating R(t)",
        _epi,
        ("epi", "area_risk"),
        {"epi": "Daily cases, R(t) with its interval and reason, and the projected week, per area."},
    ),
    "publish": Step(
        "Publishing open statistics",
        _publish,
        ("publication", "area_risk", "contact"),
        {
            "open_statistics": "Cases and risk levels per area per day, small counts withheld: public.",
            "published_itineraries": "Trips of cases in their infectious window, without persons: public.",
        },
    ),
}
DERIVED: dict[str, tuple[str, str]] = {
    table: (name, description) for name, step in STEPS.items() for table, description in step.writes.items()
}  # derived table → (the step that writes it, what it holds)


def _run_record(step: Step, edition: str, tables: list[str], seconds: float) -> dict[str, Any]:
    """What a step did: its tables, the SHA-256 of each policy file it applied, when and how long."""
    files = {section: section_path(edition, section) for section in step.sections}
    policy = {
        section: hashlib.sha256(path.read_bytes()).hexdigest()
        for section, path in files.items()
        if path.is_file()
    }
    return {
        "label": step.label,
        "tables": tables,
        "policy": policy,
        "ran_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(seconds, 2),
    }


def _record_runs(
    data: DataDir, edition: str, span: tuple[dt.date, dt.date], engine: str, runs: dict[str, Any]
) -> None:
    """Add this run's steps to ``outputs/analysis.json`` (steps run before and not now keep their record)."""
    path = data.outputs / RUNS_FILE
    known = json.loads(path.read_text(encoding="utf-8")).get("steps", {}) if path.is_file() else {}
    for record in runs.values():
        record.update(edition=edition, period=[span[0].isoformat(), span[1].isoformat()], engine=engine)
    data.outputs.mkdir(parents=True, exist_ok=True)
    document = {"steps": {**known, **runs}}
    # replaced whole, and last: a reader (the federation courier) takes its change as "an analysis is done"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _replace(
    engine: Engine, data: DataDir, result: Analysis, name: str, table: pa.Table | None, day_column: str
) -> None:
    """Swap the derived table ``name`` for ``table``, one part per day, and register it with the engine
    (None: the edition does not compute it; an earlier run's table is removed)."""
    shutil.rmtree(data.lake / name, ignore_errors=True)
    if table is None:
        return
    Lake(data.lake).write_days(name, RESULT_PART, table, day_column)
    engine.register(name, table)
    result.tables[name] = table.num_rows


def _count_by(table: pa.Table, column: str) -> dict[str, int]:
    counts = pc.value_counts(table[column]).to_pylist() if table.num_rows else []
    return {str(c["values"]): c["counts"] for c in sorted(counts, key=lambda c: str(c["values"]))}
