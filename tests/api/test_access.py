"""Every endpoint × every role (and no login): who gets in is exactly what the endpoint declares.

``EXPECTED`` is the access policy written out by hand; a new endpoint missing from it fails the first test,
and a declaration or a behaviour that differs from it fails the others.
"""

from __future__ import annotations

import re
from typing import Annotated

import pytest
from fastapi import APIRouter, FastAPI

from shuzhi.accounts import Purpose, Role
from shuzhi.api import Caller, operations, requires
from shuzhi.api.access import seal

from .conftest import Instance

R = Role
EVERYONE = None
STAFF_AND_RESIDENTS = frozenset(Role)
REVIEWERS = frozenset({R.OPERATOR, R.EPIDEMIOLOGIST})

EXPECTED: dict[tuple[str, str], tuple[frozenset[Role] | None, Purpose]] = {
    ("POST", "/auth/token"): (EVERYONE, Purpose.AUTHENTICATION),
    ("GET", "/auth/me"): (STAFF_AND_RESIDENTS, Purpose.AUTHENTICATION),
    ("POST", "/auth/password"): (STAFF_AND_RESIDENTS, Purpose.AUTHENTICATION),
    ("POST", "/resident/declarations/health"): (frozenset({R.RESIDENT}), Purpose.SELF_SERVICE),
    ("GET", "/resident/declarations/health"): (frozenset({R.RESIDENT}), Purpose.SELF_SERVICE),
    ("POST", "/resident/declarations/trip"): (frozenset({R.RESIDENT}), Purpose.SELF_SERVICE),
    ("GET", "/resident/declarations/trip"): (frozenset({R.RESIDENT}), Purpose.SELF_SERVICE),
    ("POST", "/resident/appeals"): (frozenset({R.RESIDENT}), Purpose.SELF_SERVICE),
    ("GET", "/resident/appeals"): (frozenset({R.RESIDENT}), Purpose.SELF_SERVICE),
    ("GET", "/resident/code"): (frozenset({R.RESIDENT}), Purpose.SELF_SERVICE),
    ("POST", "/resident/code/token"): (frozenset({R.RESIDENT}), Purpose.SELF_SERVICE),
    ("GET", "/resident/access-log"): (frozenset({R.RESIDENT}), Purpose.SELF_SERVICE),
    ("POST", "/checkpoint/passages"): (frozenset({R.CHECKPOINT}), Purpose.PASSAGE_CONTROL),
    ("GET", "/operator/appeals"): (REVIEWERS, Purpose.APPEAL_REVIEW),
    ("POST", "/operator/appeals/{appeal_id}/decision"): (REVIEWERS, Purpose.APPEAL_REVIEW),
    ("POST", "/operator/manual-changes"): (frozenset({R.OPERATOR}), Purpose.CODE_CORRECTION),
    ("GET", "/operator/manual-changes"): (frozenset({R.OPERATOR}), Purpose.CODE_CORRECTION),
    ("POST", "/operator/manual-changes/{change_id}/approve"): (
        frozenset({R.OPERATOR}),
        Purpose.CODE_CORRECTION,
    ),
    ("POST", "/operator/manual-changes/{change_id}/reject"): (
        frozenset({R.OPERATOR}),
        Purpose.CODE_CORRECTION,
    ),
    ("GET", "/operator/audit"): (frozenset({R.AUDITOR}), Purpose.AUDIT),
    ("GET", "/operator/audit/verify"): (frozenset({R.AUDITOR}), Purpose.AUDIT),
    ("GET", "/dashboard/area-risk"): (REVIEWERS, Purpose.EPIDEMIC_CONTROL),
    ("GET", "/dashboard/area-risk/{day}"): (REVIEWERS, Purpose.EPIDEMIC_CONTROL),
    ("GET", "/dashboard/codes/daily"): (REVIEWERS, Purpose.EPIDEMIC_CONTROL),
    ("GET", "/dashboard/index"): (REVIEWERS, Purpose.EPIDEMIC_CONTROL),
    ("GET", "/dashboard/index/{area_code}"): (REVIEWERS, Purpose.EPIDEMIC_CONTROL),
    ("GET", "/dashboard/tracing/funnel"): (REVIEWERS, Purpose.EPIDEMIC_CONTROL),
    ("GET", "/dashboard/tracing/cases"): (REVIEWERS, Purpose.EPIDEMIC_CONTROL),
    ("GET", "/dashboard/tracing/graph/{case_key}"): (REVIEWERS, Purpose.EPIDEMIC_CONTROL),
    ("GET", "/dashboard/followup"): (REVIEWERS, Purpose.EPIDEMIC_CONTROL),
    ("POST", "/dashboard/followup/{person_key}/visits"): (REVIEWERS, Purpose.EPIDEMIC_CONTROL),
    ("GET", "/dashboard/followup/csv"): (REVIEWERS, Purpose.EPIDEMIC_CONTROL),
    ("GET", "/dashboard/received"): (REVIEWERS, Purpose.EPIDEMIC_CONTROL),
    ("GET", "/dashboard/replay"): (REVIEWERS, Purpose.EPIDEMIC_CONTROL),
    ("GET", "/dashboard/epi"): (REVIEWERS, Purpose.EPIDEMIC_CONTROL),
    ("GET", "/dashboard/flows"): (REVIEWERS, Purpose.EPIDEMIC_CONTROL),
    ("POST", "/enterprise/applications"): (frozenset({R.ENTERPRISE}), Purpose.RETURN_TO_WORK),
    ("GET", "/enterprise/applications"): (frozenset({R.ENTERPRISE}), Purpose.RETURN_TO_WORK),
    ("GET", "/enterprise/measures"): (frozenset({R.ENTERPRISE}), Purpose.RETURN_TO_WORK),
    ("GET", "/enterprise/review"): (frozenset({R.OPERATOR}), Purpose.RETURN_TO_WORK),
    ("POST", "/enterprise/review/{application_id}/decision"): (
        frozenset({R.OPERATOR}),
        Purpose.RETURN_TO_WORK,
    ),
    ("POST", "/dashboard/supplies/plan"): (REVIEWERS, Purpose.EPIDEMIC_CONTROL),
    ("GET", "/realtime/occupancy"): (REVIEWERS, Purpose.EPIDEMIC_CONTROL),
    ("GET", "/realtime/venues/{venue_code}"): (frozenset({R.CHECKPOINT}), Purpose.PASSAGE_CONTROL),
    ("GET", "/realtime/status"): (REVIEWERS, Purpose.EPIDEMIC_CONTROL),
    ("GET", "/realtime/alerts"): (REVIEWERS, Purpose.EPIDEMIC_CONTROL),
    ("GET", "/realtime/alerts/stream"): (REVIEWERS, Purpose.EPIDEMIC_CONTROL),
    ("POST", "/realtime/check-ins"): (frozenset({R.RESIDENT}), Purpose.SELF_SERVICE),
    ("GET", "/public/health"): (EVERYONE, Purpose.PUBLIC_INFORMATION),
    ("GET", "/public/statistics"): (EVERYONE, Purpose.PUBLIC_INFORMATION),
    ("GET", "/public/boundaries/{level}"): (EVERYONE, Purpose.PUBLIC_INFORMATION),
    ("GET", "/public/trust-list"): (EVERYONE, Purpose.PUBLIC_INFORMATION),
    ("GET", "/public/open-statistics"): (EVERYONE, Purpose.PUBLIC_INFORMATION),
    ("GET", "/public/same-trip"): (EVERYONE, Purpose.PUBLIC_INFORMATION),
    ("GET", "/public/risk-areas"): (EVERYONE, Purpose.PUBLIC_INFORMATION),
    ("GET", "/public/catalogue"): (EVERYONE, Purpose.PUBLIC_INFORMATION),
    ("POST", "/federation/messages"): (EVERYONE, Purpose.FEDERATION),
    ("GET", "/federation/log"): (frozenset({R.ADMIN}), Purpose.FEDERATION),
    ("GET", "/federation/national"): (EVERYONE, Purpose.PUBLIC_INFORMATION),
    ("POST", "/admin/accounts"): (frozenset({R.ADMIN}), Purpose.ACCOUNT_ADMINISTRATION),
    ("GET", "/admin/accounts"): (frozenset({R.ADMIN}), Purpose.ACCOUNT_ADMINISTRATION),
    ("PATCH", "/admin/accounts/{account_id}"): (frozenset({R.ADMIN}), Purpose.ACCOUNT_ADMINISTRATION),
}


