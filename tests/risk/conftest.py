"""Fixtures of the risk spec tests: one engine per backend shuzhi supports, and edited policy editions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from engines import ENGINE_PARAMS, make_engine

from risk.spec import edited
from shuzhi.engine import Engine


@pytest.fixture(params=ENGINE_PARAMS)
def engine(request) -> Engine:
    """A fresh engine of each supported backend; spec tests run on every one."""
    return make_engine(request)


@pytest.fixture
def edition(tmp_path):
    """``edition(name, section, {"dotted.key": value})``: a copy of a shipped edition with keys changed."""

    def make(name: str, section: str, changes: dict[str, Any]) -> Path:
        return edited(tmp_path / f"{name}-edited", name, section, changes)

    return make
