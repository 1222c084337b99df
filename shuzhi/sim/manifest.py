"""The manifest of a simulated feed directory, and the expected rows that must land.

``manifest.json`` (at the root of the feed directory) says what the simulator wrote: its parameters, every
file with its data-line count and SHA-256, every injected fault by feed and class (``faults``: ingestion must
quarantine exactly these), the tolerated irregularities (``tolerated``: rows that must land anyway), the rows
of each canonical table that must land (``expected``), the classes injected into each feed (``fault_classes``)
and rows the simulator could not carry in a feed (``dropped``, normally empty).
``truth/expected/<table>.parquet`` holds those very rows (raw ``id_number`` schema), appended one file at a
time by ``ExpectedWriter``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from shuzhi import __version__, model

MANIFEST = "manifest.json"
GENERATOR = "shuzhi sim"


@dataclass(frozen=True)
class FileRecord:
    """One written file: its feed, path relative to the feed directory, data lines (Parquet rows), SHA-256."""

    feed: str
    path: str
    rows: int
    sha256: str


@dataclass
class Manifest:
    """What one simulation wrote, as recorded in ``manifest.json``."""

    seed: int
    persons: int
    start: str  # ISO date of the first simulated day
    days: int
    dirt_rate: float
    generator: str = GENERATOR
    version: str = __version__
    files: list[FileRecord] = field(default_factory=list)
    faults: dict[str, dict[str, int]] = field(default_factory=dict)
    tolerated: dict[str, dict[str, int]] = field(default_factory=dict)
    expected: dict[str, int] = field(default_factory=dict)
    fault_classes: dict[str, list[str]] = field(default_factory=dict)
    dropped: dict[str, dict[str, int]] = field(default_factory=dict)

    def add_file(self, record: FileRecord) -> None:
        self.files.append(record)

    def count(self, section: str, feed: str, counts: Mapping[str, int]) -> None:
        """Add ``counts`` (class → rows) of ``feed`` to ``faults``, ``tolerated`` or ``dropped``."""
        target: dict[str, dict[str, int]] = getattr(self, section)
        for name, n in counts.items():
            if n:
                per_feed = target.setdefault(feed, {})
                per_feed[name] = per_feed.get(name, 0) + int(n)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["files"] = sorted(data["files"], key=lambda f: f["path"])
        for section in ("faults", "tolerated", "dropped"):
            data[section] = {feed: dict(sorted(c.items())) for feed, c in sorted(data[section].items())}
        data["expected"] = dict(sorted(data["expected"].items()))
        order = [
            "generator",
            "version",
            "seed",
            "persons",
            "start",
            "days",
            "dirt_rate",
            "files",
            "faults",
            "tolerated",
            "expected",
            "fault_classes",
            "dropped",
        ]
        return {key: data[key] for key in order}

    def write(self, directory: Path) -> Path:
        path = Path(directory) / MANIFEST
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, directory: Path) -> Manifest:
        data = json.loads((Path(directory) / MANIFEST).read_text(encoding="utf-8"))
        data["files"] = [FileRecord(**f) for f in data["files"]]
        return cls(**data)


class ExpectedWriter:
    """``<directory>/<table>.parquet``: the rows of each canonical table that must land, appended batch by
    batch.

    Each batch becomes a row group, so a province of millions of persons never sits in memory at once.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.rows: dict[str, int] = {}
        self._writers: dict[str, pq.ParquetWriter] = {}

    def schema(self, table: str) -> pa.Schema:
        return model.with_raw_ids(model.TABLES[table])

    def append(self, table: str, rows: pa.Table) -> None:
        if table not in self._writers:
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / f"{table}.parquet"
            self._writers[table] = pq.ParquetWriter(path, self.schema(table), write_statistics=False)
            self.rows[table] = 0
        if rows.num_rows:
            self._writers[table].write_table(rows.select(self.schema(table).names).cast(self.schema(table)))
            self.rows[table] += rows.num_rows

    def close(self) -> dict[str, int]:
        """Close every file; the rows written per table."""
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
        return dict(self.rows)
