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


def index_persons(dataset: str, count: int = 20, seed: int = 4) -> list[int]:
    """``count`` badges of ``dataset`` drawn at random (the index persons of docs/tracing.md)."""
    everyone = np.unique(read_tij(path(dataset))[:, 1:])
    return sorted(np.random.default_rng(seed).choice(everyone, count, replace=False).tolist())


def close_contacts_by_threshold(
    engine: Engine, dataset: str, persons: list[int], policy: ContactPolicy, thresholds: list[float]
) -> dict[float, list[int]]:
    """Close contacts per index person (in ``persons``' order) at each minutes-a-day threshold."""
    found = {}
    for minutes in thresholds:
        counts = demo(engine, dataset, persons, with_minutes(policy, minutes)).close_contacts_per_case()
        found[minutes] = [counts[p] for p in persons]
    return found


def same_department_share(engine: Engine, policy: ContactPolicy) -> tuple[float, float]:
    """Of the office's close-contact pairs, the share within one department, and the share by chance."""
    team = departments()
    close = demo(engine, "office", sorted(team), policy).result.close
    pairs = zip(close["case_key"].to_pylist(), close["contact_key"].to_pylist(), strict=True)
    same = sum(team[case] == team[contact] for case, contact in pairs)
    sizes = np.array([list(team.values()).count(d) for d in set(team.values())])
    by_chance = (sizes * (sizes - 1)).sum() / (len(team) * (len(team) - 1))
    return same / max(close.num_rows, 1), float(by_chance)


def main(argv: list[str] | None = None) -> None:
    """``python -m shuzhi.tracing.sociopatterns [EDITION]``: the table of docs/tracing.md."""
    import argparse

    from shuzhi.engine import connect
    from shuzhi.tracing.policy import load_policy

    parser = argparse.ArgumentParser(description="The proximity rule on SocioPatterns' real sensor data.")
    parser.add_argument("edition", nargs="?", default="2022-9th", help="edition name or folder")
    parser.add_argument("--minutes", type=float, nargs="+", default=[5, 15, 30, 60])
    args = parser.parse_args(argv)
    policy, thresholds = load_policy(args.edition), args.minutes
    engine = connect()
    columns = {
        name: close_contacts_by_threshold(engine, name, index_persons(name), policy, thresholds)
        for name in DATASETS
    }
    heads = [f"{name}: close contacts per index person, mean (median, max)" for name in DATASETS]
    print("| minutes a day | " + " | ".join(heads) + " |")
    print("|---" * (len(DATASETS) + 1) + "|")
    for minutes in thresholds:
        cells = [_summary(columns[name][minutes]) for name in DATASETS]
        print(f"| {minutes:g} | " + " | ".join(cells) + " |")
    share, by_chance = same_department_share(engine, with_minutes(policy, 15))
    together = "of the pairs together 15 minutes a day share a department"
    print(f"\nOffice: {share:.0%} {together} ({by_chance:.0%} by chance).")


def _summary(counts: list[int]) -> str:
    return f"{np.mean(counts):.2f} ({np.median(counts):g}, {max(counts)})"


if __name__ == "__main__":
    main()
