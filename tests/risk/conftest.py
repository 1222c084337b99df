"""Fixtures of the risk spec tests: one engine per backend shuzhi supports."""

from __future__ import annotations

import pytest

from shuzhi.engine import ENGINES, Engine, connect


@pytest.fixture(params=ENGINES)
def engine(request) -> Engine:
    """A fresh engine of each supported backend; spec tests run on every one."""
    return connect(request.param)
