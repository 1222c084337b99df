"""Index cases and their infectious windows; exposures, the people whose contacts a tracing pass looks for.

An index case is a person with a diagnosis whose status the policy lists. Their window runs from the
policy's days before symptom onset — or before the first positive sample, for an asymptomatic infection or
when the sample came first — to isolation, taken as the first such diagnosis (or ``as_of`` if earlier).
Days count from midnight of the onset or sampling day.

An *exposure* is one person to trace from, within a time window, on behalf of an index case: the case itself
(degree 1) or one of its close contacts (degree 2, ``via_key``). Every rule module takes :class:`Exposures`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from shuzhi.engine import Engine
from shuzhi.model import PERSON, TS
from shuzhi.tracing.policy import ContactPolicy

EXPOSURE_SCHEMA = pa.schema(
    [
        ("case_key", PERSON),
        ("via_key", PERSON),  # null for the case itself
        ("source_key", PERSON),  # whose contacts to find: the case, or the close contact via_key
        ("start", TS),
        ("end", TS),
    ]
)


@dataclass(frozen=True)
class Exposures:
    """A small, materialised table of exposures, with the bounds of its windows (to prune scans)."""

    data: pa.Table
    degree: int

    @property
    def table(self) -> ibis.Table:
        return ibis.memtable(self.data)

    @property
    def empty(self) -> bool:
        return self.data.num_rows == 0

    def bounds(self, lookback_days: int | None = None) -> tuple[dt.datetime, dt.datetime]:
        """The earliest start (or end minus ``lookback_days``, if earlier) and the latest end."""
        start, end = pc.min(self.data["start"]).as_py(), pc.max(self.data["end"]).as_py()
        if lookback_days is not None:
            start = min(start, pc.min(self.data["end"]).as_py() - dt.timedelta(days=lookback_days))
        return start, end


def within(
    t: ibis.Table, start: ibis.Value, end: ibis.Value, begin: str = "time_in", finish: str = "time_out"
) -> ibis.Value:
    """Rows of ``t`` whose [begin, finish] interval meets [start, end]."""
    return (t[begin] <= end) & (t[finish] >= start)


def index_cases(
    engine: Engine,
    policy: ContactPolicy,
    cases: Iterable[int] | None = None,
    as_of: dt.datetime | None = None,
) -> ibis.Table:
    """One row per index case: case_key, status, onset_date, first_positive_at, diagnosed_at, window."""
    diagnosed = _diagnoses(engine, policy, cases, as_of)
    sampled = _first_positive_samples(engine, as_of)
    joined = diagnosed.left_join(sampled, diagnosed.case_key == sampled.sample_key).drop("sample_key")
    window = policy.window
    by_onset = joined.onset_date.cast("timestamp(0)") - ibis.interval(days=window.days_before_onset)
    by_sample = joined.first_positive_at.date().cast("timestamp(0)") - ibis.interval(
        days=window.days_before_first_positive_sample
    )
    by_diagnosis = joined.isolated_at.date().cast("timestamp(0)") - ibis.interval(
        days=window.days_before_first_positive_sample
    )
    start = ibis.coalesce(ibis.least(by_onset, by_sample), by_onset, by_sample, by_diagnosis)
    end = joined.isolated_at if as_of is None else ibis.least(joined.isolated_at, ibis.literal(as_of))
    return joined.select(
        "case_key",
        "status",
        "onset_date",
        "first_positive_at",
        diagnosed_at=joined.isolated_at,
        window_start=start.cast("timestamp(0)"),
        window_end=end.cast("timestamp(0)"),
    )


def _diagnoses(engine: Engine, policy: ContactPolicy, cases: Iterable[int] | None, as_of: dt.datetime | None):
    d = engine.table("diagnoses")
    d = d.filter(d.status.isin(list(policy.index_cases.statuses)))
    if as_of is not None:
        d = d.filter(d.diagnosed_at <= as_of)
    if cases is not None:
        chosen = ibis.memtable(pa.table({"chosen_key": pa.array(list(cases), PERSON)}))
        d = d.semi_join(chosen, d.person_key == chosen.chosen_key)
    return d.group_by(case_key=d.person_key).aggregate(
        status=d.status.argmax(d.diagnosed_at),
        onset_date=d.onset_date.min(),
        isolated_at=d.diagnosed_at.min(),
    )


def _first_positive_samples(engine: Engine, as_of: dt.datetime | None) -> ibis.Table:
    if not engine.has_table("tests"):
        empty = pa.table({"sample_key": pa.array([], PERSON), "first_positive_at": pa.array([], TS)})
        return ibis.memtable(empty)
    t = engine.table("tests")
    t = t.filter(t.result == "positive")
    if as_of is not None:
        t = t.filter(t.sampled_at <= as_of)
    return t.group_by(sample_key=t.person_key).aggregate(first_positive_at=t.sampled_at.min())


def case_exposures(cases: pa.Table) -> Exposures:
    """Degree-1 exposures: each case traced from the start to the end of their own window."""
    data = pa.table(
        {
            "case_key": cases["case_key"],
            "via_key": pa.nulls(cases.num_rows, PERSON),
            "source_key": cases["case_key"],
            "start": cases["window_start"],
            "end": cases["window_end"],
        },
        schema=EXPOSURE_SCHEMA,
    )
    return Exposures(data.filter(pc.less(data["start"], data["end"])), degree=1)
