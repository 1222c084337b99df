"""Ingestion against the simulator: every injected fault is found, class by class, and exactly the clean rows
land.

The simulator (``shuzhi.sim.run``) writes a small province's feeds with 2% dirt, a manifest of every injected
fault by feed and class, and ``truth/expected/<table>`` with exactly the rows that must land (raw ID numbers);
mapping those IDs through the same ``Pseudonymiser`` must give the lake's tables row for row.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sim_params import params_file

from shuzhi import model
from shuzhi.ingest import Report, ingest
from shuzhi.lake import Lake
from shuzhi.privacy import Pseudonymiser

sim = pytest.importorskip("shuzhi.sim", reason="the simulator has not landed")

PERSONS, DAYS, SEED, DIRT = 3_000, 5, 11, 0.02


class SimRun:
    def __init__(self, root: Path) -> None:
        from shuzhi.sim.world import SimParams

        self.feeds = root / "feeds"
        self.lake_dir = root / "data" / "lake"
        self.key_file = root / "data" / "secrets" / "pseudonym.key"
        params = params_file(root, **{"proximity.app_share": 0.3})  # every feed, proximity records too
        sim.run(
            self.feeds, SimParams(persons=PERSONS, days=DAYS, seed=SEED, params_file=params), dirt_rate=DIRT
        )
        self.manifest = json.loads((self.feeds / "manifest.json").read_text(encoding="utf-8"))
        self.first = self.ingest()
        self.second = self.ingest()

    def ingest(self) -> Report:
        return ingest(self.feeds, self.lake_dir, key_file=self.key_file, today=dt.date(2020, 6, 1))

    @property
    def pseudonymiser(self) -> Pseudonymiser:
        return Pseudonymiser.from_file(self.key_file)

    def expected(self, table: str) -> pa.Table:
        base = self.feeds / "truth" / "expected"
        paths = sorted(base.glob(f"{table}.parquet")) + sorted((base / table).glob("**/*.parquet"))
        if not paths:
            return model.with_raw_ids(model.TABLES[table]).empty_table()
        return pa.concat_tables([pq.read_table(p) for p in paths])


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> SimRun:
    previous = os.environ.get("SHUZHI_LAKE_FSYNC")
    os.environ["SHUZHI_LAKE_FSYNC"] = "0"
    try:
        return SimRun(tmp_path_factory.mktemp("sim"))
    finally:
        if previous is None:
            os.environ.pop("SHUZHI_LAKE_FSYNC", None)
        else:
            os.environ["SHUZHI_LAKE_FSYNC"] = previous


def test_every_injected_fault_is_quarantined_with_its_class(run: SimRun) -> None:
    injected = {feed: counts for feed, counts in run.manifest["faults"].items() if counts}
    found = {name: s.quarantined for name, s in run.first.feeds.items() if s.quarantined}
    assert found == injected


def test_exactly_the_clean_rows_land(run: SimRun) -> None:
    lake = Lake(run.lake_dir)
    for name, rows in run.manifest["expected"].items():
        table = model.TABLES[name]
        landed = lake.read(name)
        assert landed.num_rows == rows, name
        expected = _pseudonymised(run.expected(name), table, run.pseudonymiser)
        assert _sorted_rows(landed) == _sorted_rows(expected), name


def test_ingesting_again_adds_nothing(run: SimRun) -> None:
    totals = run.second.totals
    assert totals.files_skipped == totals.files
    assert totals.rows_read == totals.rows_landed == totals.rows_quarantined == 0


def test_the_lake_holds_no_raw_id(run: SimRun) -> None:
    ids = set()
    for name in model.TABLES:
        if name == "quarantine":
            continue
        expected = run.expected(name)
        for raw in (c for c in expected.column_names if c.startswith("id_number")):
            ids.update(expected.column(raw).to_pylist()[:200])
    for path in run.lake_dir.rglob("*.parquet"):
        text = repr(pq.read_table(path).to_pylist())
        assert not any(i in text for i in ids), path


def _pseudonymised(expected: pa.Table, table: model.Table, pseudonymiser: Pseudonymiser) -> pa.Table:
    columns = {}
    for field in table.schema:
        raw = model.raw_id_column(field.name)
        if raw != field.name:  # person_key from id_number, person_key_a from id_number_a
            columns[field.name] = pseudonymiser.keys(expected.column(raw))
        else:
            columns[field.name] = expected.column(field.name).cast(field.type)
    return pa.table(columns, schema=table.schema)


def _sorted_rows(table: pa.Table) -> list[tuple]:
    return sorted(tuple(repr(v) for v in row.values()) for row in table.to_pylist())