def test_every_endpoint_is_in_the_policy_and_declared_as_it_says(instance: Instance) -> None:
    declared = {(o.method, o.path): o.requirement for o in operations(instance.app)}
    assert set(declared) == set(EXPECTED)
    assert declared == instance.app.state.access
    for key, requirement in declared.items():
        assert requirement is not None, key
        assert (requirement.roles, requirement.purpose) == EXPECTED[key], key


def test_every_endpoint_admits_exactly_its_roles(instance: Instance) -> None:
    callers: dict[Role | None, dict[str, str]] = {None: {}}
    callers.update({role: instance.headers[role.value] for role in Role})
    wrong = []
    for operation in operations(instance.app):
        roles, _purpose = EXPECTED[(operation.method, operation.path)]
        path = re.sub(r"\{[^}]+\}", "1", operation.path)
        for role, headers in callers.items():
            got = instance.client.request(operation.method, path, headers=headers).status_code
            admitted = roles is None or role in roles
            if admitted and got in (401, 403) or not admitted and got != (401 if role is None else 403):
                wrong.append(f"{operation.method} {operation.path} as {role}: {got}")
    assert wrong == []


def test_a_refused_call_is_audited(instance: Instance) -> None:
    before = instance.last_seq()
    assert instance.client.get("/operator/audit", headers=instance.headers["resident"]).status_code == 403
    [record] = instance.audit_records(before)
    assert (record.actor, record.role, record.action) == ("resident", "resident", "access_denied")
    assert record.detail == {"path": "/operator/audit", "method": "GET"}


