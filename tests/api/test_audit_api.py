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


def _activity(instance: Instance) -> None:
    for _ in range(3):
        instance.client.get("/resident/appeals", headers=instance.headers["resident"])


def test_the_auditor_reads_the_log_in_chain_order_and_is_audited_too(instance: Instance) -> None:
    _activity(instance)
    response = instance.client.get(
        "/operator/audit", params={"limit": 2}, headers=instance.headers["auditor"]
    )
    first_two = response.json()
    assert [r["seq"] for r in first_two] == [1, 2]
    assert first_two[1]["prev_hash"] == first_two[0]["hash"]
    rest = instance.client.get(
        "/operator/audit", params={"after_seq": 2}, headers=instance.headers["auditor"]
    )
    assert [r["seq"] for r in rest.json()] == [3]
    last = instance.audit_records()[-1]
    assert (last.actor, last.action, last.detail) == (
        "auditor",
        "read:audit_log",
        {"after_seq": 2, "count": 1},
    )


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
