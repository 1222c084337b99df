"""Session-wide fixtures: the one Spark session the Spark runs of the spec tests share; an empty database on
SQLite and, when ``SHUZHI_TEST_PG_URL`` names a PostgreSQL database, on PostgreSQL too."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import text

from shuzhi.store import Base, make_engine, sqlite_url

PG_URL = os.environ.get("SHUZHI_TEST_PG_URL")

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


def _emptied(url: str) -> str:
    engine = make_engine(url)
    with engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    return url


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param(
            "postgresql",
            id="postgresql",
            marks=pytest.mark.skipif(PG_URL is None, reason="set SHUZHI_TEST_PG_URL to run on PostgreSQL"),
        ),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a fresh SQLite file, or the emptied PostgreSQL database of SHUZHI_TEST_PG_URL."""
    return sqlite_url(tmp_path / "db") if request.param == "sqlite" else _emptied(PG_URL or "")
