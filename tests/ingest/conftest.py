from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pyarrow as pa
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from builders import TODAY, Feeds, good_feeds  # noqa: E402

from shuzhi.ingest import Report, ingest  # noqa: E402
from shuzhi.lake import Lake  # noqa: E402


class Landing:
    """A feed directory, a lake and a shared key file; ``run()`` ingests and keeps the report."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.feeds_dir = root / "feeds"
        self.lake_dir = root / "data" / "lake"
        self.key_file = root / "secrets" / "pseudonym.key"
        self.report: Report | None = None

    def run(self, feeds_dir: Path | None = None, lake_dir: Path | None = None, **kwargs) -> Report:
        kwargs.setdefault("today", TODAY)
        self.report = ingest(
            feeds_dir or self.feeds_dir, lake_dir or self.lake_dir, key_file=self.key_file, **kwargs
        )
        return self.report

    @property
    def lake(self) -> Lake:
        return Lake(self.lake_dir)

    def table(self, name: str) -> pa.Table:
        return self.lake.read(name)

    def quarantine(self, file: str | None = None) -> list[dict]:
        rows = self.table("quarantine").to_pylist()
        return [r for r in rows if file is None or r["file"] == file]


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
