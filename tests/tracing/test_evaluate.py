"""Evaluation against ground truth: recall, precision, and infected persons traced before their onset."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc

from shuzhi.tracing.evaluate import Truth, evaluate, evaluation_row
from tracing.spec import trace_with

MARCH_2, FEB_27 = dt.datetime(2022, 3, 2), dt.datetime(2022, 2, 27)


def pseudonymise(ids: pa.Array) -> pa.Array:
    """A stand-in for ``Pseudonymiser(key).keys``: 'ID7' → 7."""
    return pc.cast(pc.utf8_slice_codeunits(ids, 2), pa.int64())


def ids(*persons: int | None) -> pa.Array:
    return pa.array([None if p is None else f"ID{p}" for p in persons], pa.string())


def test_recall_precision_and_traced_before_onset(given, engine):
    given(
        "diagnoses",
        """
        | person_key | status    | onset_date | diagnosed_at        |
        | 1          | confirmed | 2022-03-05 | 2022-03-06 10:00:00 |
        """,
    )
    given("residents", "| person_key | household_id |\n| 1 | H |\n| 2 | H |\n| 3 | H |\n| 4 | H |")
    result = trace_with(engine, "2022-9th")
    close = pa.table(
        {
            "case_id_number": ids(1, 1, 1, 9, 1),
            "contact_id_number": ids(2, 3, 5, 6, 7),
            "setting": ["household", "household", "meal", "meal", "meal"],
            "first_contact_at": pa.array([MARCH_2] * 4 + [FEB_27], pa.timestamp("s")),
            "last_contact_at": pa.array([MARCH_2] * 4 + [FEB_27], pa.timestamp("s")),
        }
    )
    infections = pa.table(
        {
            "id_number": ids(2, 3, 5),
            "infector_id_number": ids(1, 1, 1),
            "onset_date": pa.array([dt.date(2022, 3, 7), dt.date(2022, 3, 6), None], pa.date32()),
            "first_positive_sample_at": pa.array([None, None, dt.datetime(2022, 3, 8)], pa.timestamp("s")),
        }
    )
    e = evaluate(result, Truth.from_tables(close, infections, pseudonymise))
    # 9 is not a case; 4 is no true contact; 7 met the case on 27 February, before the window (1 March on)
    assert (e.cases, e.true_pairs, e.traced_pairs, e.hits) == (1, 4, 3, 2)
    assert e.recall == 2 / 4 and e.precision == 2 / 3 and e.recall_in_window == 2 / 3
    assert e.recall_by_setting == {"household": 1.0, "meal": 0.0}
    assert e.precision_by_rule == {"household": round(2 / 3, 4)}
    assert (e.infected, e.infected_traced_before_onset) == (3, 1)  # 2 in time; 3 after onset; 5 missed
    assert e.persons == {"close": 3}
    assert evaluation_row(e) == "| 2022-9th | 1 | 4 | 3 | 0.500 | 0.667 | 0.667 | 0.333 | 3 / 0 / 0 |"
