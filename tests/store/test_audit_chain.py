"""The audit chain links every record to the one before and names the first edited or deleted record."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import delete, select, update

from shuzhi import audit
from shuzhi.store import AuditRecord, Store

T0 = dt.datetime(2020, 2, 1, 8, 0, tzinfo=dt.UTC)


def _fill(store: Store, n: int) -> None:
    with store.session() as session:
        for i in range(n):
            entry = audit.Entry("op1", "operator", "read:appeals", "appeal_review", 1000 + i, {"i": i})
            audit.append(session, entry, T0 + dt.timedelta(minutes=i))


def _verify(store: Store, anchor: audit.ChainHead | None = None) -> audit.ChainReport:
    with store.session() as session:
        return audit.verify_chain(session, anchor)


def _head(store: Store) -> audit.ChainHead:
    with store.session() as session:
        head = audit.head(session)
    assert head is not None
    return head


def test_records_chain_onto_each_other(store: Store) -> None:
    _fill(store, 5)
    with store.session() as session:
        rows = audit.records(session)
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))
    assert all(r.hash == audit.record_hash(r) for r in rows)
    report = _verify(store, anchor=_head(store))
    assert report.ok and report.records == 5 and report.head == audit.ChainHead(5, rows[-1].hash)


def test_an_empty_log_verifies(store: Store) -> None:
    assert _verify(store) == audit.ChainReport(True, 0, None)


def test_an_edited_record_is_detected(store: Store) -> None:
    _fill(store, 6)
    with store.session() as session:
        session.execute(update(AuditRecord).where(AuditRecord.seq == 3).values(person_key=4242))
    report = _verify(store)
    assert not report.ok
    assert report.bad_seq == 3 and "altered" in (report.problem or "")


def test_a_deleted_record_is_detected(store: Store) -> None:
    _fill(store, 6)
    with store.session() as session:
        session.execute(delete(AuditRecord).where(AuditRecord.seq == 4))
    report = _verify(store)
    assert not report.ok
    assert report.bad_seq == 5 and "missing" in (report.problem or "")
    assert report.records == 3


def test_a_deleted_first_record_is_detected(store: Store) -> None:
    _fill(store, 3)
    with store.session() as session:
        session.execute(delete(AuditRecord).where(AuditRecord.seq == 1))
    assert _verify(store).bad_seq == 2


def test_a_truncated_tail_is_detected_by_the_anchor(store: Store) -> None:
    _fill(store, 4)
    anchor = _head(store)
    with store.session() as session:
        session.execute(delete(AuditRecord).where(AuditRecord.seq == 4))
    assert _verify(store).ok  # the rest of the chain is intact ...
    report = _verify(store, anchor)  # ... but it no longer reaches the anchor kept outside
    assert not report.ok and report.bad_seq == 4


def test_a_rewritten_chain_is_detected_by_the_anchor(store: Store) -> None:
    _fill(store, 4)
    anchor = _head(store)
    with store.session() as session:  # an attacker edits record 2 and recomputes every hash after it
        rows = list(session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))
        session.execute(delete(AuditRecord))
        session.flush()
        rows[1].detail = {"i": "forged"}
        prev = rows[0].hash
        for row in rows[1:]:
            row.prev_hash = prev
            row.hash = prev = audit.record_hash(row)
        for row in rows:
            session.merge(row)
    assert _verify(store).ok
    assert not _verify(store, anchor).ok


def test_concurrent_appends_keep_one_chain(store: Store) -> None:
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            for i in range(15):
                with store.session() as session:
                    audit.append(session, audit.Entry(name, "operator", "read:x", "audit", i), T0)
        except BaseException as exc:  # a thread's exception would otherwise be lost
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = _verify(store)
    assert report.ok and report.records == 60
