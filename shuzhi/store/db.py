"""Engines and sessions for the operational store, from a database URL.

SQLite at ``<data>/shuzhi.db`` is the embedded default; a PostgreSQL URL (``postgresql+psycopg://...``) runs
the same models at scale. On SQLite every transaction starts with ``BEGIN IMMEDIATE`` (one writer at a time,
no deadlocked upgrades from read to write) in WAL mode with foreign keys enforced; on PostgreSQL ``lock``
takes an advisory lock, so both backends give the audit chain's appends one serial order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

DB_FILENAME = "shuzhi.db"


def sqlite_url(data_dir: Path) -> str:
    """The default store URL: ``sqlite:///<data_dir>/shuzhi.db``."""
    return f"sqlite:///{Path(data_dir).resolve() / DB_FILENAME}"


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get their parent folder created and the pragmas above."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30})
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let SQLAlchemy's "begin" event issue BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def lock(session: Session, name: str) -> None:
    """Hold a lock on ``name`` until the session's transaction ends: one holder at a time, across processes.

    PostgreSQL takes a transaction-scoped advisory lock; SQLite transactions here are serial already.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"shuzhi:{name}".encode()).digest()[:8], "big", signed=True)
        session.execute(select(func.pg_advisory_xact_lock(key)))


class Store:
    """The operational store of one instance: an engine and its session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits when the block ends normally and rolls back otherwise."""
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()
