"""The analytic results the views read: derived lake tables and the pipeline's JSON outputs.

``shuzhi.pipeline.analyse`` writes ``codes``, ``code_changes``, ``code_counts``, ``area_risk``,
``five_colour``, ``index`` and ``contacts`` into the lake and ``graph.json`` into ``<data>/outputs``;
``shuzhi replay`` writes ``replay_2020_city_risk.json`` next to it. :class:`Results` reads them for the API
through one :mod:`shuzhi.engine` per instance: queries are serialised by a lock (a DuckDB connection is not
shared across threads), and the engine is opened again when a table's folder changes (the pipeline replaces
derived tables as a whole), so a running server always shows the newest run.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import ibis
import pyarrow as pa
from fastapi import Depends, Request
from fastapi import Query as QueryParameter

from shuzhi.engine import Engine, connect
from shuzhi.lake import table_stamp
from shuzhi.settings import DataDir

GRAPH_FILE = "graph.json"
REPLAY_FILE = "replay_2020_city_risk.json"
Query = Callable[[ibis.Table], ibis.Expr]
T = TypeVar("T")


class NotComputed(LookupError):
    """A result the pipeline has not written (yet) to this data directory."""


class Results:
    """Read access to one data directory's analytic results."""

    def __init__(self, data: DataDir) -> None:
        self.data = data
        self._lock = threading.Lock()
        self._engine: Engine | None = None
        self._seen: dict[str, int] = {}
        self._outputs: dict[str, tuple[int, Any]] = {}

    def has(self, name: str) -> bool:
        return any((self.data.lake / name).glob("day=*/*.parquet"))

    def query(self, name: str, build: Query) -> pa.Table:
        """Run ``build(table)`` over the derived table ``name``; :class:`NotComputed` when it is absent."""
        if not self.has(name):
            raise NotComputed(f"no {name!r} results yet: run `shuzhi analyse`")
        with self._lock:
            engine = self._fresh_engine(name)
            return engine.to_arrow(build(engine.table(name)))

    def rows(self, name: str, build: Query) -> list[dict[str, Any]]:
        return self.query(name, build).to_pylist()

    def compute(self, work: Callable[[Engine], T], after: str) -> T:
        """Run ``work`` on the engine over the lake, once the derived table ``after`` exists."""
        if not self.has(after):
            raise NotComputed(f"no {after!r} results yet: run `shuzhi analyse`")
        with self._lock:
            return work(self._fresh_engine(after))

    def day_of(self, name: str, day: dt.date | None, missing: str) -> tuple[list[dt.date], dt.date]:
        """The days of the derived table ``name``, and ``day`` (default: the latest) if it is one of them;
        :class:`NotComputed` (``missing`` for that day) if not."""
        days = [r["day"] for r in self.rows(name, lambda t: t.select("day").distinct().order_by("day"))]
        chosen = day or (days[-1] if days else None)
        if chosen is None or chosen not in days:
            raise NotComputed(f"{missing} for {day}")
        return days, chosen

    def output(self, file_name: str) -> Any:
        """A JSON output of the pipeline or the replay; :class:`NotComputed` when absent."""
        path = self.data.outputs / file_name
        if not path.is_file():
            raise NotComputed(f"no {file_name} yet: run `shuzhi analyse` / `shuzhi replay`")
        stamp = path.stat().st_mtime_ns
        cached = self._outputs.get(file_name)
        if cached is None or cached[0] != stamp:  # parsed once per version of the file
            cached = self._outputs[file_name] = (stamp, json.loads(path.read_text(encoding="utf-8")))
        return cached[1]

    def _fresh_engine(self, name: str) -> Engine:
        stamp = table_stamp(self.data.lake / name)
        if self._engine is None or self._seen.get(name, stamp) != stamp:
            self._engine, self._seen = connect(lake=self.data.lake), {}
        self._seen[name] = stamp
        return self._engine


def results(request: Request) -> Results:
    """The app's :class:`Results` (a FastAPI dependency)."""
    return request.app.state.results


Found = Annotated[Results, Depends(results)]
LatestDay = Annotated[dt.date | None, QueryParameter(description="the day (default: the latest)")]
