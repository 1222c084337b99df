"""Ingesting the event feeds in worker processes lands exactly what one process lands."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from shuzhi.ingest import ingest
from shuzhi.lake import Lake
from shuzhi.model import TABLES
from shuzhi.sim import run
from shuzhi.sim.world import SimParams


def _content(lake_dir) -> dict[str, pa.Table]:
    lake = Lake(lake_dir)
    tables = {}
    for name in TABLES:
        data = lake.read(name)
        sortable = [c for c in data.column_names if not pa.types.is_list(data.schema.field(c).type)]
        tables[name] = data.sort_by([(c, "ascending") for c in sortable])
    return tables


def test_worker_processes_land_the_same_lake_as_one_process(tmp_path):
    run(tmp_path / "feeds", SimParams(persons=2_000, days=3, seed=7), dirt_rate=0.05)
    key = tmp_path / "pseudonym.key"
    one = ingest(tmp_path / "feeds", tmp_path / "one", key_file=key, today=dt.date(2020, 3, 1), workers=1)
    two = ingest(tmp_path / "feeds", tmp_path / "two", key_file=key, today=dt.date(2020, 3, 1), workers=2)
    assert one.totals.rows_landed == two.totals.rows_landed > 0
    assert one.totals.rows_quarantined == two.totals.rows_quarantined > 0
    assert [f.file for f in one.files] == [f.file for f in two.files]
    left, right = _content(tmp_path / "one"), _content(tmp_path / "two")
    for name in TABLES:
        if name == "person_regions":  # each worker records a person it meets once: the same rows, maybe twice
            assert _distinct(left[name]).equals(_distinct(right[name])), name
            assert left[name].num_rows <= right[name].num_rows <= 2 * left[name].num_rows
        else:
            assert left[name].equals(right[name]), name


def _distinct(table: pa.Table) -> pa.Table:
    rows = table.group_by(table.column_names, use_threads=False).aggregate([])
    return rows.sort_by([(c, "ascending") for c in rows.column_names])
