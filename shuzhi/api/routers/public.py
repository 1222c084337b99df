"""Anyone, without logging in: service health and aggregate statistics that carry no personal data.

* ``/statistics`` — city-wide totals of the operational store;
* ``/open-statistics`` — cases and risk level per county, city and the province per day, as the pipeline's
  ``publish`` step wrote them: small counts withheld and the rest rounded (``shuzhi.public``);
* ``/catalogue`` — what data is held, which algorithms ran (policy files' SHA-256), what they achieved;
* ``/risk-areas`` — the day's high- and medium-risk areas at compound level, where the edition draws them;
* ``/same-trip`` — the same-trip query over the published case itineraries (trip and carriage, never a
  person).

The division boundaries the maps draw and the trust list every checkpoint verifies against are public by
nature: geography and public keys.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from functools import cache
from typing import Annotated, Any, Literal

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuzhi import __version__, regions
from shuzhi.accounts import Purpose
from shuzhi.api.access import ANYONE, Caller, requires
from shuzhi.api.deps import DbSession
from shuzhi.api.issuer import InstanceCredentials, instance_credentials
from shuzhi.api.results import Found, LatestDay
from shuzhi.api.schemas import Boundaries, HealthOut, StatisticsOut, TrustedKeyOut, TrustListOut
from shuzhi.catalogue import catalogue
from shuzhi.credentials.trustlist import TrustedKey
from shuzhi.public import publication_policy
from shuzhi.store import revision_of
from shuzhi.store.models import Appeal, HealthDeclaration, ManualChange, Passage, TripDeclaration

router = APIRouter(prefix="/public", tags=["public"])
Public = Annotated[Caller, requires(roles=ANYONE, purpose=Purpose.PUBLIC_INFORMATION)]


@router.get("/health", response_model=HealthOut)
def health(caller: Public, session: DbSession) -> HealthOut:
    """The service is up and its store answers; the schema revision it runs on."""
    return HealthOut(status="ok", version=__version__, schema_revision=revision_of(session.connection()))


@router.get("/statistics", response_model=StatisticsOut)
def statistics(caller: Public, session: DbSession) -> StatisticsOut:
    """City-wide totals: declarations, appeals, approved manual changes and passages."""
    return StatisticsOut(
        as_of=caller.now,
        health_declarations=_count(session, HealthDeclaration),
        trip_declarations=_count(session, TripDeclaration),
        appeals_pending=_count(session, Appeal, Appeal.status == "pending"),
        appeals_decided=_count(session, Appeal, Appeal.status != "pending"),
        manual_changes_approved=_count(session, ManualChange, ManualChange.status == "approved"),
        passages=_count(session, Passage),
    )


def _count(session: Session, model: type, *where: object) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


@router.get("/boundaries/{level}", response_model=Boundaries)
def boundaries(caller: Public, level: Literal["county", "city", "province"]) -> Response:
    """GeoJSON of Zhejiang's 90 counties or 11 cities, or China's provinces (the national view), with GB/T
    2260 ``adcode``, name and centroid, for the maps."""
    headers = {"Cache-Control": "max-age=86400"}
    return Response(_geojson(level), media_type="application/json", headers=headers)


@cache
def _geojson(level: str) -> bytes:
    """The packaged boundaries with string codes and only the properties the maps use, serialised once."""
    features = [
        {
            "type": "Feature",
            "properties": {
                "adcode": str(f["properties"]["adcode"]),
                "name": f["properties"]["name"],
                "centroid": f["properties"].get("centroid") or f["properties"].get("center"),
            },
            "geometry": f["geometry"],
        }
        for f in regions.boundaries(level)["features"]
    ]
    document = {"type": "FeatureCollection", "features": features}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@router.get("/trust-list", response_model=TrustListOut)
def trust_list(
    caller: Public, credentials: Annotated[InstanceCredentials, Depends(instance_credentials)]
) -> TrustListOut:
    """The keys this instance's checkpoints trust and the revocations, for verifying codes offline."""
    trust = credentials.trust_list
    signed = credentials.signed_trust_list
    return TrustListOut(
        issuer=trust.issuer,
        issued_at=trust.issued_at,
        keys=[_key(k) for k in trust.keys if _algorithm(k)],
        revoked_keys=sorted(k.hex() for k in trust.revoked_keys),
        revoked_tokens=sorted(t.hex() for t in trust.revoked_tokens),
        signed=base64.b64encode(signed).decode("ascii") if signed else None,
    )


def _algorithm(key: TrustedKey) -> str | None:
    """ES256 for P-256 keys, PS256 for RSA keys (EU DCC signers); other curves are left to the server."""
    if isinstance(key.public_key, ec.EllipticCurvePublicKey):
        return "ES256" if isinstance(key.public_key.curve, ec.SECP256R1) else None
    return "PS256" if isinstance(key.public_key, rsa.RSAPublicKey) else None


def _key(key: TrustedKey) -> TrustedKeyOut:
    spki = key.public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return TrustedKeyOut(
        kid=key.kid.hex(),
        region=key.region,
        algorithm=_algorithm(key),
        spki=base64.b64encode(spki).decode("ascii"),
        not_before=key.not_before,
        signing_until=key.signing_until,
        not_after=key.not_after,
    )


# open statistics and the same-trip query (the pipeline's publish step; small counts already withheld)


class OpenArea(BaseModel):
    area_code: str
    name: str
    level: Literal["low", "medium", "high"] | None = Field(
        description="the county's risk level (counties only)"
    )
    new_cases: int | None = Field(description="null: withheld (a small count)")
    new_local_cases: int | None
    new_14d: int | None
    cumulative: int | None


