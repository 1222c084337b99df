"""The engine layer: where analytics meet an execution engine.

Analytics are Ibis expressions over the lake's tables; this module is the one place that knows which
engine runs them (DuckDB embedded by default; PySpark at scale) and how the lake's Parquet files are
opened. Spec tests hand small Arrow tables to ``Engine.register`` and run the very same expressions.

Both engines read the lake as it lies, ``<lake>/<table>/day=YYYY-MM-DD/*.parquet``, with the ``day``
partition taken from the path as a date. DuckDB reads a local directory; Spark reads a local directory or
any URI its Hadoop file systems know (``hdfs://``, ``s3a://``), which is never globbed locally.

Both engines give the same Arrow types: timestamps are naive (the lake's timestamps are UTC wall-clock; the
Spark session's time zone is UTC so nothing shifts), dates are ``date32``, integers keep their width and
lists are Arrow lists.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa

ENGINES = ("duckdb", "spark")
_ENGINE_NUMBERS = itertools.count(1)
DEFAULT_SPARK_MASTER = "local[*]"
DEFAULT_DRIVER_MEMORY = "4g"


class Engine:
    """An Ibis backend plus the lake it reads."""

    def __init__(
        self, backend: ibis.BaseBackend, lake: Path | str | None = None, name: str = "duckdb"
    ) -> None:
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
        return Path(self.lake, name).glob("day=*/*.parquet")

    def _read_lake(self, name: str) -> ibis.Table:
        if not any(self._lake_files(name)):
            raise KeyError(f"table {name!r} has no data in the lake {self.lake}")
        pattern = str(Path(self.lake, name, "day=*", "*.parquet"))
        return self.backend.read_parquet(pattern, table_name=name, hive_partitioning=True)


class SparkEngine(Engine):
    """PySpark through Ibis: the same expressions, compiled to Spark SQL and run by a Spark session.

    The lake may be a local directory or a URI (``hdfs://…``, ``s3a://…``): Spark lists it with its own file
    systems; ``day`` comes from the path by partition discovery (``basePath``), as DuckDB's hive partitioning
    gives it.
    """

    def __init__(self, backend: ibis.BaseBackend, lake: Path | str | None = None) -> None:
        super().__init__(backend, lake, "spark")
        self.session = backend._session
        # temporary views are the session's, and engines over other lakes may share the session
        self._views = f"shuzhi{next(_ENGINE_NUMBERS)}_"

    def has_table(self, name: str) -> bool:
        if name in self._tables:
            return True
        if self.lake is None:
            return False
        if not _is_uri(self.lake):
            return any(self._lake_files(name))
        try:
            self.table(name)
        except KeyError:
            return False
        return True

    def register(self, name: str, data: pa.Table) -> ibis.Table:
        # naive timestamps enter as Spark's TIMESTAMP (session time zone UTC), as the lake's are read; lists
        # stay arrays, dates stay dates, an empty table keeps its schema
        frame = self.session.createDataFrame(data)
        frame.createOrReplaceTempView(self._views + name)
        table = self.backend.table(self._views + name)
        self._tables[name] = _typed(table, ibis.Schema.from_pyarrow(data.schema))
        return self._tables[name]

    def to_arrow(self, expr: ibis.Expr) -> pa.Table:
        table = expr.as_table()
        self.backend._run_pre_execute_hooks(table)  # registers the expression's in-memory tables
        result = self.session.sql(self.backend.compile(table)).toArrow()
        result = result.cast(table.schema().to_pyarrow())  # Spark's UTC timestamps → naive, as DuckDB's
        return expr.__pyarrow_result__(result)

    def _read_lake(self, name: str) -> ibis.Table:
        base = _join(self.lake, name)
        if not _is_uri(self.lake) and not any(self._lake_files(name)):
            raise KeyError(f"table {name!r} has no data in the lake {self.lake}")
        try:
            frame = self.session.read.option("basePath", base).parquet(_join(base, "day=*", "*.parquet"))
        except Exception as error:  # Spark's AnalysisException: the path matched nothing
            if "PATH_NOT_FOUND" in str(error) or "Path does not exist" in str(error):
                raise KeyError(f"table {name!r} has no data in the lake {self.lake}") from error
            raise
        frame.createOrReplaceTempView(self._views + name)
        table = self.backend.table(self._views + name)
        # the lake's timestamps as DuckDB types them (microseconds; Ibis leaves Spark's scale out)
        micros = {
            c: t.copy(scale=6) for c, t in table.schema().items() if t.is_timestamp() and t.scale is None
        }
        return _typed(table, ibis.schema({**table.schema(), **micros}))


def _arrow_pyspark_backend() -> ibis.BaseBackend:
    """Ibis' PySpark backend, handing in-memory tables to Spark as Arrow (not through pandas, row by row)."""
    from ibis.backends.pyspark import Backend

    _ = ibis.pyspark  # loading the backend through Ibis registers its options

    class ArrowBackend(Backend):
        def _register_in_memory_table(self, op) -> None:
            data = op.data.to_pyarrow(op.schema).combine_chunks()
            self._session.createDataFrame(data).createOrReplaceTempView(op.name)

    return ArrowBackend()


def connect(
    engine: str = "duckdb",
    lake: Path | str | None = None,
    memory_limit: str | None = None,
    spark_master: str | None = None,
    spark_conf: dict[str, Any] | None = None,
) -> Engine:
    """Open an engine over ``lake``. Only engine names in ``ENGINES`` are accepted.

    ``memory_limit`` (``"2GB"``) bounds DuckDB, or sets a local Spark driver's memory. A Spark engine joins
    the running Spark session if there is one (``spark-submit``, a notebook, the tests' session), else starts
    one on ``spark_master`` (default ``local[*]``); ``spark_conf`` adds Spark settings to a new session.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    where = lake if lake is None or _is_uri(lake) else Path(lake)
    if engine == "spark":
        return SparkEngine(spark_backend(spark_master, memory_limit, spark_conf), where)
    config = {"memory_limit": memory_limit} if memory_limit else {}
    backend = ibis.duckdb.connect(**config)
    backend.raw_sql("SET enable_progress_bar = false")  # the CLI draws its own progress
    return Engine(backend, where, engine)


def spark_backend(
    master: str | None = None, memory_limit: str | None = None, conf: dict[str, Any] | None = None
) -> ibis.BaseBackend:
    """An Ibis PySpark backend on the active Spark session, or on a new one built for shuzhi."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:  # pragma: no cover - depends on the install
        raise RuntimeError("the Spark engine needs PySpark: pip install 'shuzhi[spark]'") from error

    session = SparkSession.getActiveSession()
    if session is None:
        session = spark_session(master, memory_limit, conf)
    return _arrow_pyspark_backend().connect(session)


def spark_session(
    master: str | None = None, memory_limit: str | None = None, conf: dict[str, Any] | None = None
):
    """A Spark session for shuzhi's analytics: UTC, no UI, quiet logs, the lake's timestamps as TIMESTAMP."""
    from pyspark.sql import SparkSession

    master = master or os.environ.get("SHUZHI_SPARK_MASTER") or DEFAULT_SPARK_MASTER
    settings: dict[str, Any] = {
        "spark.app.name": "shuzhi",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        # the lake's naive timestamps read as Spark's TIMESTAMP, like Arrow tables handed to register()
        "spark.sql.parquet.inferTimestampNTZ.enabled": "false",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.adaptive.enabled": "true",
    }
    if master.startswith("local"):
        settings["spark.driver.memory"] = (
            _spark_memory(memory_limit) if memory_limit else DEFAULT_DRIVER_MEMORY
        )
        settings["spark.sql.shuffle.partitions"] = str(4 * (os.cpu_count() or 1))
        # tracing's small sides (traced stays, a few hundred thousand rows) are broadcast, not shuffled
        settings["spark.sql.autoBroadcastJoinThreshold"] = "256m"
    settings.update(conf or {})
    builder = SparkSession.builder.master(master)
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def _spark_memory(limit: str) -> str:
    """DuckDB's ``"2GB"``/``"512MB"`` as Spark's ``"2g"``/``"512m"``."""
    text = limit.strip().lower().replace("ib", "").rstrip("b")
    return text if text[-1:] in "kmgt" else f"{text}b"


def _typed(table: ibis.Table, schema: ibis.Schema) -> ibis.Table:
    """``table`` with the Ibis types of ``schema`` where Spark's differ (e.g. ``timestamp(0)``, ``int32``)."""
    have = table.schema()
    casts = {
        c: t.copy(nullable=True)
        for c, t in schema.items()
        if have[c].copy(nullable=True) != t.copy(nullable=True)
    }
    return table.cast(casts) if casts else table


def _is_uri(lake: Path | str) -> bool:
    return isinstance(lake, str) and "://" in lake


def _join(base: Path | str, *parts: str) -> str:
    return "/".join([str(base).rstrip("/"), *parts])