def test_an_undeclared_endpoint_stops_the_app() -> None:
    router = APIRouter()

    @router.get("/declared")
    def declared(caller: Annotated[Caller, requires(roles=[Role.AUDITOR], purpose=Purpose.AUDIT)]) -> dict:
        return {}

    @router.get("/forgotten")
    def forgotten() -> dict:
        return {}

    app = FastAPI()
    app.include_router(router)
    with pytest.raises(RuntimeError, match="/forgotten"):
        seal(app)


def test_a_role_cannot_be_declared_for_a_purpose_it_may_not_serve() -> None:
    with pytest.raises(ValueError, match="checkpoint may not act for purpose audit"):
        requires(roles=[Role.AUDITOR, Role.CHECKPOINT], purpose=Purpose.AUDIT)


def test_openapi_documents_access_tags_and_response_models(instance: Instance) -> None:
    spec = instance.client.get("/openapi.json").json()
    assert {t["name"] for t in spec["tags"]} == {
        "auth",
        "resident",
        "checkpoint",
        "operator",
        "dashboard",
        "realtime",
        "enterprise",
        "public",
        "federation",
        "admin",
    }
    for (method, path), (roles, purpose) in EXPECTED.items():
        operation = spec["paths"][path][method.lower()]
        assert operation["x-purpose"] == purpose.value
        assert operation["x-roles"] == (["anyone"] if roles is None else sorted(roles))
        assert operation["tags"] == [path.split("/")[1]]
        success = next(body for code, body in operation["responses"].items() if code.startswith("2"))
        if path == "/federation/messages":  # a signed receipt, as signed bytes
            assert success["content"]["application/cose"]["schema"]["format"] == "binary"
            continue
        if path.endswith("/csv"):  # a table to print
            assert list(success["content"]) == ["text/csv; charset=utf-8"]
            continue
        media = "text/event-stream" if path.endswith("/stream") else "application/json"  # SSE: alerts
        assert "$ref" in str(success["content"][media]["schema"]), (method, path)