class OpenStatistics(BaseModel):
    day: dt.date
    days: list[dt.date]
    area_level: Literal["county", "city", "province"]
    rule: str = Field(description="how small counts are protected")
    edition: str
    areas: list[OpenArea]


@router.get("/open-statistics", response_model=OpenStatistics)
def open_statistics(
    caller: Public,
    found: Found,
    day: LatestDay = None,
    level: Annotated[Literal["county", "city", "province"], Query()] = "county",
) -> OpenStatistics:
    """New, 14-day and cumulative cases and the risk level of every county (or city, or the province)."""
    days, chosen = found.day_of("open_statistics", day, "no open statistics were published")
    rows = found.rows(
        "open_statistics",
        lambda t: t.filter((t.day == chosen) & (t.area_level == level)).order_by("area_code"),
    )
    edition = rows[0]["edition"] if rows else "?"
    return OpenStatistics(
        day=chosen,
        days=days,
        area_level=level,
        rule=_rule(edition),
        edition=edition,
        areas=[OpenArea(name=regions.name_of(r["area_code"]), **r) for r in rows],
    )


class RiskArea(BaseModel):
    county_code: str
    county: str
    compound: str = Field(description="the compound (小区/楼栋) as the edition draws it")
    level: Literal["medium", "high"]
    reason: str
    last_case_day: dt.date


class RiskAreas(BaseModel):
    day: dt.date
    days: list[dt.date]
    high: int
    medium: int
    areas: list[RiskArea]


@router.get("/risk-areas", response_model=RiskAreas)
def risk_areas(
    caller: Public,
    found: Found,
    day: LatestDay = None,
) -> RiskAreas:
    """The high- and medium-risk areas of a day, at compound level (editions that draw them, as the 9th
    does), as governments published them: where, the level, since when, why. 404 where none are drawn."""
    days, chosen = found.day_of("compound_risk", day, "no risk areas were drawn")

    def of_the_day(t: Any) -> Any:
        high_first = (t.level == "high").ifelse(0, 1)
        return t.filter(t.day == chosen).order_by([high_first, "county_code", "compound"])

    rows = found.rows("compound_risk", of_the_day)
    levels = [r["level"] for r in rows]
    return RiskAreas(
        day=chosen,
        days=days,
        high=levels.count("high"),
        medium=levels.count("medium"),
        areas=[RiskArea(county=regions.name_of(r["county_code"]), **r) for r in rows],
    )


def _rule(edition: str) -> str:
    small = publication_policy(edition).small_counts
    most = small.suppress_at_or_below
    step = small.round_to
    return (
        f"counts from 1 to {most} are withheld (shown as ≤ {most}); others are rounded to the nearest {step}"
    )


class PublishedTrip(BaseModel):
    day: dt.date
    mode: str
    trip_no: str
    carriage: str | None
    dep_time: dt.datetime
    arr_time: dt.datetime
    origin_stop: str | None
    destination_stop: str | None
    notice_day: dt.date = Field(
        description="the day a case on this trip was diagnosed and the trip published"
    )
    publisher: str
    verified: bool = Field(description="from the carrier's manifest, not a self-report")


class SameTrip(BaseModel):
    trip_no: str
    day: dt.date | None
    matches: list[PublishedTrip]
    advice: str


SAME_TRIP_ADVICE = (
    "同行程人员请主动向社区报告并配合健康监测 If you were on this trip, report to your community health "
    "centre and follow its advice on testing and health monitoring."
)
NO_MATCH = "没有已公布的病例行程 No published case itinerary matches this trip."


@router.get("/same-trip", response_model=SameTrip)
def same_trip(
    caller: Public,
    found: Found,
    trip_no: Annotated[
        str, Query(min_length=1, max_length=32, pattern=r"^[\w-]+$", description="e.g. G7, MU5086")
    ],
    day: Annotated[dt.date | None, Query(description="the day of travel (default: any day)")] = None,
) -> SameTrip:
    """Published case itineraries on this trip (on this day): carriage, times, the notice's day."""
    number = trip_no.strip().upper()

    def matching(t: Any) -> Any:
        chosen = t.filter(t.trip_no.upper() == number)
        return (chosen if day is None else chosen.filter(chosen.day == day)).order_by(["day", "carriage"])

    rows = found.rows("published_itineraries", matching)
    return SameTrip(
        trip_no=number,
        day=day,
        matches=[PublishedTrip(**r) for r in rows],
        advice=SAME_TRIP_ADVICE if rows else NO_MATCH,
    )


# the data-operations catalogue: counts and hashes only


class HeldOut(BaseModel):
    name: str
    kind: Literal["feed", "derived", "received", "quarantine"]
    description: str
    rows: int
    first_day: dt.date | None
    last_day: dt.date | None
    last_written: dt.datetime | None
    sources: list[str] = Field(description="the feeds that landed it, or the step that wrote it")
    files: int = Field(description="source files ingested")
    quarantined: int = Field(description="rows of those files set aside with their reasons")


class StepRunOut(BaseModel):
    label: str
    tables: list[str]
    policy: dict[str, str] = Field(description="SHA-256 of each policy file the step applied, by section")
    ran_at: dt.datetime
    seconds: float
    edition: str
    period: list[dt.date]
    engine: str


class MeasureOut(BaseModel):
    name: str
    value: float | None
    unit: str
    how: str


class CatalogueOut(BaseModel):
    held: list[HeldOut]
    algorithms: dict[str, StepRunOut]
    measures: list[MeasureOut]


@router.get("/catalogue", response_model=CatalogueOut)
def data_catalogue(caller: Public, found: Found) -> dict[str, Any]:
    """What data is held (source, rows, days, freshness, quarantine), which algorithms last ran on it (the
    edition and the SHA-256 of every policy file applied) and what they achieved, measured on the lake."""
    return catalogue(found.data).as_dict()
