"""The API's request and response bodies (pydantic), shared by the routers of every audience.

Field names of declarations follow GB/T 38963 (health and trip declaration) with GB/T 38962's health fields;
regions are GB/T 2260 codes and are checked against the division table. Responses never carry password hashes,
raw ID numbers or, towards residents, the usernames of staff.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shuzhi import regions
from shuzhi.accounts import Role

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # the store's integers: larger ones are 422, not a crash
Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
RowId = Annotated[int, Path(ge=1, le=INT64_MAX, description="row id")]
Seq = Annotated[int, Query(ge=0, le=INT64_MAX, description="audit records after this sequence number")]
PersonKeyQuery = Annotated[int | None, Query(ge=INT64_MIN, le=INT64_MAX, description="a person key")]
Colour = Literal["green", "yellow", "red"]
TripMode = Literal["flight", "train", "coach", "bus", "metro", "ship"]  # shuzhi.model.TRIP_MODES
Direction = Literal["in", "out"]


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _known_region(code: str) -> str:
    if code not in regions.divisions():
        raise ValueError(f"{code} is not a GB/T 2260 division code")
    return code


# auth


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    role: Role
    expires_at: dt.datetime


class AccountOut(Out):
    id: int
    username: str
    role: Role
    active: bool
    enterprise_code: str | None = None
    created_at: dt.datetime


# resident


class HealthDeclarationIn(BaseModel):
    region_code: str = Field(description="现居住地区: GB/T 2260 code of the county of residence")
    temperature: float = Field(ge=34.0, le=43.0, description="体温, °C")
    symptoms: list[str] = Field(default_factory=list, max_length=20, description="症状: e.g. fever, cough")
    contact_history: bool = Field(description="接触史: contact with a confirmed or suspected case in 14 days")
    visited_regions: list[str] = Field(
        default_factory=list, max_length=50, description="旅居史: GB/T 2260 codes visited in 14 days"
    )

    _region = field_validator("region_code")(_known_region)

    @field_validator("visited_regions")
    @classmethod
    def _visited(cls, codes: list[str]) -> list[str]:
        return [_known_region(c) for c in codes]


class HealthDeclarationOut(Out):
    id: int
    declared_at: dt.datetime
    region_code: str
    temperature: float
    symptoms: list[str]
    contact_history: bool
    visited_regions: list[str]


class TripDeclarationIn(BaseModel):
    mode: TripMode = Field(description="交通方式")
    trip_no: str = Field(min_length=1, max_length=32, description="车次/航班号: train or flight number, line")
    travel_date: dt.date = Field(description="日期")
    origin: str = Field(min_length=1, max_length=64, description="出发地: station, airport or stop")
    destination: str = Field(min_length=1, max_length=64, description="目的地")
    carriage: str | None = Field(default=None, max_length=16, description="车厢")
    seat: str | None = Field(default=None, max_length=16, description="座位号")


class TripDeclarationOut(Out):
    id: int
    declared_at: dt.datetime
    mode: str
    trip_no: str
    travel_date: dt.date
    origin: str
    destination: str
    carriage: str | None
    seat: str | None


class AppealIn(BaseModel):
    subject: str = Field(min_length=1, max_length=128, description="the colour or rule id appealed against")
    text: str = Field(min_length=1, max_length=4000)


class AppealOut(Out):
    id: int
    created_at: dt.datetime
    subject: str
    text: str
    status: Literal["pending", "upheld", "rejected"]
    decided_at: dt.datetime | None
    decision: str | None


class ManualColourOut(Out):
    """A manual colour change as the resident sees it: the colour, why, and since when."""

    colour: Colour
    reason: str
    decided_at: dt.datetime


class CodeView(BaseModel):
    """The resident's code as the store knows it: the manual colour in force, with its reason and history."""

    manual_colour: ManualColourOut | None
    history: list[ManualColourOut]


class AccessLogEntry(Out):
    """A record of who (by role) read or changed the resident's data, and for which purpose."""

    at: dt.datetime
    role: str | None
    action: str
    purpose: str


# checkpoint


class ScanIn(BaseModel):
    checkpoint_code: str = Field(min_length=1, max_length=64, description="checkpoint or venue code (场所码)")
    payload: str = Field(min_length=1, max_length=8192, description="the scanned QR payload text")
    direction: Direction = "in"


class PassageOut(Out):
    id: int
    checkpoint_code: str
    passed_at: dt.datetime
    direction: Direction
    valid: bool
    reason: str


# operator


class AppealCase(AppealOut):
    person_key: int


class AppealDecisionIn(BaseModel):
    upheld: bool
    decision: str = Field(min_length=1, max_length=4000, description="the reasons, shown to the resident")


class ManualChangeIn(BaseModel):
    person_key: Int64
    colour: Colour
    reason: str = Field(min_length=5, max_length=2000, description="shown to the resident")


class ManualChangeOut(BaseModel):
    id: int
    person_key: int
    colour: Colour
    reason: str
    status: Literal["pending", "approved", "rejected"]
    requested_by: str
    requested_at: dt.datetime
    approved_by: str | None
    decided_at: dt.datetime | None


class AuditRecordOut(Out):
    seq: int
    at: dt.datetime
    actor: str
    role: str | None
    action: str
    person_key: int | None
    purpose: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str


class ChainReportOut(BaseModel):
    ok: bool
    records: int
    head_seq: int | None
    head_hash: str | None
    problem: str | None
    bad_seq: int | None


