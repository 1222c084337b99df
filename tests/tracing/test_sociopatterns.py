"""Real data: SocioPatterns office (InVS15) and conference (SFHH) contacts through the proximity rule."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from shuzhi.tracing import load_policy
from shuzhi.tracing.sociopatterns import (
    close_contacts_by_threshold,
    index_persons,
    main,
    path,
    proximity_records,
    read_tij,
    same_department_share,
    with_minutes,
)

THRESHOLDS = (5, 15, 30, 60)


def test_consecutive_20_second_windows_merge_into_one_encounter():
    tij = np.array([[100, 2, 1], [120, 1, 2], [140, 1, 2], [200, 1, 2], [120, 1, 3]])
    records = proximity_records(tij, origin=dt.datetime(2022, 3, 1)).to_pylist()
    got = sorted(
        (r["person_key_a"], r["person_key_b"], r["start_at"], r["duration_seconds"]) for r in records
    )
    at = dt.datetime(2022, 3, 1)
    assert got == [
        (1, 2, at + dt.timedelta(seconds=80), 60),
        (1, 2, at + dt.timedelta(seconds=180), 20),
        (1, 3, at + dt.timedelta(seconds=100), 20),
    ]


@pytest.mark.parametrize("dataset", ["office", "conference"])
def test_the_real_files_merge_without_losing_a_window(dataset):
    tij = read_tij(path(dataset))
    records = proximity_records(tij)
    assert records["duration_seconds"].to_numpy().sum() == 20 * len(tij)
    assert records.num_rows < len(tij)


@pytest.mark.parametrize(("dataset", "people"), [("office", 217), ("conference", 403)])
def test_close_contacts_per_index_person_are_plausible_and_fall_as_the_threshold_rises(
    engine, dataset, people
):
    assert len(np.unique(read_tij(path(dataset))[:, 1:])) == people
    persons = index_persons(dataset)
    found = close_contacts_by_threshold(engine, dataset, persons, load_policy("2022-9th"), list(THRESHOLDS))
    means = [np.mean(found[minutes]) for minutes in THRESHOLDS]
    at_15 = means[THRESHOLDS.index(15)]
    assert 0.2 <= at_15 <= 20, f"{at_15} close contacts per index person at 15 min/day in the {dataset}"
    assert all(a > b for a, b in zip(means, means[1:], strict=False)), means


def test_most_close_contacts_in_the_office_share_a_department(engine):
    """What the shared-workspace rule assumes: 15 minutes a day together happens mostly within a team."""
    share, by_chance = same_department_share(engine, with_minutes(load_policy("2022-9th"), 15))
    assert share > 0.6 > 3 * by_chance


def test_the_docs_table_prints(capsys):
    main(["--minutes", "15"])
    table = capsys.readouterr().out
    assert "| 15 | 2.85 (2, 7) | 0.75 (1, 2) |" in table  # docs/tracing.md, the editions' bound
    assert "76% of the pairs" in table
