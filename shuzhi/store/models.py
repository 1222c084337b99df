"""The operational store's tables, defined once as SQLAlchemy 2.x declarative models.

The store holds what the platform decides and records while it runs — accounts, declarations, appeals,
manual colour changes, passages and the audit log — as opposed to the lake, which holds department feeds for
analytics. Persons appear only as ``person_key``, the int64 keyed pseudonym of ``shuzhi.model``; no raw ID
number is stored. Times are stored as naive UTC and read back as timezone-aware UTC (:class:`UTCDateTime`),
the same on SQLite and PostgreSQL. A change to these models ships with an Alembic revision under
``shuzhi/store/migrations/versions``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

COLOURS = ("green", "yellow", "red")
APPEAL_STATUSES = ("pending", "upheld", "rejected")
CHANGE_STATUSES = ("pending", "approved", "rejected")
APPLICATION_STATUSES = ("pending", "approved", "rejected")
RISK_CLASSES = ("low", "medium", "high")
DIRECTIONS = ("in", "out")
MESSAGE_STATUSES = ("sent", "acknowledged", "accepted", "rejected")
VISIT_OUTCOMES = ("reached", "unavailable", "uncooperative")
ACCEPTED_IN = "direction = 'in' AND status = 'accepted'"


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored as naive UTC and returned as aware UTC; naive input is refused."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("store timestamps must be timezone-aware")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


def _one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=f"{column}_valid")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Account(Base):
    """A login: staff of a role, or a resident bound to their ``person_key``."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("(role = 'resident') = (person_key IS NOT NULL)", name="resident_has_person"),
        CheckConstraint(
            "enterprise_code IS NULL OR role = 'enterprise'", name="enterprise_only_for_enterprises"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    person_key: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    enterprise_code: Mapped[str | None] = mapped_column(String(18))  # an enterprise account's firm
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    credentials_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # older tokens end


class LoginFailure(Base):
    """Failed logins in a row for a username (known or not), and until when it is locked; see
    ``shuzhi.accounts.lockout``. Kept in the store so that every worker process counts every attempt."""

    __tablename__ = "login_failures"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class HealthDeclaration(Base):
    """健康申报 (GB/T 38963 health declaration) with the GB/T 38962 health fields."""

    __tablename__ = "health_declarations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_key: Mapped[int] = mapped_column(BigInteger, index=True)
    declared_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    region_code: Mapped[str] = mapped_column(String(6))  # 现居住地区, GB/T 2260
    temperature: Mapped[float] = mapped_column(Float)  # 体温, °C
    symptoms: Mapped[list[str]] = mapped_column(JSON)  # 症状; empty when none
    contact_history: Mapped[bool] = mapped_column(Boolean)  # 接触史: contact with a case in the last 14 days
    visited_regions: Mapped[list[str]] = mapped_column(JSON)  # 旅居史: regions of the last 14 days


class TripDeclaration(Base):
    """行程申报 (GB/T 38963 trip declaration): one journey by public transport."""

    __tablename__ = "trip_declarations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_key: Mapped[int] = mapped_column(BigInteger, index=True)
    declared_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    mode: Mapped[str] = mapped_column(String(16))  # 交通方式, one of shuzhi.model.TRIP_MODES
    trip_no: Mapped[str] = mapped_column(String(32))  # 车次/航班号
    travel_date: Mapped[dt.date] = mapped_column(Date)  # 日期
    origin: Mapped[str] = mapped_column(String(64))  # 出发地
    destination: Mapped[str] = mapped_column(String(64))  # 目的地
    carriage: Mapped[str | None] = mapped_column(String(16))  # 车厢
    seat: Mapped[str | None] = mapped_column(String(16))  # 座位号


class FollowupVisit(Base):
    """A field team's follow-up of a person on the worklist (随访): reached, or not and why. A health check
    taken on it (temperature, symptoms) is a :class:`HealthDeclaration` of its own, made at the same time."""

    __tablename__ = "followup_visits"
    __table_args__ = (_one_of("outcome", VISIT_OUTCOMES),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_key: Mapped[int] = mapped_column(BigInteger, index=True)
    visited_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    county_code: Mapped[str | None] = mapped_column(String(6), index=True)  # the team's: from the worklist

    recorder: Mapped[Account] = relationship(lazy="joined")


class Appeal(Base):
    """A resident's appeal against their code or the rule that set it, and its decision."""

    __tablename__ = "appeals"
    __table_args__ = (_one_of("status", APPEAL_STATUSES),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_key: Mapped[int] = mapped_column(BigInteger, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    subject: Mapped[str] = mapped_column(String(128))  # the code colour or rule id appealed against
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decision: Mapped[str | None] = mapped_column(Text)


class ManualChange(Base):
    """A manual colour change (健康信息更正): in force only once a second, different operator approves it."""

    __tablename__ = "manual_changes"
    __table_args__ = (
        _one_of("status", CHANGE_STATUSES),
        _one_of("colour", COLOURS),
        CheckConstraint("approved_by IS NULL OR approved_by <> requested_by", name="four_eyes"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_key: Mapped[int] = mapped_column(BigInteger, index=True)
    colour: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    requester: Mapped[Account] = relationship(foreign_keys=[requested_by], lazy="joined")
    approver: Mapped[Account | None] = relationship(foreign_keys=[approved_by], lazy="joined")


class ReturnToWorkApplication(Base):
    """An enterprise's application to return to work (复工申请): plan, measures, risk class, decision."""

    __tablename__ = "return_to_work_applications"
    __table_args__ = (_one_of("status", APPLICATION_STATUSES), _one_of("risk_class", RISK_CLASSES))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_code: Mapped[str] = mapped_column(String(18), index=True)
    submitted_by: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    planned_date: Mapped[dt.date] = mapped_column(Date)
    staff_planned: Mapped[int] = mapped_column(Integer)
    measures: Mapped[list[str]] = mapped_column(JSON)  # the prevention measures the enterprise declares
    risk_class: Mapped[str] = mapped_column(String(8))  # set by the policy's rules at submission
    risk_reasons: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decision: Mapped[str | None] = mapped_column(Text)


class Passage(Base):
    """A scan at a checkpoint or venue: who passed (when the credential names them), when, and the verdict."""

    __tablename__ = "passages"
    __table_args__ = (_one_of("direction", DIRECTIONS),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    checkpoint_code: Mapped[str] = mapped_column(String(64), index=True)
    person_key: Mapped[int | None] = mapped_column(BigInteger, index=True)
    passed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    direction: Mapped[str] = mapped_column(String(3))
    valid: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(255))
    payload_sha256: Mapped[str] = mapped_column(String(64))  # the scanned payload itself is not kept
    recorded_by: Mapped[int] = mapped_column(ForeignKey("accounts.id"))


class FederationMessage(Base):
    """A message sent to or received from another region, kept whole (signed bytes) with what became of it.

    Both sides keep every message: the sender its ``out`` row (``sent``, then ``acknowledged`` with the
    receiver's signed receipt), the receiver its ``in`` row (``accepted`` or ``rejected`` with the reason).
    """

    __tablename__ = "federation_messages"
    __table_args__ = (
        _one_of("direction", DIRECTIONS),
        _one_of("status", MESSAGE_STATUSES),
        # a sender's chain has one accepted message per number, even when two deliveries race
        Index(
            "uq_federation_messages_accepted_seq",
            "peer",
            "seq",
            unique=True,
            sqlite_where=text(ACCEPTED_IN),
            postgresql_where=text(ACCEPTED_IN),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))
    message_id: Mapped[str] = mapped_column(String(32), index=True)
    peer: Mapped[str] = mapped_column(String(6), index=True)  # the other region
    kind: Mapped[str] = mapped_column(String(16))
    seq: Mapped[int] = mapped_column(BigInteger)
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the signed bytes
    prev: Mapped[str] = mapped_column(String(64))  # the digest the message chains to ("" for the first)
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    logged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # rows landed and rejected
    sealed: Mapped[bytes] = mapped_column(LargeBinary)  # the signed message itself
    receipt: Mapped[bytes | None] = mapped_column(LargeBinary)  # the receiver's signed receipt (out rows)


class AuditRecord(Base):
    """One entry of the append-only audit log; ``hash`` chains it to the one before (see ``shuzhi.audit``)."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    person_key: Mapped[int | None] = mapped_column(BigInteger, index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
