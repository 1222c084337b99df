"""Fixtures of the health-code spec tests: every test runs on every engine of the engine layer."""

from __future__ import annotations

import pytest
from engines import ENGINE_PARAMS, make_engine

from shuzhi.codes import CodePolicy, load_policy
from shuzhi.engine import Engine


@pytest.fixture(params=ENGINE_PARAMS)
def engine(request: pytest.FixtureRequest) -> Engine:
    return make_engine(request)


@pytest.fixture(scope="session")
def hangzhou() -> CodePolicy:
    return load_policy("2020-5th")


@pytest.fixture(scope="session")
def ninth() -> CodePolicy:
    return load_policy("2022-9th")
