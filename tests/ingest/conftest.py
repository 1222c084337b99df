from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from .builders import TODAY, Feeds, Landing, good_feeds


@pytest.fixture
def landing(tmp_path: Path) -> Landing:
    return Landing(tmp_path)


@pytest.fixture
def feeds(landing: Landing) -> Feeds:
    """A directory with one clean file per feed."""
    return good_feeds(landing.feeds_dir)


@pytest.fixture
def today() -> dt.date:
    return TODAY


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests need atomic renames, not durability against power loss."""
    monkeypatch.setenv("SHUZHI_LAKE_FSYNC", "0")
