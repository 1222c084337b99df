"""The whole analysis of a small simulated province on Spark equals the one on DuckDB, table for table."""

from __future__ import annotations

import json
import math
import shutil
from collections import Counter

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from shuzhi.cli import app
from shuzhi.engine import connect
from shuzhi.pipeline import analyse
from shuzhi.settings import DataDir

pytestmark = [pytest.mark.spark, pytest.mark.slow]
runner = CliRunner()
DERIVED = (
    *("contacts", "area_risk", "five_colour", "index", "codes", "code_changes", "code_counts"),
    *("followup", "risk_arrivals", "od_flows", "epi", "open_statistics", "published_itineraries"),
)


@pytest.fixture(scope="module")
def province(tmp_path_factory) -> DataDir:
    """A landed lake, not yet analysed: 5,000 persons over 10 days."""
    root = tmp_path_factory.mktemp("province")
    feeds, data = root / "feeds", DataDir(root / "data")
    result = runner.invoke(app, ["sim", str(feeds), "--persons", "5000", "--days", "10", "--seed", "2"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["ingest", str(feeds), "--data", str(data.root)])
    assert result.exit_code == 0, result.output
    return data


def _copy(province: DataDir, to) -> DataDir:
    shutil.copytree(province.root, to)
    return DataDir(to)


def _rows(table: pa.Table) -> Counter:
    """The rows as a multiset: order is the engine's business; floats to 9 significant digits."""

    def cell(value):
        if isinstance(value, list):
            return tuple(value)
        if isinstance(value, float) and math.isfinite(value) and value:
            return round(value, 8 - int(math.floor(math.log10(abs(value)))))
        return value

    columns = sorted(table.column_names)
    return Counter(tuple(cell(row[c]) for c in columns) for row in table.select(columns).to_pylist())


def test_the_analysis_on_spark_equals_the_analysis_on_duckdb(province, tmp_path, spark_backend):
    on_duckdb, on_spark = _copy(province, tmp_path / "duckdb"), _copy(province, tmp_path / "spark")
    expected = analyse(on_duckdb)
    # the command line, as an operator runs it (the test session's Spark session is the active one)
    result = runner.invoke(app, ["analyse", "--data", str(on_spark.root), "--engine", "spark"])
    assert result.exit_code == 0, result.output

    assert expected.cases > 0 and expected.contacts_by_class.get("close", 0) > 0
    assert f"{expected.cases:,}" in result.output
    reader_a, reader_b = connect(lake=on_duckdb.lake), connect(lake=on_spark.lake)
    for name in DERIVED:
        assert expected.tables[name] > 0, name
        a, b = reader_a.to_arrow(reader_a.table(name)), reader_b.to_arrow(reader_b.table(name))
        assert a.schema == b.schema, name
        assert _rows(a) == _rows(b), name
    graph_a = json.loads((on_duckdb.outputs / "graph.json").read_text())
    graph_b = json.loads((on_spark.outputs / "graph.json").read_text())
    assert graph_a.keys() == graph_b.keys()
    for key, value in graph_a.items():
        if isinstance(value, list):  # nodes and links: in the order the engine returned the contacts
            assert sorted(map(json.dumps, value)) == sorted(map(json.dumps, graph_b[key])), key
        else:
            assert value == graph_b[key], key
