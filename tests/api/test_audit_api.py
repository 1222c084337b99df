"""Auditors read the audit log and verify its chain through the API; tampering in the database shows."""

from __future__ import annotations

from sqlalchemy import delete, update

from shuzhi.store import AuditRecord

from .conftest import Instance


def _verify(instance: Instance, **anchor: object) -> dict:
    response = instance.client.get(
        "/operator/audit/verify", params=anchor, headers=instance.headers["auditor"]
    )
    assert response.status_code == 200, response.text
    return response.json()


def _read(instance: Instance, **params: int) -> list[dict]:
    response = instance.client.get("/operator/audit", params=params, headers=instance.headers["auditor"])
    assert response.status_code == 200, response.text
    return response.json()


def _activity(instance: Instance) -> None:
    for _ in range(3):
        instance.client.get("/resident/appeals", headers=instance.headers["resident"])


def test_the_auditor_reads_the_log_in_chain_order_and_is_audited_too(instance: Instance) -> None:
    _activity(instance)
    first_two = _read(instance, limit=2)
    assert [r["seq"] for r in first_two] == [1, 2]
    assert first_two[1]["prev_hash"] == first_two[0]["hash"]
    rest = _read(instance, after_seq=2)
    assert [(r["seq"], r["action"]) for r in rest] == [(3, "read:appeals"), (4, "read:audit_log")]
    last = instance.audit_records()[-1]
    assert (last.seq, last.actor, last.action) == (5, "auditor", "read:audit_log")
    assert last.detail == {"after_seq": 2, "count": 2}


def test_verification_passes_then_names_the_tampered_record(instance: Instance) -> None:
    _activity(instance)
    report = _verify(instance)
    assert report["ok"] and report["records"] == 3 and report["problem"] is None
    with instance.store.session() as session:
        session.execute(update(AuditRecord).where(AuditRecord.seq == 2).values(actor="someone else"))
    report = _verify(instance)
    assert not report["ok"] and report["bad_seq"] == 2 and "altered" in report["problem"]


def test_verification_names_a_deleted_record(instance: Instance) -> None:
    _activity(instance)
    with instance.store.session() as session:
        session.execute(delete(AuditRecord).where(AuditRecord.seq == 2))
    report = _verify(instance)
    assert not report["ok"] and report["bad_seq"] == 3 and "missing" in report["problem"]


def test_an_anchor_kept_outside_catches_a_truncated_log(instance: Instance) -> None:
    _activity(instance)
    anchor = _verify(instance)  # the auditor keeps head_seq and head_hash elsewhere
    with instance.store.session() as session:
        session.execute(delete(AuditRecord).where(AuditRecord.seq >= 3))
    assert _verify(instance)["ok"]
    report = _verify(instance, anchor_seq=anchor["head_seq"], anchor_hash=anchor["head_hash"])
    assert not report["ok"] and report["bad_seq"] == anchor["head_seq"]
