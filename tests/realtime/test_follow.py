"""The passage log each worker follows, on every store: every committed passage once, in id order; ids a
worker took itself not again; an id skipped by a transaction still open delivered when it commits; ids that
start again after every passage was deleted; and the writer lease, held by one at a time (a file lock, or on
PostgreSQL the store's advisory lock)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import PG_URL
from sqlalchemy import delete, text

from shuzhi.accounts import Role, create_account
from shuzhi.realtime import follow
from shuzhi.realtime.follow import PassageLog, StoreLease, WriterLease, lease_for
from shuzhi.store import Passage, Store, sqlite_url, upgrade

T0 = dt.datetime(2022, 5, 1, 1, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    upgrade(database_url)
    opened = Store(database_url)
    with opened.session() as session:
        create_account(session, "checkpoint", "correct horse battery", Role.CHECKPOINT, T0)
    yield opened
    opened.dispose()


def _log(store: Store, *ids: int, minutes: int = 0) -> None:
    """Commit passages with these ids (explicit ids stand for the order transactions took them in)."""
    with store.session() as session:
        for i in ids:
            session.add(_passage(i, minutes))


def _passage(i: int | None, minutes: int = 0) -> Passage:
    return Passage(
        id=i, checkpoint_code="S1", person_key=i, passed_at=T0 + dt.timedelta(minutes=minutes),
        direction="in", valid=True, reason="valid", payload_sha256="0" * 64, recorded_by=1,
    )  # fmt: skip


def _ids(rows) -> list[int]:
    return [r.id for r in rows]


def test_every_passage_once_in_id_order_and_the_own_ones_not_again(store: Store) -> None:
    _log(store, 1, 2, minutes=-30)
    log = PassageLog(store)
    assert _ids(log.start(T0 - dt.timedelta(minutes=40))) == [1, 2]  # the live state rebuilt from them
    assert log.new() == []
    _log(store, 3, 4)
    assert log.taken([4]) == {4}  # this worker committed 4 and fed it directly
    assert _ids(log.new()) == [3]
    assert log.taken([3]) == set()  # delivered by the log already: not to be fed again
    _log(store, 5)
    assert _ids(log.new()) == [5] and log.new() == []


def test_an_id_skipped_by_an_open_transaction_comes_when_it_commits(store: Store, monkeypatch) -> None:
    log = PassageLog(store)
    log.start(T0)
    _log(store, 1, 2, 4)  # 3 is still being committed elsewhere
    assert _ids(log.new()) == [1, 2, 4]
    _log(store, 3)
    assert _ids(log.new()) == [3]  # late, but once
    _log(store, 6)  # 5 is rolled back: awaited a while, then given up
    assert _ids(log.new()) == [6]
    monkeypatch.setattr(follow, "GAP_SECONDS", 0.0)
    assert log.new() == [] and not log._awaited


@pytest.mark.skipif(PG_URL is None, reason="set SHUZHI_TEST_PG_URL to run on PostgreSQL")
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_transaction_that_took_a_lower_id_and_commits_later_is_followed_once(store: Store) -> None:
    """On PostgreSQL ids come from a sequence before commit: a slow transaction's passage appears behind one
    committed after it (SQLite takes ids inside its one write lock: there, they come in order)."""
    log = PassageLog(store)
    log.start(T0)
    with store.session() as slow:
        slow.add(_passage(None))
        slow.flush()  # the sequence hands it the lower id; committed only when this block ends
        with store.session() as quick:
            quick.add(_passage(None))
        first = log.new()
        assert len(first) == 1 and log._awaited
    late = log.new()
    assert len(late) == 1 and late[0].id < first[0].id and log.new() == []


def test_ids_that_start_again_after_every_passage_was_deleted_are_followed(store: Store) -> None:
    _log(store, 1, 2, 3)
    log = PassageLog(store)
    log.start(T0)
    with store.session() as session:
        session.execute(delete(Passage))  # the retention sunset on an idle instance
    _log(store, 1)
    assert _ids(log.new()) == [1]


def test_the_writer_lease_is_held_by_one_at_a_time_and_passes_on_when_released(tmp_path: Path) -> None:
    first, second = WriterLease(tmp_path / "writer.lock"), WriterLease(tmp_path / "writer.lock")
    assert first.acquire() and first.held
    assert not second.acquire() and not second.held
    first.release()
    assert second.acquire() and not first.acquire()


@pytest.mark.skipif(PG_URL is None, reason="set SHUZHI_TEST_PG_URL to run on PostgreSQL")
def test_the_store_lease_elects_one_writer_across_machines_and_passes_on_when_a_connection_ends() -> None:
    machines = [Store(PG_URL), Store(PG_URL)]  # two engines: two machines sharing one store
    try:
        first, second = (StoreLease(store, confirm_seconds=0) for store in machines)
        assert first.acquire() and first.held
        assert not second.acquire() and not second.held
        first.release()
        assert second.acquire() and not first.acquire()
        with machines[0].engine.connect() as admin:  # the writer's process dies: its session ends
            admin.execute(text("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"))
        assert first.acquire()  # the server released the lock with the session
        assert not second.acquire() and not second.held  # the old writer learns it on its next tick
    finally:
        for lease in (first, second):
            lease.release()
        for store in machines:
            store.dispose()


def test_the_lease_is_the_stores_on_postgresql_and_a_file_lock_otherwise(tmp_path: Path) -> None:
    sqlite = Store(sqlite_url(tmp_path))
    assert isinstance(lease_for(sqlite, tmp_path / "writer.lock"), WriterLease)
    assert isinstance(lease_for(None, tmp_path / "writer.lock"), WriterLease)
    if PG_URL is not None:
        postgresql = Store(PG_URL)
        assert isinstance(lease_for(postgresql, tmp_path / "writer.lock"), StoreLease)
        postgresql.dispose()
