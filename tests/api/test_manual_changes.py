"""A manual colour change needs a second, different operator, is audited, and the resident sees it and why."""

from __future__ import annotations

from shuzhi.accounts import Role

from .conftest import RESIDENT_KEY, Instance

CHANGE = {"person_key": RESIDENT_KEY, "colour": "green", "reason": "Two negative PCR tests on 8 and 9 Feb."}


def _second_operator(instance: Instance) -> str:
    account_id = instance.add("operator2", Role.OPERATOR)
    instance.headers["operator2"] = instance.bearer(account_id, Role.OPERATOR)
    return "operator2"


def _request(instance: Instance) -> dict:
    response = instance.client.post(
        "/operator/manual-changes", json=CHANGE, headers=instance.headers["operator"]
    )
    assert response.status_code == 201, response.text
    return response.json()


def _act(instance: Instance, who: str, change_id: int, action: str):
    return instance.client.post(
        f"/operator/manual-changes/{change_id}/{action}", headers=instance.headers[who]
    )


def _code(instance: Instance) -> dict:
    return instance.client.get("/resident/code", headers=instance.headers["resident"]).json()


def test_the_requester_cannot_approve_and_nothing_shows_until_a_second_operator_does(instance: Instance):
    change = _request(instance)
    assert (change["status"], change["requested_by"], change["approved_by"]) == ("pending", "operator", None)
    refused = _act(instance, "operator", change["id"], "approve")
    assert refused.status_code == 409 and "second operator" in refused.json()["detail"]
    assert _code(instance) == {"manual_colour": None, "history": []}

    second = _second_operator(instance)
    instance.clock.advance(minutes=30)
    approved = _act(instance, second, change["id"], "approve")
    assert approved.status_code == 200
    assert (approved.json()["status"], approved.json()["approved_by"]) == ("approved", "operator2")

    code = _code(instance)
    assert code["manual_colour"] == {
        "colour": "green",
        "reason": CHANGE["reason"],
        "decided_at": "2020-02-10T09:30:00Z",
    }
    assert code["history"] == [code["manual_colour"]]
    assert "operator" not in str(code)  # residents are not told staff usernames


def test_requests_and_decisions_are_audited(instance: Instance) -> None:
    second = _second_operator(instance)
    before = instance.last_seq()
    change = _request(instance)
    _act(instance, "operator", change["id"], "approve")
    _act(instance, second, change["id"], "approve")
    records = [(r.actor, r.action, r.person_key, r.purpose) for r in instance.audit_records(before)]
    assert records == [
        ("operator", "request:manual_changes", RESIDENT_KEY, "code_correction"),
        ("operator2", "approve:manual_changes", RESIDENT_KEY, "code_correction"),
    ]


def test_a_rejected_change_never_shows(instance: Instance) -> None:
    change = _request(instance)
    assert _act(instance, "operator", change["id"], "reject").json()["status"] == "rejected"
    assert _act(instance, _second_operator(instance), change["id"], "approve").status_code == 409
    assert _code(instance)["manual_colour"] is None
    pending = instance.client.get("/operator/manual-changes", headers=instance.headers["operator"]).json()
    assert pending == []
    assert _act(instance, "operator", 999, "approve").status_code == 404


def test_an_unknown_colour_is_refused(instance: Instance) -> None:
    body = {**CHANGE, "colour": "blue"}
    response = instance.client.post(
        "/operator/manual-changes", json=body, headers=instance.headers["operator"]
    )
    assert response.status_code == 422
