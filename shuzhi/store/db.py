"""Engines and sessions for the operational store, from a database URL.

SQLite at ``<data>/shuzhi.db`` is the embedded default; a PostgreSQL URL (``postgresql+psycopg://...``) runs
the same models at scale. On SQLite a writing transaction starts with ``BEGIN IMMEDIATE`` (one writer at a
time, no deadlocked or failed upgrades from read to write), a read-only one (``Store.session(write=False)``)
with a deferred ``BEGIN``: in WAL mode readers see a snapshot and never wait for the writer. Foreign keys are
enforced. ``synchronous=NORMAL`` syncs the WAL at checkpoints instead of at each commit: a committed
transaction survives a crash of the application (it is in the WAL file, in the operating system's cache);
a power loss or kernel crash may roll back the last transactions before a checkpoint, never corrupting the
database. On PostgreSQL ``lock`` takes an advisory lock, so both backends give the audit chain's appends one
serial order.
"""

from __future__ import annotations

import fcntl
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

READ_ONLY = "shuzhi_read_only"
"""Execution option of the connections of read-only sessions (SQLite: deferred ``BEGIN``)."""


class ReadOnlySession(Session):
    """A session for reading only: flushing changes is refused (``ReadOnlyError``)."""

    def flush(self, objects: Any = None) -> None:
        if self.new or self.dirty or self.deleted:
            raise ReadOnlyError("this session is read-only")
        super().flush(objects)


class ReadOnlyError(RuntimeError):
    """A write was attempted in a read-only session."""


DB_FILENAME = "shuzhi.db"
AUTOCHECKPOINT_PAGES = 10_000
"""SQLite: the commit that takes the WAL past this many pages (about 40 MB) checkpoints it into the database.
A checkpoint stalls every writer for its duration: with SQLite's default (1,000 pages) about one commit of
scans in 50 took 20 ms or more, with this one about one in 500 (some 35 ms); the WAL file grows to match."""


def sqlite_url(data_dir: Path) -> str:
    """The default store URL: ``sqlite:///<data_dir>/shuzhi.db``."""
    return f"sqlite:///{Path(data_dir).resolve() / DB_FILENAME}"


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get their parent folder created and the pragmas above."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    pool: dict[str, Any] = {}
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # connections to a file are cheap: more than a process lets open at once (``shuzhi.api.deps``)
        pool = {"pool_size": 16, "max_overflow": 48}
    engine = create_engine(url, connect_args={"timeout": 30}, **pool)
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let SQLAlchemy's "begin" event issue BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable across application crashes (see above)
    cursor.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def lock(session: Session, name: str) -> None:
    """Hold a lock on ``name`` until the session's transaction ends: one holder at a time, across processes.

    PostgreSQL takes a transaction-scoped advisory lock; SQLite transactions here are serial already.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"shuzhi:{name}".encode()).digest()[:8], "big", signed=True)
        session.execute(select(func.pg_advisory_xact_lock(key)))


_TOUCHED = "shuzhi_touched_tables"


def _note_flushed(session: Session, _flush_context: Any) -> None:
    touched = session.info.setdefault(_TOUCHED, set())
    for instance in (*session.new, *session.dirty, *session.deleted):
        table = getattr(type(instance), "__tablename__", None)
        if table:
            touched.add(table)


def _note_statement(state: Any) -> None:
    if (state.is_update or state.is_delete or state.is_insert) and state.bind_mapper is not None:
        session_tables = state.session.info.setdefault(_TOUCHED, set())
        session_tables.update(t.name for t in state.bind_mapper.tables)


def _forget_changes(session: Session) -> None:
    session.info.pop(_TOUCHED, None)


class Store:
    """The operational store of one instance: an engine and its session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._readers = sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), class_=ReadOnlySession, expire_on_commit=False
        )
        self._changes: dict[str, int] = {}
        database = make_url(url).database if self.engine.dialect.name == "sqlite" else None
        self._turns = threading.Lock() if database and database != ":memory:" else None
        self._turn_path = f"{database}.writers"
        self._turn_file: IO[bytes] | None = None
        event.listen(self._sessions, "after_flush", _note_flushed)
        event.listen(self._sessions, "do_orm_execute", _note_statement)
        event.listen(self._sessions, "after_commit", self._count_changes)
        event.listen(self._sessions, "after_rollback", _forget_changes)

    def changes(self, table: str) -> int:
        """How many transactions of this process that wrote to ``table`` have committed (a cache key:
        an in-process cache of rows of ``table`` is stale when this number moved; other processes' writes
        are not seen)."""
        return self._changes.get(table, 0)

    def _count_changes(self, session: Session) -> None:
        for table in session.info.pop(_TOUCHED, ()):
            self._changes[table] = self._changes.get(table, 0) + 1

    @contextmanager
    def writer_turn(self) -> Iterator[None]:
        """Wait for this writer's turn among the writers of every process, then hold it (SQLite files).

        SQLite's own busy handler makes a writer that finds the database locked sleep 1, 2, 5, 10... ms
        before it looks again: two processes committing batches back to back lose most of their time
        asleep. Here waiting writers queue on a lock file instead, and the kernel wakes the next one the
        moment the lock is released. PostgreSQL and in-memory databases need no turn.
        """
        if self._turns is None:
            yield
            return
        with self._turns:  # threads of one process share the file: take turns here first
            if self._turn_file is None:  # opened on first use, again after ``dispose``
                self._turn_file = open(self._turn_path, "a+b")  # noqa: SIM115 - held open for the store's life
            fcntl.flock(self._turn_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._turn_file, fcntl.LOCK_UN)

    @contextmanager
    def session(self, write: bool = True) -> Iterator[Session]:
        """A session whose transaction commits when the block ends normally and rolls back otherwise.

        ``write=False``: a read-only session (no write lock on SQLite; flushing changes raises)."""
        with (self._sessions if write else self._readers)() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()
        if self._turns is not None:
            with self._turns:
                if self._turn_file is not None:
                    self._turn_file.close()
                    self._turn_file = None
