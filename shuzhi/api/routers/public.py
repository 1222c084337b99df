"""Anyone, without logging in: service health and aggregate statistics that carry no personal data.

The statistics are city-wide totals of the operational store; the open statistics with small-count
suppression and the risk map come with the public-transparency capability. The division boundaries the maps
draw and the trust list every checkpoint verifies against are public by nature: geography and public keys.
"""

from __future__ import annotations

import base64
import json
from functools import cache
from typing import Annotated, Literal

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import APIRouter, Depends, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuzhi import __version__, regions
from shuzhi.accounts import Purpose
from shuzhi.api.access import ANYONE, Caller, requires
from shuzhi.api.deps import DbSession
from shuzhi.api.issuer import InstanceCredentials, instance_credentials
from shuzhi.api.schemas import Boundaries, HealthOut, StatisticsOut, TrustedKeyOut, TrustListOut
from shuzhi.credentials.trustlist import TrustedKey
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
def boundaries(caller: Public, level: Literal["county", "city"]) -> Response:
    """GeoJSON of Zhejiang's 90 counties or 11 cities (GB/T 2260 ``adcode``, name, centroid) for the maps."""
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
                "centroid": f["properties"].get("centroid") or f["properties"]["center"],
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
