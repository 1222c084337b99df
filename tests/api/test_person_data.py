"""Residents declare once and appeal; operators decide; every read of a person's data is audited."""

from __future__ import annotations

import pytest

from shuzhi.accounts import Role

from .conftest import OTHER_RESIDENT_KEY, RESIDENT_KEY, Instance

HEALTH = {
    "region_code": "330106",
    "temperature": 37.9,
    "symptoms": ["fever", "cough"],
    "contact_history": False,
    "visited_regions": ["420100"],
}
TRIP = {
    "mode": "train",
    "trip_no": "G1234",
    "travel_date": "2020-02-08",
    "origin": "武汉",
    "destination": "杭州东",
    "carriage": "5",
    "seat": "12F",
}


def _post(instance: Instance, who: str, path: str, body: dict) -> dict:
    response = instance.client.post(path, json=body, headers=instance.headers[who])
    assert response.status_code in (200, 201), response.text
    return response.json()


def _get(instance: Instance, who: str, path: str) -> list | dict:
    response = instance.client.get(path, headers=instance.headers[who])
    assert response.status_code == 200, response.text
    return response.json()


def _other_resident(instance: Instance) -> str:
    account_id = instance.add("neighbour", Role.RESIDENT, OTHER_RESIDENT_KEY)
    instance.headers["neighbour"] = instance.bearer(account_id, Role.RESIDENT)
    return "neighbour"


def test_declarations_are_bound_to_the_resident_and_listed_back(instance: Instance) -> None:
    health = _post(instance, "resident", "/resident/declarations/health", HEALTH)
    trip = _post(instance, "resident", "/resident/declarations/trip", TRIP)
    assert health["declared_at"] == "2020-02-10T09:00:00Z" and health["symptoms"] == ["fever", "cough"]
    assert _get(instance, "resident", "/resident/declarations/health") == [health]
    assert _get(instance, "resident", "/resident/declarations/trip") == [trip]
    neighbour = _other_resident(instance)
    assert _get(instance, neighbour, "/resident/declarations/health") == []
    assert _get(instance, neighbour, "/resident/declarations/trip") == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/resident/declarations/health", {**HEALTH, "region_code": "999999"}),
        ("/resident/declarations/health", {**HEALTH, "visited_regions": ["12345"]}),
        ("/resident/declarations/health", {**HEALTH, "temperature": 52}),
        ("/resident/declarations/trip", {**TRIP, "mode": "rocket"}),
        ("/resident/declarations/trip", {**TRIP, "trip_no": ""}),
        ("/resident/appeals", {"subject": "red", "text": ""}),
    ],
)
def test_malformed_declarations_are_refused(instance: Instance, path: str, body: dict) -> None:
    assert instance.client.post(path, json=body, headers=instance.headers["resident"]).status_code == 422


def test_an_appeal_is_decided_by_an_operator_and_the_resident_sees_why(instance: Instance) -> None:
    appeal = _post(
        instance, "resident", "/resident/appeals", {"subject": "red", "text": "I was not on G1234."}
    )
    assert appeal["status"] == "pending"
    [case] = _get(instance, "epidemiologist", "/operator/appeals")
    assert case["person_key"] == RESIDENT_KEY and case["id"] == appeal["id"]
    instance.clock.advance(hours=3)
    decision = {"upheld": True, "decision": "The manifest shows seat 12F empty; trip removed."}
    decided = _post(instance, "epidemiologist", f"/operator/appeals/{appeal['id']}/decision", decision)
    assert decided["status"] == "upheld" and decided["decided_at"] == "2020-02-10T12:00:00Z"
    [mine] = _get(instance, "resident", "/resident/appeals")
    assert (mine["status"], mine["decision"]) == ("upheld", decision["decision"])
    again = instance.client.post(
        f"/operator/appeals/{appeal['id']}/decision", json=decision, headers=instance.headers["operator"]
    )
    assert again.status_code == 409
    assert _get(instance, "operator", "/operator/appeals") == []
    assert (
        instance.client.post(
            "/operator/appeals/999/decision", json=decision, headers=instance.headers["operator"]
        ).status_code
        == 404
    )


READS = [
    ("resident", "/resident/declarations/health", "read:health_declarations", "self_service"),
    ("resident", "/resident/declarations/trip", "read:trip_declarations", "self_service"),
    ("resident", "/resident/appeals", "read:appeals", "self_service"),
    ("resident", "/resident/code", "read:manual_changes", "self_service"),
    ("resident", "/resident/access-log", "read:audit_log", "self_service"),
    ("operator", "/operator/appeals", "read:appeals", "appeal_review"),
    ("epidemiologist", "/operator/appeals", "read:appeals", "appeal_review"),
    ("operator", "/operator/manual-changes", "read:manual_changes", "code_correction"),
]


@pytest.mark.parametrize(("who", "path", "action", "purpose"), READS)
def test_every_read_of_person_data_is_audited(
    instance: Instance, who: str, path: str, action: str, purpose: str
):
    _post(instance, "resident", "/resident/appeals", {"subject": "red", "text": "why?"})
    _post(
        instance,
        "operator",
        "/operator/manual-changes",
        {"person_key": RESIDENT_KEY, "colour": "green", "reason": "recovered"},
    )
    instance.clock.advance(minutes=5)
    before = instance.last_seq()
    _get(instance, who, path)
    [record] = instance.audit_records(before)
    assert (record.actor, record.role, record.action) == (who, who, action)
    assert (record.person_key, record.purpose, record.at) == (RESIDENT_KEY, purpose, instance.clock())


def test_a_list_of_many_persons_is_audited_once_per_person(instance: Instance) -> None:
    neighbour = _other_resident(instance)
    for who in ("resident", neighbour, "resident"):
        _post(instance, who, "/resident/appeals", {"subject": "yellow", "text": "I have no fever."})
    before = instance.last_seq()
    assert len(_get(instance, "operator", "/operator/appeals")) == 3
    records = instance.audit_records(before)
    assert sorted(r.person_key for r in records) == sorted([RESIDENT_KEY, OTHER_RESIDENT_KEY])


def test_the_resident_sees_who_read_their_data(instance: Instance) -> None:
    _post(instance, "resident", "/resident/appeals", {"subject": "red", "text": "why?"})
    _get(instance, "operator", "/operator/appeals")
    log = _get(instance, "resident", "/resident/access-log")
    assert [(e["role"], e["action"], e["purpose"]) for e in log] == [
        ("resident", "create:appeals", "self_service"),
        ("operator", "read:appeals", "appeal_review"),
    ]
    assert all("actor" not in e and e["at"] == "2020-02-10T09:00:00Z" for e in log)
