"""Several workers, one picture: each worker's hub follows the store's passage log; one worker writes.

An instance may serve with several worker processes (``shuzhi serve --workers N``), each taking scans and
check-ins. Every passage is committed to the store before anything else sees it, so the store's
``passages`` table is the one log they share: each worker's hub takes its own passages as it commits them
and follows the log (:class:`PassageLog`) for those the other workers committed, so every worker counts
every scan. What must happen once — closed stays written to the lake, alerts numbered into the history —
is done by the worker holding the writer lease (:class:`WriterLease`, an exclusive lock on a file of the
data directory, which the operating system releases when its process ends; another worker takes it over
at its next tick). On PostgreSQL the lease is the store's instead (:class:`StoreLease`, a session advisory
lock, which the server releases when the holder's connection ends), so workers on several machines sharing
the store and the data directory elect one writer. The others pass the writer's alerts from the history file
on to their own subscribers.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import logging
import time
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import Connection, func, select, text

from shuzhi.store import Store
from shuzhi.store.models import Passage

log = logging.getLogger(__name__)

LEASE_NAME = "shuzhi realtime writer"  # hashed to the advisory lock's 64-bit key
GAP_SECONDS = 30.0  # how long an id skipped over is awaited (its transaction still open), then given up
COLUMNS = (
    Passage.id,
    Passage.checkpoint_code,
    Passage.person_key,
    Passage.passed_at,
    Passage.direction,
    Passage.valid,
)


class PassageLog:
    """The store's passages in id order after a cursor.

    Ids are handed out before commit: on PostgreSQL a transaction can commit after one that took a higher
    id, so an id skipped over is awaited for :data:`GAP_SECONDS` (a rolled-back transaction's id never
    comes). On SQLite an id is taken inside the write lock and never skipped; but once every passage is
    deleted (the retention sunset on an idle instance) ids start again from 1, which the log notices."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.cursor = 0
        self._awaited: dict[int, float] = {}  # id skipped over → when it was first missed (monotonic)
        self._ahead: set[int] = set()  # ids past the cursor already taken (this worker's own)

    def start(self, since: dt.datetime) -> list:
        """The passages since ``since`` (oldest first, to rebuild the live state); the log follows on
        from the last passage there is now."""
        with self.store.session(write=False) as session:
            last = session.scalar(select(func.max(Passage.id))) or 0
            rows = session.execute(
                select(*COLUMNS)
                .where(Passage.passed_at >= since, Passage.id <= last)
                .order_by(Passage.passed_at, Passage.id)
            ).all()
        self.cursor = last
        return list(rows)

    def taken(self, ids: list[int]) -> set[int]:
        """``ids`` are fed to the hub directly (this worker committed them), so :meth:`new` skips them;
        returns those it has not delivered already (the others must not be fed again)."""
        fresh = {i for i in ids if i > self.cursor or i in self._awaited}
        self._ahead.update(i for i in fresh if i > self.cursor)
        for i in fresh:
            self._awaited.pop(i, None)
        return fresh

    def new(self) -> list:
        """Passages committed since the last call that this worker has not taken, in id order."""
        with self.store.session(write=False) as session:
            rows = session.execute(
                select(*COLUMNS).where(Passage.id > self.cursor).order_by(Passage.id)
            ).all()
            late = self._late(session)
            if not rows and not late and self._restarted(session):
                return self.new()
        fresh = [r for r in late + rows if r.id not in self._ahead]
        if rows:
            self._skipped([r.id for r in rows])
            self.cursor = rows[-1].id
            self._ahead = {i for i in self._ahead if i > self.cursor}
        return fresh

    def _skipped(self, ids: list[int]) -> None:
        expected, now = self.cursor + 1, time.monotonic()
        for i in ids:
            for missing in range(expected, i):
                if missing not in self._ahead:
                    self._awaited.setdefault(missing, now)
            expected = i + 1

    def _late(self, session) -> list:
        """The awaited ids that have been committed since; those awaited too long are given up."""
        if not self._awaited:
            return []
        cutoff = time.monotonic() - GAP_SECONDS
        self._awaited = {i: t for i, t in self._awaited.items() if t >= cutoff}
        found = session.execute(select(*COLUMNS).where(Passage.id.in_(list(self._awaited)))).all()
        for row in found:
            self._awaited.pop(row.id, None)
        return sorted(found, key=lambda r: r.id)

    def _restarted(self, session) -> bool:
        """Whether ids started again below the cursor (every passage was deleted); if so, follow from 0."""
        last = session.scalar(select(func.max(Passage.id))) or 0
        if last >= self.cursor:
            return False
        log.info("passage ids restarted (%d after %d): following the log from the start", last, self.cursor)
        self.cursor, self._ahead, self._awaited = 0, set(), {}
        return True


class Lease(Protocol):
    """Who writes: at most one holder at a time among the workers of an instance."""

    @property
    def held(self) -> bool: ...

    def acquire(self) -> bool:
        """Take the lease if nobody holds it (or confirm it is still held); whether this worker holds it."""
        ...

    def release(self) -> None: ...


def lease_for(store: Store | None, path: Path) -> Lease:
    """The store's advisory lock on PostgreSQL (workers may be on several machines), else a lock on ``path``
    (the workers of one machine)."""
    if store is not None and store.engine.dialect.name == "postgresql":
        return StoreLease(store)
    return WriterLease(path)


class WriterLease:
    """An exclusive, non-blocking lock on ``path``, held until :meth:`release` or the process ends."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._file: IO[bytes] | None = None

    @property
    def held(self) -> bool:
        return self._file is not None

    def acquire(self) -> bool:
        """Take the lease if nobody holds it; whether this process holds it now."""
        if self._file is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        file = self.path.open("ab")
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            file.close()
            return False
        self._file = file
        return True

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None


class StoreLease:
    """A PostgreSQL session advisory lock on a connection of its own, held until :meth:`release`, the process
    ends or the connection drops (the server then releases it: another worker takes it at its next tick).

    While held, :meth:`acquire` confirms the connection every ``confirm_seconds``: a holder whose connection
    was lost learns it there and stops writing (for at most that long, two workers may both write)."""

    def __init__(self, store: Store, name: str = LEASE_NAME, confirm_seconds: float = 5.0) -> None:
        self.engine = store.engine
        self.key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        self.confirm_seconds = confirm_seconds
        self._connection: Connection | None = None
        self._confirmed = 0.0

    @property
    def held(self) -> bool:
        return self._connection is not None

    def acquire(self) -> bool:
        if self._connection is not None:
            if time.monotonic() - self._confirmed < self.confirm_seconds or self._confirm():
                return True
            log.warning("real time: the writer lease's connection was lost; trying to take the lease again")
        connection = self.engine.connect()
        try:
            taken = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar()
            connection.commit()  # the lock belongs to the session, not to this transaction
        except Exception:
            connection.close()
            raise
        if not taken:
            connection.close()
            return False
        self._connection, self._confirmed = connection, time.monotonic()
        return True

    def release(self) -> None:
        if self._connection is None:
            return
        connection, self._connection = self._connection, None
        try:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            connection.commit()
        except Exception:  # a lost connection: the server has released the lock already
            log.warning("real time: releasing the writer lease failed; its connection is gone", exc_info=True)
        finally:
            connection.close()

    def _confirm(self) -> bool:
        """Whether the lease's connection still answers; forgets it if not."""
        try:
            self._connection.execute(text("SELECT 1")).scalar()
            self._connection.commit()
        except Exception:
            self._connection.invalidate()
            self._connection.close()
            self._connection = None
            return False
        self._confirmed = time.monotonic()
        return True
