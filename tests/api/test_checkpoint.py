"""Checkpoint scans are verified offline by shuzhi.credentials and logged as passages with the verdict."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from shuzhi.api import credentials_verifier
from shuzhi.api.__main__ import build_parser, verifier_from_args
from shuzhi.credentials import keys, tokens, trustlist
from shuzhi.store import Passage

from .conftest import RESIDENT_KEY, T0, Instance, copy_of, make_instance

HANGZHOU, WUHAN = "330100", "420100"


@pytest.fixture
def key_store(tmp_path: Path) -> keys.KeyStore:
    store = keys.KeyStore(tmp_path / "keys")
    for region in (HANGZHOU, WUHAN):
        store.generate(region, now=T0 - dt.timedelta(days=1))
    return store


@pytest.fixture
def scanning(template: Path, tmp_path: Path, key_store: keys.KeyStore) -> Iterator[Instance]:
    """An instance of Hangzhou whose checkpoints trust Hangzhou's and Wuhan's keys."""
    trust = trustlist.merge([trustlist.regional(key_store, r, now=T0) for r in (HANGZHOU, WUHAN)], now=T0)
    yield from make_instance(copy_of(template, tmp_path), verifier=credentials_verifier(trust, HANGZHOU))


def _code(key_store: keys.KeyStore, region: str, subject: str, colour: str = "green") -> str:
    signer = key_store.signer(region, now=T0)
    return tokens.issue(tokens.health_code(colour, "2022-9th", "none"), subject, signer, now=T0)


def _scan(instance: Instance, payload: str, direction: str = "in") -> dict:
    body = {"checkpoint_code": "V-330106-0001", "payload": payload, "direction": direction}
    response = instance.client.post("/checkpoint/passages", json=body, headers=instance.headers["checkpoint"])
    assert response.status_code == 201, response.text
    return response.json()


def test_a_valid_local_code_logs_the_holder(scanning: Instance, key_store: keys.KeyStore) -> None:
    payload = _code(key_store, HANGZHOU, str(RESIDENT_KEY), "yellow")
    passage = _scan(scanning, payload)
    assert (passage["valid"], passage["reason"], passage["passed_at"]) == (
        True,
        "valid: yellow",
        "2020-02-10T09:00:00Z",
    )
    with scanning.store.session() as session:
        row = session.get(Passage, passage["id"])
        assert row.person_key == RESIDENT_KEY
        assert row.payload_sha256 == hashlib.sha256(payload.encode()).hexdigest()
    [record] = [r for r in scanning.audit_records() if r.action == "create:passages"]
    assert (record.actor, record.person_key, record.purpose) == (
        "checkpoint",
        RESIDENT_KEY,
        "passage_control",
    )


def test_another_regions_code_is_valid_but_names_no_local_person(
    scanning: Instance, key_store: keys.KeyStore
):
    passage = _scan(scanning, _code(key_store, WUHAN, "98765"), direction="out")
    assert passage["valid"] and passage["direction"] == "out"
    with scanning.store.session() as session:
        assert session.get(Passage, passage["id"]).person_key is None


def test_expired_and_tampered_codes_are_logged_as_invalid(
    scanning: Instance, key_store: keys.KeyStore
) -> None:
    payload = _code(key_store, HANGZHOU, str(RESIDENT_KEY))
    scanning.clock.advance(hours=1)
    expired = _scan(scanning, payload)
    assert not expired["valid"] and expired["reason"].startswith("expired: ")
    tampered = _scan(scanning, payload[:-4] + "ABCD")
    assert not tampered["valid"] and tampered["reason"].startswith("malformed: ")
    with scanning.store.session() as session:
        rows = list(session.scalars(select(Passage)))
    assert [(r.valid, r.person_key) for r in rows] == [(False, None), (False, None)]


def test_without_a_verifier_scans_are_refused_not_guessed(instance: Instance) -> None:
    body = {"checkpoint_code": "V1", "payload": "SZ1:ANYTHING"}
    response = instance.client.post("/checkpoint/passages", json=body, headers=instance.headers["checkpoint"])
    assert response.status_code == 503
    with instance.store.session() as session:
        assert session.scalars(select(Passage)).all() == []


def test_serve_builds_the_verifier_from_a_signed_trust_list(tmp_path: Path, key_store: keys.KeyStore) -> None:
    national = keys.KeyStore(tmp_path / "national")
    info = national.generate("100000", now=T0 - dt.timedelta(days=1))
    merged = trustlist.merge([trustlist.regional(key_store, HANGZHOU, now=T0)], now=T0)
    (tmp_path / "list.cose").write_bytes(trustlist.sign(merged, national.publisher("100000", now=T0)))
    (tmp_path / "national.pem").write_bytes(keys.public_pem(info.public_key))
    options = [
        "serve",
        "--trust-list",
        str(tmp_path / "list.cose"),
        "--anchor",
        str(tmp_path / "national.pem"),
    ]
    check = verifier_from_args(build_parser().parse_args([*options, "--region", HANGZHOU]))
    assert check is not None
    verdict = check(_code(key_store, HANGZHOU, str(RESIDENT_KEY)), T0)
    assert (verdict.valid, verdict.person_key) == (True, RESIDENT_KEY)
    assert not check(_code(key_store, WUHAN, "1"), T0).valid  # Wuhan's keys are not on this list
    assert verifier_from_args(build_parser().parse_args(["serve"])) is None
