"""The engines every spec test runs on: DuckDB, and PySpark in local mode (marked ``spark``).

``pytest -m "not spark"`` skips the Spark runs; without PySpark installed they are skipped too. The Spark
session is started once per test session (the ``spark_backend`` fixture of ``tests/conftest.py``) and shared
by every Spark engine: an engine is cheap, a session is not.
"""

from __future__ import annotations

import pytest

from shuzhi.engine import ENGINES, Engine, SparkEngine, connect

ENGINE_PARAMS = [pytest.param(name, marks=[pytest.mark.spark] if name == "spark" else []) for name in ENGINES]


def make_engine(request: pytest.FixtureRequest, lake=None) -> Engine:
    """A fresh engine of the fixture's parameter (the shared Spark session for ``spark``)."""
    if request.param == "spark":
        return SparkEngine(request.getfixturevalue("spark_backend"), lake)
    return connect(request.param, lake=lake)
