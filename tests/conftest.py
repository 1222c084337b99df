"""Session-wide fixtures: the one Spark session the Spark runs of the spec tests share."""

from __future__ import annotations

import pytest

# small data, two cores: a handful of shuffle partitions instead of Spark's 200, and no adaptive re-planning
# (it pays off on big shuffles, not on spec tables)
SPARK_TEST_CONF = {
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.sql.adaptive.enabled": "false",
}


@pytest.fixture(scope="session")
def spark_backend():
    """An Ibis PySpark backend on a local Spark session, started on first use and stopped at the end."""
    pytest.importorskip("pyspark")
    from shuzhi.engine import spark_backend as backend

    spark = backend("local[2]", "2GB", SPARK_TEST_CONF)
    yield spark
    spark._session.stop()
