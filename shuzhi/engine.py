"""The engine layer: where analytics meet an execution engine.

Analytics are Ibis expressions over the lake's tables; this module is the one place that knows which
engine runs them (DuckDB embedded by default; PySpark at scale) and how the lake's Parquet files are
opened. Spec tests hand small Arrow tables to ``Engine.register`` and run the very same expressions.
"""

from __future__ import annotations

from pathlib import Path

import ibis
import pyarrow as pa

ENGINES = ("duckdb",)


class Engine:
    """An Ibis backend plus the lake it reads."""

    def __init__(self, backend: ibis.BaseBackend, lake: Path | None = None, name: str = "duckdb") -> None:
        self.backend = backend
        self.lake = lake
        self.name = name
        self._tables: dict[str, ibis.Table] = {}

    def table(self, name: str) -> ibis.Table:
        """The canonical table ``name``: registered in memory, or read from the lake (Parquet by day)."""
        if name not in self._tables:
            self._tables[name] = self._read_lake(name)
        return self._tables[name]

    def has_table(self, name: str) -> bool:
        return name in self._tables or (self.lake is not None and any(self._lake_files(name)))

    def register(self, name: str, data: pa.Table) -> ibis.Table:
        """Make an in-memory Arrow table available as ``name`` (spec tests, small reference tables)."""
        self._tables[name] = self.backend.create_table(name, data, temp=True, overwrite=True)
        return self._tables[name]

    def to_arrow(self, expr: ibis.Expr) -> pa.Table:
        return self.backend.to_pyarrow(expr)

    def _lake_files(self, name: str):
        if self.lake is None:
            return iter(())
        return (self.lake / name).glob("day=*/*.parquet")

    def _read_lake(self, name: str) -> ibis.Table:
        if not any(self._lake_files(name)):
            raise KeyError(f"table {name!r} has no data in the lake {self.lake}")
        pattern = str(self.lake / name / "day=*" / "*.parquet")
        return self.backend.read_parquet(pattern, table_name=name, hive_partitioning=True)


def connect(
    engine: str = "duckdb", lake: Path | str | None = None, memory_limit: str | None = None
) -> Engine:
    """Open an engine over ``lake``. Only engine names in ``ENGINES`` are accepted."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    config = {"memory_limit": memory_limit} if memory_limit else {}
    backend = ibis.duckdb.connect(**config)
    backend.raw_sql("SET enable_progress_bar = false")  # the CLI draws its own progress
    return Engine(backend, Path(lake) if lake is not None else None, engine)
