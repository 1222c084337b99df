"""Public endpoints carry only totals; administrators create accounts, residents from their ID number."""

from __future__ import annotations

from shuzhi import idcard
from shuzhi.privacy import Pseudonymiser
from shuzhi.store import Account, head_revision

from .conftest import PASSWORD, Instance

ID_NUMBER = "33010619800101001" + idcard.check_char("33010619800101001")


def _create(instance: Instance, **body: object):
    payload = {"password": PASSWORD, **body}
    return instance.client.post("/admin/accounts", json=payload, headers=instance.headers["admin"])


def test_health_needs_no_login(instance: Instance) -> None:
    body = instance.client.get("/public/health").json()
    assert body == {"status": "ok", "version": "0.1.0", "schema_revision": head_revision()}


def test_statistics_are_totals_of_the_store(instance: Instance) -> None:
    headers = instance.headers["resident"]
    instance.client.post("/resident/appeals", json={"subject": "red", "text": "why"}, headers=headers)
    body = {"region_code": "330106", "temperature": 36.5, "contact_history": False}
    instance.client.post("/resident/declarations/health", json=body, headers=headers)
    stats = instance.client.get("/public/statistics").json()
    assert stats == {
        "as_of": "2020-02-10T09:00:00Z",
        "health_declarations": 1,
        "trip_declarations": 0,
        "appeals_pending": 1,
        "appeals_decided": 0,
        "manual_changes_approved": 0,
        "passages": 0,
    }


def test_a_resident_account_is_made_from_the_id_number_which_is_not_kept(instance: Instance) -> None:
    response = _create(instance, username="zhang.san", role="resident", id_number=ID_NUMBER)
    assert response.status_code == 201, response.text
    assert response.json()["role"] == "resident" and "person_key" not in response.json()
    pseudonyms = Pseudonymiser.from_file(instance.app.state.services.settings.data.secrets / "pseudonym.key")
    with instance.store.session() as session:
        account = session.get(Account, response.json()["id"])
        assert account.person_key == pseudonyms.key(ID_NUMBER)
    database = instance.app.state.services.settings.data.root / "shuzhi.db"
    instance.store.dispose()
    assert not any(ID_NUMBER.encode() in p.read_bytes() for p in database.parent.glob("shuzhi.db*"))
    headers = instance.login("zhang.san")
    assert instance.client.get("/resident/code", headers=headers).status_code == 200
    [record] = [r for r in instance.audit_records() if r.action == "create:accounts"]
    assert (record.actor, record.person_key, record.detail) == (
        "admin",
        account.person_key,
        {"username": "zhang.san", "role": "resident"},
    )


def test_account_creation_refuses_what_does_not_fit(instance: Instance) -> None:
    wrong_check = ID_NUMBER[:-1] + ("0" if ID_NUMBER[-1] != "0" else "1")
    assert _create(instance, username="a1", role="resident", id_number=wrong_check).status_code == 422
    assert _create(instance, username="a2", role="resident").status_code == 422
    assert _create(instance, username="a3", role="operator", id_number=ID_NUMBER).status_code == 422
    assert _create(instance, username="operator", role="operator").status_code == 409
    assert _create(instance, username="a4", role="operator", password="short").status_code == 422
    assert _create(instance, username="bad name", role="operator").status_code == 422
    names = [
        a["username"]
        for a in instance.client.get("/admin/accounts", headers=instance.headers["admin"]).json()
    ]
    assert not {"a1", "a2", "a3", "a4"} & set(names)
