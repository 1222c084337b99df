"""Return to work: an enterprise applies and sees its class with the reasons; operators approve or reject."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from shuzhi.enterprises import applications_policy
from shuzhi.store import AuditRecord, ReturnToWorkApplication

from .lake import ENTERPRISE_CODE, STAFF
from .site import Site

MEASURES = applications_policy("2020-5th").required_measures
PLAN = {"planned_date": "2020-02-10", "staff_planned": 40, "measures": MEASURES}


def _apply(client: TestClient, site: Site, **changes) -> dict:
    response = client.post(
        "/enterprise/applications", json={**PLAN, **changes}, headers=site.headers("enterprise")
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_an_application_is_classed_by_the_rules_with_its_reasons(fresh: Site) -> None:
    client = TestClient(fresh.app)
    filed = _apply(client, fresh)
    assert filed["enterprise_code"] == ENTERPRISE_CODE and filed["status"] == "pending"
    # Shangcheng is at medium risk on the last day, and one of the 61 staff has a red code (≤ 2%: not high)
    assert filed["risk_class"] == "medium"
    assert "the county 330102 is at medium risk" in filed["risk_reasons"]
    assert f"1 of {len(STAFF)} registered staff have a red code and stay at home" in filed["risk_reasons"]
    lacking = _apply(client, fresh, measures=["masks"])
    assert any(r.startswith("measures missing: disinfection") for r in lacking["risk_reasons"])
    mine = client.get("/enterprise/applications", headers=fresh.headers("enterprise")).json()
    assert [a["id"] for a in mine] == [lacking["id"], filed["id"]]


def test_operators_decide_and_every_step_is_audited(fresh: Site) -> None:
    client = TestClient(fresh.app)
    filed = _apply(client, fresh)
    pending = client.get("/enterprise/review", headers=fresh.headers("operator")).json()
    assert [a["id"] for a in pending] == [filed["id"]]
    decision = {"approve": True, "decision": "approved: 40 staff from 2020-02-10, canteen in two shifts"}
    url = f"/enterprise/review/{filed['id']}/decision"
    decided = client.post(url, json=decision, headers=fresh.headers("operator"))
    assert decided.status_code == 200 and decided.json()["status"] == "approved"
    again = client.post(url, json=decision, headers=fresh.headers("operator"))
    assert again.status_code == 409
    mine = client.get("/enterprise/applications", headers=fresh.headers("enterprise")).json()
    assert mine[0]["decision"].startswith("approved: 40 staff")
    with fresh.app.state.services.store.session() as session:
        actions = session.scalars(select(AuditRecord.action).order_by(AuditRecord.seq)).all()
    assert "create:applications" in actions and "decide:applications" in actions


def test_a_high_risk_application_cannot_be_approved(fresh: Site) -> None:
    client = TestClient(fresh.app)
    high = _apply(client, fresh)
    with fresh.app.state.services.store.session() as session:
        session.get(ReturnToWorkApplication, high["id"]).risk_class = "high"
    url = f"/enterprise/review/{high['id']}/decision"
    refused = client.post(url, json={"approve": True, "decision": "ok"}, headers=fresh.headers("operator"))
    assert refused.status_code == 409 and "cannot be approved" in refused.json()["detail"]
    rejected = client.post(
        url, json={"approve": False, "decision": "wait a week"}, headers=fresh.headers("operator")
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"


def test_only_enterprises_apply_and_only_operators_review(fresh: Site) -> None:
    client = TestClient(fresh.app)
    assert (
        client.post("/enterprise/applications", json=PLAN, headers=fresh.headers("resident")).status_code
        == 403
    )
    assert client.get("/enterprise/review", headers=fresh.headers("epidemiologist")).status_code == 403
    assert client.get("/enterprise/review", headers=fresh.headers("enterprise")).status_code == 403
    bad = client.post(
        "/enterprise/applications", json={**PLAN, "staff_planned": -1}, headers=fresh.headers("enterprise")
    )
    assert bad.status_code == 422
