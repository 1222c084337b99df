"""Fixtures of the tracing spec tests: one engine per backend shuzhi supports, and a ``given`` helper."""

from __future__ import annotations

import pytest
from engines import ENGINE_PARAMS, make_engine

from shuzhi.engine import Engine
from tracing.spec import table


@pytest.fixture(params=ENGINE_PARAMS)
def engine(request) -> Engine:
    """A fresh engine of each supported backend; spec tests run on every one."""
    return make_engine(request)


@pytest.fixture
def given(engine):
    """``given(name, text)`` registers a text table as the canonical table ``name`` of the engine."""

    def register(name: str, text: str) -> None:
        engine.register(name, table(name, text))

    return register
