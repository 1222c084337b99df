"""The Parquet lake: part names and places, atomic writes, the ledger and its pending marks."""

from __future__ import annotations

import datetime as dt
import hashlib

import pyarrow as pa
import pyarrow.parquet as pq

from shuzhi import model
from shuzhi.lake import Lake, part_name

from .builders import Feeds, Landing

DAY = dt.date(2020, 1, 20)


def test_part_names_places_and_content(feeds: Feeds, landing: Landing) -> None:
    landing.run()
    residents = feeds.root / "community/residents.csv"
    regions, _ = landing.lake.parts_named(part_name(hashlib.sha256(residents.read_bytes()).hexdigest()))
    assert regions.relative_to(landing.lake_dir).parts[0] == "person_regions"  # of the first file naming them
    homes = pq.read_table(regions)
    assert homes.num_rows == len(set(homes["person_key"].to_pylist())) == 10  # one row per person
    assert all(len(r) == 6 and r.isdigit() for r in homes["home_region"].to_pylist())
    scans = feeds.root / "venue/scans_20200120.csv"
    name = part_name(hashlib.sha256(scans.read_bytes()).hexdigest())
    [part] = landing.lake.parts_named(name)  # the same persons: their home regions are recorded today
    assert part.relative_to(landing.lake_dir).as_posix() == f"venue_stays/day=2020-01-20/{name}"
    stored = pq.read_table(part)
    assert (
        stored.schema.names == model.VENUE_STAYS.schema.names
    )  # the partition column lives in the path only
    assert stored.cast(model.VENUE_STAYS.schema).num_rows == 10  # Parquet keeps seconds as milliseconds
    assert not list(landing.lake_dir.rglob("*.tmp"))


def test_write_read_and_days(tmp_path) -> None:  # noqa: ANN001
    lake = Lake(tmp_path, durable=True)
    rows = pa.table(
        {"enterprise_code": ["A", "B"], "day": [DAY, DAY], "kwh": [1.0, 2.0]}, schema=model.ELECTRICITY.schema
    )
    lake.write_part("electricity", DAY, "part-x.parquet", rows)
    lake.write_part("electricity", DAY + dt.timedelta(days=1), "part-y.parquet", rows)
    lake.sync()
    assert lake.days("electricity") == [DAY, DAY + dt.timedelta(days=1)]
    assert lake.read("electricity").num_rows == 4
    assert lake.read("electricity", ["kwh"], days=[DAY]).column_names == ["kwh"]
    assert lake.read("electricity", exclude="part-x.parquet").num_rows == 2
    assert lake.read("venues").num_rows == 0
    assert lake.tables() == ["electricity"]


def test_ledger_and_pending(tmp_path) -> None:  # noqa: ANN001
    lake = Lake(tmp_path)
    lake.begin("ab" * 32, "venue/scans_20200120.csv")
    assert lake.interrupted("ab" * 32)
    lake.record({"sha256": "ab" * 32, "file": "venue/scans_20200120.csv"})
    assert not lake.interrupted("ab" * 32)
    assert set(lake.ledger()) == {"ab" * 32}
