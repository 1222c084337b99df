"""The engine layer gives the same tables, types and values on DuckDB and on Spark."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shuzhi.engine import SparkEngine, connect

SAMPLE = pa.table(
    {
        "person_key": pa.array([-7046029254386353131, 2, None], pa.int64()),
        "seat": pa.array([1, None, 3], pa.int32()),
        "venue_code": pa.array(["V1", "V2", None]),
        "time_in": pa.array(
            [dt.datetime(2022, 3, 1, 12, 5), dt.datetime(2022, 3, 1, 23, 59, 59), None], pa.timestamp("s")
        ),
        "onset_date": pa.array([dt.date(2022, 2, 28), None, dt.date(2022, 3, 1)], pa.date32()),
        "symptoms": pa.array([["fever", "cough"], [], None], pa.list_(pa.string())),
        "share": pa.array([0.25, None, 1.0], pa.float64()),
        "valid": pa.array([True, False, None]),
    }
)


def _lake(root) -> None:
    for day, rows in ((dt.date(2022, 3, 1), SAMPLE.slice(0, 2)), (dt.date(2022, 3, 2), SAMPLE.slice(2))):
        folder = root / "venue_stays" / f"day={day.isoformat()}"
        folder.mkdir(parents=True)
        pq.write_table(rows, folder / "part-0.parquet")


@pytest.mark.spark
def test_registered_tables_come_back_with_duckdbs_types_and_values(spark_backend):
    duck, spark = connect("duckdb"), SparkEngine(spark_backend)
    for engine in (duck, spark):
        engine.register("sample", SAMPLE)
    a, b = duck.to_arrow(duck.table("sample")), spark.to_arrow(spark.table("sample"))
    assert spark.table("sample").schema() == duck.table("sample").schema()
    assert [f.type for f in b.schema] == [f.type for f in a.schema]
    assert b.to_pylist() == a.to_pylist() == SAMPLE.to_pylist()


@pytest.mark.spark
def test_the_lake_reads_the_same_by_path_and_by_uri(tmp_path, spark_backend):
    _lake(tmp_path)
    duck = connect("duckdb", lake=tmp_path)
    by_path = SparkEngine(spark_backend, tmp_path)
    by_uri = SparkEngine(spark_backend, tmp_path.as_uri())  # file:///…: read by Spark, never globbed here
    want = duck.to_arrow(duck.table("venue_stays"))
    assert sorted(want.column("day").to_pylist()) == [dt.date(2022, 3, 1)] * 2 + [dt.date(2022, 3, 2)]
    for spark in (by_path, by_uri):
        assert spark.has_table("venue_stays") and not spark.has_table("trips")
        got = spark.to_arrow(spark.table("venue_stays"))
        assert got.schema == want.schema
        assert sorted(got.to_pylist(), key=str) == sorted(
            want.to_pylist(), key=str
        )  # row order: the engine's
        with pytest.raises(KeyError):
            spark.table("diagnoses")


def test_an_engine_is_chosen_by_name_only_among_the_known_ones():
    with pytest.raises(ValueError, match="duckdb, spark"):
        connect("flink")


@pytest.mark.spark
def test_engines_sharing_the_spark_session_keep_their_own_tables(tmp_path, spark_backend):
    _lake(tmp_path / "a")
    first, second = SparkEngine(spark_backend, tmp_path / "a"), SparkEngine(spark_backend)
    stays = first.table("venue_stays")
    second.register("venue_stays", SAMPLE.slice(0, 1))
    assert first.to_arrow(stays.count()).as_py() == 3
    assert second.to_arrow(second.table("venue_stays").count()).as_py() == 1
