"""Retention limits delete only what is past them, on both databases; the sunset leaves nothing personal."""

from __future__ import annotations

import datetime as dt
import itertools

import pyarrow as pa
import pytest
from sqlalchemy import func, select

from shuzhi.accounts import create_account
from shuzhi.accounts.roles import Role
from shuzhi.audit import verify_chain
from shuzhi.lake import Lake
from shuzhi.policy import PolicyError
from shuzhi.privacy.pseudonym import KEY_FILE_NAME
from shuzhi.privacy.retention import apply_retention, retention_policy, sunset
from shuzhi.settings import DataDir
from shuzhi.store import Account, AuditRecord, FederationMessage, HealthDeclaration, LoginFailure, Passage

TODAY = dt.date(2020, 3, 1)
POLICY = retention_policy("2020-5th")  # 30 days for personal tables
DAYS = [TODAY - dt.timedelta(days=d) for d in (40, 31, 30, 29, 1)]  # 40 and 31 are past the limit


def _data(tmp_path) -> DataDir:
    data = DataDir(tmp_path / "data")
    lake = Lake(data.lake)
    for day in DAYS:
        stays = pa.table({"person_key": [1, 2], "venue_code": ["V1", "V1"]})
        lake.write_part("venue_stays", day, "part-0.parquet", stays)
        near = pa.table({"person_key_a": [1], "person_key_b": [2], "duration_seconds": [60]})
        lake.write_part("proximity", day, "part-0.parquet", near)  # persons in two columns
        lake.write_part(
            "area_risk", day, "part-0.parquet", pa.table({"county_code": ["330102"], "level": ["low"]})
        )
    data.feeds.mkdir(parents=True)
    (data.feeds / "health.csv").write_text("身份证号\n330102199001011234\n", encoding="utf-8")
    data.secrets.mkdir(parents=True)
    (data.secrets / KEY_FILE_NAME).write_text("00" * 32)
    return data


def _add_rows(store) -> None:
    with store.session() as session:
        now = dt.datetime.combine(TODAY, dt.time(8), dt.UTC)
        staff = create_account(session, "op", "a-long-password-1", Role.OPERATOR, now)
        numbers = itertools.count(1)  # a sender's chain: one accepted message per number
        create_account(session, "me", "a-long-password-2", Role.RESIDENT, now, person_key=7)
        session.flush()
        for days in (45, 2):
            at = dt.datetime.combine(TODAY - dt.timedelta(days=days), dt.time(9), dt.UTC)
            session.add(
                HealthDeclaration(
                    person_key=7,
                    declared_at=at,
                    region_code="330102",
                    temperature=36.5,
                    symptoms=[],
                    contact_history=False,
                    visited_regions=[],
                )
            )
            session.add(
                Passage(
                    checkpoint_code="CP",
                    person_key=7,
                    passed_at=at,
                    direction="in",
                    valid=True,
                    reason="valid: green",
                    payload_sha256="0" * 64,
                    recorded_by=staff.id,
                )
            )
            for kind in ("handover", "statistics"):  # only a handover carries persons
                session.add(_message(kind, at, seq=next(numbers)))
        for username, days in (("330102199001011234", 2), ("op", 0)):  # an ID number typed as a username
            failed_at = now - dt.timedelta(days=days)
            session.add(LoginFailure(username=username, failures=2, last_failed_at=failed_at))


def _message(kind: str, at: dt.datetime, seq: int) -> FederationMessage:
    return FederationMessage(
        direction="in",
        message_id=kind,
        peer="330200",
        kind=kind,
        seq=seq,
        digest="0" * 64,
        prev="",
        sent_at=at,
        logged_at=at,
        status="accepted",
        reason="",
        outcome={},
        sealed=b"signed",
    )


def test_retention_deletes_only_what_is_past_its_limit_and_audits_it(tmp_path, store):
    data = _data(tmp_path)
    _add_rows(store)
    dry = apply_retention(data, store, POLICY, TODAY, dry_run=True)
    assert dry.partitions == {"venue_stays": 2, "proximity": 2} and dry.store_rows == {
        "health_declarations": 1,
        "passages": 1,
        "federation_handovers": 1,
        "login_failures": 1,
    }
    assert len(list((data.lake / "venue_stays").iterdir())) == 5  # a dry run deletes nothing
    done = apply_retention(data, store, POLICY, TODAY)
    assert done.partitions == {"venue_stays": 2, "proximity": 2}
    assert done.lake_rows == {"venue_stays": 4, "proximity": 2}
    kept = sorted(p.name for p in (data.lake / "venue_stays").iterdir())
    assert kept == [f"day={d.isoformat()}" for d in sorted(DAYS[2:])]
    assert len(list((data.lake / "area_risk").iterdir())) == 5  # aggregates are not personal
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(HealthDeclaration)) == 1
        assert session.scalar(select(func.count()).select_from(Passage)) == 1
        assert session.scalars(select(LoginFailure.username)).all() == ["op"]  # a day's counts are kept
        assert sorted(session.scalars(select(FederationMessage.kind))) == [
            "handover",
            "statistics",
            "statistics",
        ]
        record = session.scalars(select(AuditRecord).where(AuditRecord.action == "retention")).one()
        assert record.purpose == "data_protection" and record.detail["store_rows"]["passages"] == 1
    again = apply_retention(data, store, POLICY, TODAY)
    assert not again.partitions and not again.store_rows  # a second run finds nothing more


def test_the_sunset_leaves_nothing_that_can_name_a_person(tmp_path, store):
    data = _data(tmp_path)
    _add_rows(store)
    with pytest.raises(ValueError, match="confirm with 'the emergency is over'"):
        sunset(data, store, "yes")
    assert (data.lake / "venue_stays").exists()
    done = sunset(data, store, "The emergency is over")
    assert done.partitions["venue_stays"] == done.partitions["proximity"] == 5
    assert not (data.lake / "venue_stays").exists() and not data.feeds.exists()
    assert not (data.lake / "proximity").exists()
    assert not (data.secrets / KEY_FILE_NAME).exists()
    assert len(list((data.lake / "area_risk").iterdir())) == 5
    with store.session() as session:
        for model in (HealthDeclaration, Passage, LoginFailure):
            assert session.scalar(select(func.count()).select_from(model)) == 0
        assert session.scalars(select(Account.username)).all() == ["op"]
        assert set(session.scalars(select(FederationMessage.kind))) == {"statistics"}
        assert session.scalars(select(AuditRecord.action).order_by(AuditRecord.seq)).all()[-1] == "sunset"
        assert verify_chain(session).ok  # the audit chain is whole


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("store_days.visits", 30, "key 'store_days.visits"),
        ("lake_days.venue_stays", 0, "key 'lake_days.venue_stays'"),
    ],
)
def test_a_malformed_section_names_the_key(tmp_path, key, value, message):
    from risk.spec import edited

    with pytest.raises(PolicyError, match=message.replace(".", r"\.")):
        retention_policy(edited(tmp_path / "edition", "2020-5th", "retention", {key: value}))