# public


class HealthOut(BaseModel):
    status: Literal["ok"]
    version: str
    schema_revision: str | None


class StatisticsOut(BaseModel):
    """City-wide totals from the operational store; no personal data."""

    as_of: dt.datetime
    health_declarations: int
    trip_declarations: int
    appeals_pending: int
    appeals_decided: int
    manual_changes_approved: int
    passages: int


# admin


class AccountIn(BaseModel):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=10, max_length=256)
    role: Role
    id_number: str | None = Field(
        default=None,
        description="GB 11643 ID number of a resident; pseudonymised at once, never stored",
    )
    enterprise_code: str | None = Field(
        default=None,
        pattern=r"^[0-9A-Z]{18}$",
        description="an enterprise account's unified social credit code",
    )


class AccountPatch(BaseModel):
    active: bool | None = Field(default=None, description="false deactivates, true reactivates")
    password: str | None = Field(
        default=None,
        min_length=10,
        max_length=256,
        description="a new password (forgotten ones): the account's tokens end, its login lock is lifted",
    )

    @model_validator(mode="after")
    def _something(self) -> AccountPatch:
        if self.active is None and self.password is None:
            raise ValueError("give active, password or both")
        return self


class PasswordChangeIn(BaseModel):
    current_password: str = Field(max_length=256)
    new_password: str = Field(min_length=10, max_length=256)


# the health code a resident shows (signed) and the trust list checkpoints verify it against


class ColourChange(BaseModel):
    """A day the resident's colour changed, and the rule (or manual change) that set it."""

    day: dt.date
    colour: Colour
    rule: str
    source: Literal["rules", "manual", "declared"] = Field(
        description="the analysis's rules, a manual change, or the rules on a declaration since the analysis"
    )


class FollowupOut(BaseModel):
    """The measure the resident is under and their tests (the follow-up worklist's row for them)."""

    measure: str
    observation_day: int = Field(description="days since the evidence day (the last contact...)")
    traced_on: dt.date = Field(
        description="the day tracing found the resident: tests and checks count after it"
    )
    measure_until: dt.date | None
    test_days: list[int] = Field(description="test days counted from the evidence day")
    taken_days: list[int]
    missed_days: list[int]
    next_test_on: dt.date | None
    checks_per_day: int | None = Field(description="temperature and symptom declarations asked for a day")
    silent_days: list[int] = Field(description="days of the measure with fewer declarations than asked")
    declared_today: int = Field(description="health declarations made in the app today (local day)")
    reason_zh: str
    reason_en: str


class HealthCodeOut(BaseModel):
    """A freshly signed health code with everything that explains it (GB/T 38963 code generation)."""

    payload: str = Field(description="the signed token (SZ1: + base45(zlib(COSE_Sign1))), what the QR holds")
    qr_svg: str = Field(description="the QR code as an SVG data URI")
    issued_at: dt.datetime
    expires_at: dt.datetime = Field(description="the token's expiry (minutes); ask again for a fresh one")
    colour: Colour
    rule: str = Field(description="the policy rule that set the colour, or manual_change")
    reason_zh: str
    reason_en: str
    evidence: str | None = Field(description="the evidence the rule read (where, when, who)")
    day: dt.date | None = Field(description="the day the rules coloured the code for")
    valid_until: dt.date | None = Field(description="the colour holds until this day unless evidence changes")
    turns_green_zh: str | None = Field(description="what turns the code green again")
    turns_green_en: str | None
    computed_colour: Colour | None = Field(description="the colour the rules give, before manual changes")
    manual_colour: ManualColourOut | None
    history: list[ColourChange] = Field(description="colour changes, newest first")
    followup: FollowupOut | None = Field(
        description="the measure and tests the resident is under on the day (none: not under a measure)"
    )
    from_app_declaration: bool = Field(
        description="the colour is the rules' verdict on an app declaration made after the last analysis"
    )


class TrustedKeyOut(BaseModel):
    kid: str = Field(description="key id, hex (8 bytes)")
    region: str = Field(description="GB/T 2260 code of the issuing region (a country for EU DCC signers)")
    algorithm: Literal["ES256", "PS256"]
    spki: str = Field(description="DER SubjectPublicKeyInfo, base64 (WebCrypto importKey('spki'))")
    not_before: dt.datetime
    signing_until: dt.datetime
    not_after: dt.datetime


class TrustListOut(BaseModel):
    """The keys a checkpoint trusts, with revocations; ``signed`` is the COSE_Sign1 list for anchor checks."""

    issuer: str
    issued_at: dt.datetime
    keys: list[TrustedKeyOut]
    revoked_keys: list[str] = Field(description="revoked key ids, hex")
    revoked_tokens: list[str] = Field(description="revoked token ids (cti) or token hashes, hex")
    signed: str | None = Field(description="the signed trust list (COSE_Sign1), base64")


class FeatureProperties(BaseModel):
    adcode: str = Field(description="GB/T 2260 code")
    name: str  # empty for the frame of the South China Sea islands on the provinces' map
    centroid: list[float] | None  # none for that frame


class Geometry(BaseModel):
    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list[Any]


class Feature(BaseModel):
    type: Literal["Feature"]
    properties: FeatureProperties
    geometry: Geometry


class Boundaries(BaseModel):
    """GeoJSON of Zhejiang's counties or cities (ECharts registerMap, nameProperty adcode)."""

    type: Literal["FeatureCollection"]
    features: list[Feature]
