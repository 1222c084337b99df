"""The inbox over HTTP: another region delivers a signed message and gets a signed receipt; garbage gets 422
with the reason; administrators read the exchange log; anyone reads the national view."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from shuzhi.accounts import Role
from shuzhi.api import ApiSettings, create_app
from shuzhi.api.issuer import local_credentials
from shuzhi.federation.exchange import acknowledge, compose

from .conftest import HANGZHOU, NINGBO, T0


@pytest.fixture(scope="module")
def ningbo_api(keys_only):
    data = keys_only.members[NINGBO]
    app = create_app(
        ApiSettings(data_dir=data.root, clock=lambda: T0),
        credentials=local_credentials(data.root, NINGBO, T0),
    )
    with TestClient(app) as client:
        token, _ = app.state.services.signer.issue(_admin(app), Role.ADMIN)
        yield client, {"Authorization": f"Bearer {token}"}


def _admin(app) -> int:
    from shuzhi.accounts import create_account

    with app.state.services.store.session() as session:
        return create_account(session, "fed-admin", "correct horse battery", Role.ADMIN, T0).id


def test_a_delivered_message_is_answered_with_a_signed_receipt_and_logged(keys_only, ningbo_api):
    client, admin = ningbo_api
    hangzhou = keys_only.member(HANGZHOU)
    sealed = compose(hangzhou, NINGBO, "trust_list", T0)
    response = client.post(
        "/federation/messages", content=sealed, headers={"Content-Type": "application/cose"}
    )
    assert response.status_code == 200 and response.headers["content-type"] == "application/cose"
    assert acknowledge(hangzhou, response.content, T0).status == "accepted"
    log = client.get("/federation/log", headers=admin).json()
    assert log[0]["direction"] == "in" and log[0]["peer"] == HANGZHOU and log[0]["status"] == "accepted"
    assert client.get("/federation/log").status_code == 401


def test_garbage_gets_422_naming_the_part_at_fault(ningbo_api):
    client, _ = ningbo_api
    response = client.post(
        "/federation/messages", content=b"\x01\x02", headers={"Content-Type": "application/cose"}
    )
    assert response.status_code == 422 and response.json()["detail"][0]["msg"].startswith("cose:")


def test_the_national_view_is_public_and_empty_until_regions_send_statistics(ningbo_api):
    client, _ = ningbo_api
    response = client.get("/federation/national")
    assert response.status_code == 200 and response.json() == []
