"""Login for an expiring bearer token: 8 h for staff, 30 days for residents, on the instance's clock."""

from __future__ import annotations

import base64
import json
import stat

import pytest

from shuzhi.accounts import Role, TokenError, TokenSigner, load_or_create_key
from shuzhi.api import ApiSettings

from .conftest import PASSWORD, T0, Instance


def _me(instance: Instance, headers: dict[str, str]) -> int:
    return instance.client.get("/auth/me", headers=headers).status_code


def test_login_issues_a_token_that_expires_after_a_shift(instance: Instance) -> None:
    response = instance.client.post(
        "/auth/token", data={"username": "operator", "password": "correct horse battery"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["role"] == "operator"
    assert body["expires_at"] == "2020-02-10T17:00:00Z"
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert instance.client.get("/auth/me", headers=headers).json()["username"] == "operator"
    instance.clock.advance(hours=7, minutes=59)
    assert _me(instance, headers) == 200
    instance.clock.advance(minutes=1)
    response = instance.client.get("/auth/me", headers=headers)
    assert response.status_code == 401 and response.json()["detail"] == "token expired"
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_resident_token_lasts_thirty_days(instance: Instance) -> None:
    headers = instance.login("resident")
    instance.clock.advance(days=29, hours=23)
    assert _me(instance, headers) == 200
    instance.clock.advance(hours=1)
    assert _me(instance, headers) == 401


def test_a_wrong_password_gets_no_token_and_is_audited(instance: Instance) -> None:
    before = instance.last_seq()
    for username in ("operator", "nobody"):
        response = instance.client.post(
            "/auth/token", data={"username": username, "password": "guess guess guess"}
        )
        assert response.status_code == 401 and "access_token" not in response.json()
    failed = instance.audit_records(before)
    assert [(r.actor, r.action, r.detail["username"]) for r in failed] == [
        ("anonymous", "login_failed", "operator"),
        ("anonymous", "login_failed", "nobody"),
    ]


def _try(instance: Instance, username: str, password: str):
    return instance.client.post("/auth/token", data={"username": username, "password": password})


@pytest.mark.parametrize("username", ["operator", "nobody"])
def test_five_failed_logins_in_a_row_lock_a_username_known_or_not_for_fifteen_minutes(
    instance: Instance, username: str
) -> None:
    before = instance.last_seq()
    assert [_try(instance, username, "guess").status_code for _ in range(5)] == [401] * 5
    locked = _try(instance, username, PASSWORD)  # the right password too: not even checked
    assert locked.status_code == 429 and locked.headers["Retry-After"] == "900"
    assert "try again after 2020-02-10 09:15 UTC" in locked.json()["detail"]
    actions = [r.action for r in instance.audit_records(before)]
    assert actions == [*["login_failed"] * 4, "login_failed", "login_locked", "login_refused_locked"]
    assert _try(instance, "admin", PASSWORD).status_code == 200  # another username is not held up
    instance.clock.advance(minutes=14, seconds=59)
    assert _try(instance, username, PASSWORD).status_code == 429
    instance.clock.advance(seconds=1)
    assert _try(instance, username, PASSWORD).status_code == (200 if username == "operator" else 401)


def test_a_login_clears_the_count_and_a_lock_that_ran_out_starts_a_fresh_one(instance: Instance) -> None:
    for _ in range(4):
        _try(instance, "operator", "guess")
    assert _try(instance, "operator", PASSWORD).status_code == 200
    assert [_try(instance, "operator", "guess").status_code for _ in range(5)] == [401] * 5  # counted afresh
    assert _try(instance, "operator", "guess").status_code == 429
    instance.clock.advance(minutes=15)
    assert _try(instance, "operator", "guess").status_code == 401  # one failure of a fresh count
    assert _try(instance, "operator", PASSWORD).status_code == 200


def test_a_login_is_audited(instance: Instance) -> None:
    before = instance.last_seq()
    instance.login("auditor")
    [record] = instance.audit_records(before)
    assert (record.actor, record.role, record.action, record.purpose) == (
        "auditor",
        "auditor",
        "login",
        "authentication",
    )
    assert record.at == T0


def test_a_forged_or_garbled_token_is_refused(instance: Instance) -> None:
    token = instance.headers["resident"]["Authorization"].removeprefix("Bearer ")
    body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["role"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    for bad in (f"{forged}.{signature}", "not-a-token", f"{body}.", ""):
        assert _me(instance, {"Authorization": f"Bearer {bad}"}) == 401, bad


def test_deactivating_an_account_ends_its_tokens(instance: Instance) -> None:
    headers = instance.login("checkpoint")
    accounts = instance.client.get("/admin/accounts", headers=instance.headers["admin"]).json()
    account_id = next(a["id"] for a in accounts if a["username"] == "checkpoint")
    patch = instance.client.patch(
        f"/admin/accounts/{account_id}", json={"active": False}, headers=instance.headers["admin"]
    )
    assert patch.status_code == 200 and patch.json()["active"] is False
    assert _me(instance, headers) == 401
    response = instance.client.post(
        "/auth/token", data={"username": "checkpoint", "password": "correct horse battery"}
    )
    assert response.status_code == 401


def test_changing_ones_password_ends_every_older_token_and_answers_with_a_fresh_one(
    instance: Instance,
) -> None:
    phone, laptop = instance.login("operator"), instance.login("operator")
    instance.clock.advance(seconds=5)
    change = {"current_password": PASSWORD, "new_password": "a much longer secret"}

    def post(body: dict[str, str]):
        return instance.client.post("/auth/password", json=body, headers=phone)

    wrong = post({**change, "current_password": "guess"})
    assert wrong.status_code == 422 and "current_password: wrong password" in str(wrong.json()["detail"])
    same = post({**change, "new_password": PASSWORD})
    assert same.status_code == 422 and "new_password" in str(same.json()["detail"])
    before = instance.last_seq()
    changed = post(change)
    assert changed.status_code == 200
    fresh = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert (_me(instance, phone), _me(instance, laptop), _me(instance, fresh)) == (401, 401, 200)
    assert _try(instance, "operator", PASSWORD).status_code == 401
    assert _try(instance, "operator", "a much longer secret").status_code == 200
    assert instance.audit_records(before)[0].action == "change:password"


def test_a_stolen_token_cannot_guess_the_password_either(instance: Instance) -> None:
    stolen = instance.login("operator")
    guess = {"current_password": "guess", "new_password": "the thief's password"}
    answers = [instance.client.post("/auth/password", json=guess, headers=stolen) for _ in range(6)]
    assert [a.status_code for a in answers] == [422] * 5 + [429]  # counted as failed logins
    assert _try(instance, "operator", PASSWORD).status_code == 429


def test_an_administrator_resets_a_forgotten_password_and_lifts_the_lock(instance: Instance) -> None:
    old = instance.login("checkpoint")
    instance.clock.advance(seconds=5)
    for _ in range(5):
        _try(instance, "checkpoint", "guess")
    assert _try(instance, "checkpoint", PASSWORD).status_code == 429
    accounts = instance.client.get("/admin/accounts", headers=instance.headers["admin"]).json()
    account_id = next(a["id"] for a in accounts if a["username"] == "checkpoint")
    path, admin = f"/admin/accounts/{account_id}", instance.headers["admin"]
    assert instance.client.patch(path, json={}, headers=admin).status_code == 422  # nothing to change
    reset = instance.client.patch(path, json={"password": "handed over in person"}, headers=admin)
    assert reset.status_code == 200 and reset.json()["active"] is True
    assert _me(instance, old) == 401
    assert _try(instance, "checkpoint", "handed over in person").status_code == 200
    record = instance.audit_records(instance.last_seq() - 3)
    assert any(r.action == "update:accounts" and r.detail["password_reset"] for r in record)
    assert all("handed over" not in str(r.detail) for r in record)  # the password is never audited


def test_the_token_key_is_private_and_kept_across_restarts(instance: Instance) -> None:
    settings = ApiSettings(data_dir=instance.app.state.services.settings.data_dir)
    path = settings.data.secrets / "api-token.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = TokenSigner(load_or_create_key(settings.data.secrets), clock=instance.clock)
    token = instance.headers["operator"]["Authorization"].removeprefix("Bearer ")
    assert again.check(token).role is Role.OPERATOR
    other = TokenSigner(b"k" * 32, clock=instance.clock)
    try:
        other.check(token)
    except TokenError as exc:
        assert str(exc) == "invalid token"
    else:
        raise AssertionError("a token signed with another key was accepted")
