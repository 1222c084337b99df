"""Real proximity data: SocioPatterns face-to-face contacts of an office (InVS15) and a conference (SFHH).

Each line ``t i j`` of a SocioPatterns file says badges ``i`` and ``j`` were face to face during the 20
seconds ``[t − 20, t]``. :func:`proximity_records` merges a pair's consecutive 20-second windows into one
encounter with a start and a duration — the proximity records of :mod:`shuzhi.tracing.proximity` — and
:func:`demo` traces chosen index persons through them with the policy's cumulative-duration rule. The
files ship in ``shuzhi/data/contacts`` (CC0; provenance in its README).
"""

from __future__ import annotations

import datetime as dt
import gzip
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pyarrow as pa

from shuzhi.engine import Engine
from shuzhi.model import DIAGNOSES, PROXIMITY
from shuzhi.tracing.policy import ContactPolicy
from shuzhi.tracing.trace import TraceResult, trace

RESOLUTION_SECONDS = 20  # the sensors' sampling interval, fixed by the data format
DATASETS = {"office": "workplace_InVS15_tij.dat.gz", "conference": "SFHH_tij.dat.gz"}
OFFICE_DEPARTMENTS = "workplace_InVS15_metadata.txt"
ORIGIN = dt.datetime(2020, 1, 20)  # the files count seconds from an unpublished first midnight; we pick one


def path(dataset: str) -> Path:
    """The packaged file of ``dataset`` ('office' or 'conference')."""
    return Path(str(resources.files("shuzhi.data").joinpath("contacts", DATASETS[dataset])))


def departments() -> dict[int, str]:
    """The department (an enclosed workspace, a team) of each person of the office data set."""
    text = resources.files("shuzhi.data").joinpath("contacts", OFFICE_DEPARTMENTS).read_text(encoding="utf-8")
    return {int(person): department for person, department in (line.split() for line in text.splitlines())}


def read_tij(source: Path) -> np.ndarray:
    """The ``t i j`` rows of a (gzipped) SocioPatterns file as an int64 array of shape (n, 3)."""
    with gzip.open(source, "rt") if source.suffix == ".gz" else open(source) as lines:
        return np.loadtxt(lines, dtype=np.int64, ndmin=2)


def proximity_records(tij: np.ndarray, origin: dt.datetime = ORIGIN) -> pa.Table:
    """Encounters (one per run of consecutive 20-second windows of a pair) as proximity records."""
    a, b = np.minimum(tij[:, 1], tij[:, 2]), np.maximum(tij[:, 1], tij[:, 2])
    order = np.lexsort((tij[:, 0], b, a))
    t, a, b = tij[order, 0], a[order], b[order]
    new = np.ones(len(t), dtype=bool)
    new[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1]) | (t[1:] - t[:-1] > RESOLUTION_SECONDS)
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], len(t)) - 1
    begin = t[starts] - RESOLUTION_SECONDS
    base = np.datetime64(origin, "s")
    return pa.table(
        {
            "person_key_a": a[starts],
            "person_key_b": b[starts],
            "start_at": pa.array(
                base + begin.astype("timedelta64[s]"), PROXIMITY.schema.field("start_at").type
            ),
            "duration_seconds": t[ends] - begin,
        },
        schema=PROXIMITY.schema,
    )


@dataclass(frozen=True)
class Demo:
    """The trace of chosen index persons through a SocioPatterns data set."""

    records: pa.Table
    result: TraceResult

    def close_contacts_per_case(self) -> dict[int, int]:
        counts = {key: 0 for key in self.result.cases["case_key"].to_pylist()}
        for case in self.result.close["case_key"].to_pylist():
            counts[case] += 1
        return counts


def index_diagnoses(persons: list[int], records: pa.Table) -> pa.Table:
    """Diagnoses making ``persons`` index cases whose window spans the whole recording."""
    last = max(records["start_at"].to_pylist()) + dt.timedelta(days=1)
    n = len(persons)
    return pa.table(
        {
            "person_key": pa.array(persons, pa.int64()),
            "status": ["confirmed"] * n,
            "onset_date": [last.date()] * n,
            "diagnosed_at": [last] * n,
            "county_code": pa.nulls(n, pa.string()),
        },
        schema=DIAGNOSES.schema,
    )


def with_minutes(policy: ContactPolicy, minutes: float) -> ContactPolicy:
    """The policy with another cumulative-duration bound for proximity records."""
    if policy.proximity is None:
        raise ValueError(f"edition {policy.edition} has no proximity rule")
    rule = policy.proximity.model_copy(update={"min_cumulative_minutes_per_day": minutes})
    return policy.model_copy(update={"proximity": rule})


def demo(engine: Engine, dataset: str, persons: list[int], policy: ContactPolicy) -> Demo:
    """Trace ``persons`` of ``dataset`` through its proximity records with the policy's rules.

    The window is widened to cover the recording (the demo asks who met the index persons at all), so the
    cumulative-duration rule is the only thing that decides.
    """
    records = proximity_records(read_tij(path(dataset)))
    engine.register(PROXIMITY.name, records)
    engine.register("diagnoses", index_diagnoses(persons, records))
    span = (max(records["start_at"].to_pylist()) - min(records["start_at"].to_pylist())).days + 2
    window = policy.window.model_copy(update={"days_before_onset": span})
    return Demo(records, trace(engine, policy.model_copy(update={"window": window})))
