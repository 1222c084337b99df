"""The Parquet lake: canonical tables partitioned by day, written atomically, with a ledger of what came in.

Layout under the lake root::

    <table>/day=YYYY-MM-DD/part-<source sha256 prefix>.parquet   one part per source file and day
    quarantine/day=YYYY-MM-DD/part-<source sha256 prefix>.parquet
    _ledger/<source sha256>.json                                one record per ingested source file
    _ledger/<source sha256>.pending                             a source file being ingested
    _reports/ingest-<timestamp>.json                            ingest reports

The partition column ``day`` lives only in the path (DuckDB and Spark read it with hive partitioning); the
table's own day column (``model.Table.day_column``) is stored in the file. Every write goes to a temporary
file in the same directory and is moved into place with ``os.replace``, so a reader never sees half a file. A
source file enters the ledger only after all its parts are committed; parts are named after the source file's
hash, so redoing an interrupted file overwrites its parts with identical content.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from shuzhi import model

PART_PREFIX = "part-"
LEDGER_DIR = "_ledger"
REPORTS_DIR = "_reports"
COMPRESSION = "zstd"
FSYNC_ENV = "SHUZHI_LAKE_FSYNC"
MAX_FSYNCS = 32  # above this many parts at once, one os.sync() is cheaper than an fsync each


def table_stamp(folder: Path) -> int:
    """Changes when a table's parts change (its folder's and day folders' modification times); 0 if absent.
    Readers that cache a table, or act on a new analysis, compare stamps instead of reading the parts."""
    if not folder.is_dir():
        return 0
    return hash(tuple(p.stat().st_mtime_ns for p in (folder, *sorted(folder.glob("day=*")))))


def part_name(source_sha256: str) -> str:
    """The part file name of a source file: its hash prefix (64 bits are plenty to tell files apart)."""
    return f"{PART_PREFIX}{source_sha256[:16]}.parquet"


class Lake:
    """A lake root directory: write and read table parts, keep the ledger and the reports."""

    def __init__(self, root: Path | str, durable: bool | None = None) -> None:
        self.root = Path(root)
        # fsync files before they are renamed into place and directories before the ledger names them;
        # SHUZHI_LAKE_FSYNC=0 trades that durability (not atomicity) for speed, e.g. in tests
        self.durable = os.environ.get(FSYNC_ENV, "1") != "0" if durable is None else durable
        self._unsynced: list[Path] = []  # parts renamed into place whose data is not yet known durable
        self._made_dirs: set[Path] = set()

    # ---- parts -------------------------------------------------------------------------------------------
    def partition_dir(self, table: str, day: dt.date) -> Path:
        return self.root / table / f"day={day.isoformat()}"

    def write_part(self, table: str, day: dt.date, name: str, data: pa.Table) -> Path:
        """Write one part atomically (temporary file, fsync, rename); returns its path."""
        path = self.partition_dir(table, day) / name
        if path.parent not in self._made_dirs:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._made_dirs.add(path.parent)
        tmp = path.with_name(f".{name}.{os.getpid()}.tmp")
        try:
            pq.write_table(data, tmp, compression=COMPRESSION)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        self._unsynced.append(path)
        return path

    def write_days(self, table: str, name: str, data: pa.Table, day_column: str) -> list[Path]:
        """Write ``data`` as one part called ``name`` per day of ``day_column`` (a column named ``day`` is
        the partition itself: readers get it back from the path, so the files leave it out); then sync."""
        days = pc.cast(data[day_column], pa.date32())
        stored = data.drop_columns(["day"]) if "day" in data.column_names else data
        written = [
            self.write_part(table, day, name, stored.filter(pc.equal(days, pa.scalar(day, pa.date32()))))
            for day in pc.unique(days).to_pylist()
            if day is not None
        ]
        self.sync()
        return written

    def sync(self) -> None:
        """Make the parts written so far durable: their data and their names (directory entries).

        A handful of parts are fsynced one by one; many (registries partitioned by a date spanning years make
        thousands of small parts) are flushed with one ``sync()`` of the system instead.
        """
        if self.durable and self._unsynced:
            if len(self._unsynced) > MAX_FSYNCS:
                os.sync()
            else:
                for path in self._unsynced:
                    _fsync(path)
                for directory in sorted({p.parent for p in self._unsynced}):
                    _fsync_dir(directory)
        self._unsynced.clear()

    def days(self, table: str) -> list[dt.date]:
        """The days that have a partition of ``table``."""
        base = self.root / table
        if not base.is_dir():
            return []
        return sorted(dt.date.fromisoformat(p.name[4:]) for p in base.glob("day=*") if p.is_dir())

    def parts(self, table: str, days: Iterable[dt.date] | None = None) -> list[Path]:
        """Committed part files of ``table``, optionally only those of some days."""
        base = self.root / table
        if days is None:
            return sorted(base.glob("day=*/*.parquet"))
        found: list[Path] = []
        for day in sorted(set(days)):
            found.extend(sorted(self.partition_dir(table, day).glob("*.parquet")))
        return found

    def parts_named(self, name: str) -> list[Path]:
        """Every committed part called ``name``, in any table and day (the parts of one source file)."""
        return sorted(self.root.glob(f"*/day=*/{name}"))

    def read(
        self,
        table: str,
        columns: list[str] | None = None,
        days: Iterable[dt.date] | None = None,
        exclude: str | None = None,
        where: pc.Expression | None = None,
    ) -> pa.Table:
        """Rows of ``table`` (canonical schema, no partition column), optionally only some days' and those
        matching ``where``; ``exclude`` leaves out parts of that name."""
        schema = model.TABLES[table].schema
        if columns is not None:
            schema = pa.schema([schema.field(c) for c in columns])
        paths = [str(p) for p in self.parts(table, days) if p.name != exclude]
        if not paths:
            return schema.empty_table()
        full = model.TABLES[table].schema
        return ds.dataset(paths, schema=full, format="parquet").to_table(columns=schema.names, filter=where)

    def tables(self) -> list[str]:
        """Canonical tables with at least one part."""
        return [name for name in model.TABLES if any(self.parts(name))]

    # ---- ledger ------------------------------------------------------------------------------------------
    def ledger(self) -> dict[str, dict[str, Any]]:
        """Ingested source files by sha256."""
        base = self.root / LEDGER_DIR
        if not base.is_dir():
            return {}
        entries = (json.loads(p.read_text(encoding="utf-8")) for p in sorted(base.glob("*.json")))
        return {e["sha256"]: e for e in entries}

    def begin(self, sha256: str, file: str) -> None:
        """Mark a source file as being ingested (before its first part is written)."""
        self._write_json(self._pending_path(sha256), {"sha256": sha256, "file": file})

    def interrupted(self, sha256: str) -> bool:
        """Whether an earlier attempt at this source file began and never reached the ledger."""
        return self._pending_path(sha256).exists()

    def _pending_path(self, sha256: str) -> Path:
        return self.root / LEDGER_DIR / f"{sha256}.pending"

    def record(self, entry: dict[str, Any]) -> Path:
        """Add a source file to the ledger (atomically), after making its parts durable."""
        self.sync()
        path = self._write_json(self.root / LEDGER_DIR / f"{entry['sha256']}.json", entry)
        self._pending_path(entry["sha256"]).unlink(missing_ok=True)
        return path

    def write_report(self, text: str, stamp: dt.datetime) -> Path:
        """Keep an ingest report as ``_reports/ingest-<timestamp>.json``."""
        path = self.root / REPORTS_DIR / f"ingest-{stamp.strftime('%Y%m%dT%H%M%S%f')}.json"
        return self._write_text(path, text)

    def _write_json(self, path: Path, content: dict[str, Any]) -> Path:
        return self._write_text(path, json.dumps(content, ensure_ascii=False, indent=1, sort_keys=True))

    def _write_text(self, path: Path, text: str) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(text, encoding="utf-8")
            if self.durable:
                _fsync(tmp)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        if self.durable:
            _fsync_dir(path.parent)
        return path


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # platforms that cannot open directories
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
