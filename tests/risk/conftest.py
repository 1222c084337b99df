"""Fixtures of the risk spec tests: one engine per backend shuzhi supports, and edited policy editions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from risk.spec import edited
from shuzhi.engine import ENGINES, Engine, connect


@pytest.fixture(params=ENGINES)
def engine(request) -> Engine:
    """A fresh engine of each supported backend; spec tests run on every one."""
    return connect(request.param)


@pytest.fixture
def edition(tmp_path):
    """``edition(name, section, {"dotted.key": value})``: a copy of a shipped edition with keys changed."""

    def make(name: str, section: str, changes: dict[str, Any]) -> Path:
        return edited(tmp_path / f"{name}-edited", name, section, changes)

    return make
