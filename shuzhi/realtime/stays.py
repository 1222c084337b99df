"""Closed stays into the lake's ``venue_stays`` in small atomic batches, so tracing sees them in seconds.

The occupancy engine closes a stay on an exit scan or on its category's timeout; :class:`StayWriter` keeps
them until :meth:`StayWriter.flush` writes them as one Parquet part per day of entry
(``venue_stays/day=YYYY-MM-DD/part-live-<time>-<n>.parquet``), each written to a temporary file and renamed
into place by :class:`shuzhi.lake.Lake`, so tracing (``Engine.table("venue_stays")``) never reads half a
batch. Times become the lake's convention: local time (China Standard Time, UTC+8) without a zone, to the
second. A stay that timed out ends at its entry plus the timeout (an upper bound: tracing may find an overlap
the person did not have, never miss one they had).
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa

from shuzhi.lake import Lake
from shuzhi.model import CHINA, VENUE_STAYS
from shuzhi.realtime.occupancy import Stay

TABLE = VENUE_STAYS.name
PART_PREFIX = "part-live-"  # the hub's parts, beside the feed's


def local_time(unix_seconds: float) -> dt.datetime:
    """Unix seconds as the lake's naive local time, to the second."""
    return dt.datetime.fromtimestamp(int(unix_seconds), CHINA).replace(tzinfo=None)


def stays_table(stays: Iterable[Stay]) -> pa.Table:
    """Stays as rows of the canonical ``venue_stays`` schema."""
    rows = list(stays)
    return pa.Table.from_pydict(
        {
            "person_key": [s.person_key for s in rows],
            "venue_code": [s.venue_code for s in rows],
            "time_in": [local_time(s.time_in) for s in rows],
            "time_out": [local_time(s.time_out) for s in rows],
        },
        schema=VENUE_STAYS.schema,
    )


class StayWriter:
    """Collects closed stays (from any thread) and writes them to the lake in batches."""

    def __init__(self, lake: Lake | Path | str) -> None:
        self.lake = lake if isinstance(lake, Lake) else Lake(lake)
        self._pending: list[Stay] = []
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._serial = itertools.count(1)
        self.written = 0
        self.parts: list[Path] = []

    def add(self, stays: Iterable[Stay]) -> None:
        with self._lock:
            self._pending.extend(stays)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def flush(self) -> int:
        """Write what has been collected; returns the number of stays written."""
        with self._flush_lock:
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                return 0
            try:
                self._write(batch)
            except Exception:  # keep them for the next flush
                with self._lock:
                    self._pending[:0] = batch
                raise
            self.written += len(batch)
            return len(batch)

    def _write(self, batch: list[Stay]) -> None:
        table = stays_table(batch)
        days = VENUE_STAYS.partition_days(table).to_pylist()
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        for day in sorted(set(days)):
            mask = pa.array([d == day for d in days], pa.bool_())
            name = f"{PART_PREFIX}{stamp}-{next(self._serial)}.parquet"
            self.parts.append(self.lake.write_part(TABLE, day, name, table.filter(mask)))
        self.lake.sync()
