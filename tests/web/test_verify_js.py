"""The checkpoint's in-browser verifier (verify.js) reaches the same verdict as ``shuzhi.credentials.verify``.

Each payload is judged by both against the same trust list (the JS one as ``/public/trust-list`` publishes
it) at the same instant: valid codes of every colour, expired and not-yet-valid ones, unknown keys, a key
listed for another region, a key outside its signing window, revoked keys and tokens (by id and by hash),
forged signatures and malformed text. EU certificates are left to the server by design.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import cbor2
import pytest

from shuzhi.api.issuer import InstanceCredentials
from shuzhi.api.routers.public import trust_list as published
from shuzhi.credentials import envelope, tokens, trustlist, verify
from shuzhi.credentials.keys import KeyStore
from shuzhi.credentials.trustlist import TrustList

from .site import Site

pytestmark = pytest.mark.browser
HANGZHOU, NINGBO = "330100", "330200"
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
VERIFY_ALL = """async ([payloads, list, now]) => {
  const verifier = await import('/web/verify.js');
  const trust = await verifier.importTrust(list);
  const verdicts = [];
  for (const payload of payloads) verdicts.push(await verifier.verifyPayload(payload, trust, now));
  return verdicts;
}"""


def _code(keys: KeyStore, region: str, colour: str = "green", **shift: float) -> str:
    at = NOW + dt.timedelta(**shift)
    return tokens.issue(tokens.health_code(colour, "2020-5th", "rule"), "42", keys.signer(region, at), at)


def _forged(payload: str) -> str:
    prefix, cose = envelope.unwrap(payload)
    protected, unprotected, claims, signature = cbor2.loads(cose).value
    forged = signature[:-1] + bytes([signature[-1] ^ 0x80])
    return envelope.wrap(cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, claims, forged])), prefix)


def _token_ids(payload: str) -> tuple[bytes, bytes]:
    """The token id (cti) and the token hash (SHA-256 of r, 16 bytes) of a payload."""
    _prefix, cose = envelope.unwrap(payload)
    _protected, _unprotected, claims, signature = cbor2.loads(cose).value
    return cbor2.loads(claims)[tokens.CLAIM_CTI], hashlib.sha256(signature[:32]).digest()[:16]


def _as_published(keys: KeyStore, trust: TrustList) -> dict[str, Any]:
    return published(None, InstanceCredentials(keys, HANGZHOU, trust)).model_dump(mode="json")


def _both(page: Any, payloads: list[str], trust: TrustList, keys: KeyStore) -> list[tuple[str, str]]:
    """(Python reason, JS reason) per payload; 'valid:<colour>' for a valid code."""
    js = page.evaluate(VERIFY_ALL, [payloads, _as_published(keys, trust), NOW.timestamp()])
    pairs = []
    for payload, verdict in zip(payloads, js, strict=True):
        checked = verify(payload, trust, now=NOW)
        python = f"valid:{checked.counts_as}" if checked.valid else checked.reason.value
        pairs.append((python, f"valid:{verdict['colour']}" if verdict["valid"] else verdict["reason"]))
    return pairs


@pytest.fixture
def keys(tmp_path: Path) -> KeyStore:
    store = KeyStore(tmp_path / "keys")
    for region in (HANGZHOU, NINGBO):
        store.generate(region, NOW - dt.timedelta(days=1))
    return store


@pytest.fixture
def verifier_page(site: Site, open_page: Any) -> Any:
    page = open_page()
    page.goto(f"{site.url}/web/checkpoint.html")
    return page


def test_the_browser_and_the_server_agree_on_every_verdict(verifier_page: Any, keys: KeyStore) -> None:
    trust = trustlist.regional(keys, HANGZHOU, NOW)
    fresh = _code(keys, HANGZHOU)
    payloads = [
        fresh,
        _code(keys, HANGZHOU, "yellow"),
        _code(keys, HANGZHOU, "red"),
        _code(keys, HANGZHOU, minutes=-30),  # expired
        _code(keys, HANGZHOU, minutes=30),  # not yet valid
        _code(keys, HANGZHOU, minutes=-5.5),  # expired 30 s ago: within the 60 s skew, still valid
        _code(keys, NINGBO),  # a key the list does not hold
        _forged(fresh),
        fresh[:-2],  # base45 cut short
        fresh.replace("SZ1:", "SZ1:!"),
        "SZ1:",
        "HELLO",
    ]
    pairs = _both(verifier_page, payloads, trust, keys)
    assert [python for python, _js in pairs] == [
        "valid:green",
        "valid:yellow",
        "valid:red",
        "expired",
        "not_yet_valid",
        "valid:green",
        "unknown_issuer",
        "bad_signature",
        "malformed",
        "malformed",
        "malformed",
        "malformed",
    ]
    assert [js for _python, js in pairs] == [python for python, _js in pairs]


def test_revocations_and_key_limits_agree(verifier_page: Any, keys: KeyStore) -> None:
    by_id, by_hash, other = (_code(keys, HANGZHOU) for _ in range(3))
    [listed] = trustlist.regional(keys, HANGZHOU, NOW).keys
    revoked_tokens = frozenset({_token_ids(by_id)[0], _token_ids(by_hash)[1]})
    cases = {
        "tokens revoked by id and by hash": (
            TrustList(HANGZHOU, NOW, (listed,), revoked_tokens=revoked_tokens),
            [by_id, by_hash, other],
            ["revoked", "revoked", "valid:green"],
        ),
        "the signing key revoked": (
            TrustList(HANGZHOU, NOW, (listed,), revoked_keys=frozenset({listed.kid})),
            [other],
            ["revoked"],
        ),
        "the key listed for another region": (
            TrustList(HANGZHOU, NOW, (dataclasses.replace(listed, region=NINGBO),)),
            [other],
            ["unknown_issuer"],
        ),
        "the key's signing window starting after the token": (
            TrustList(HANGZHOU, NOW, (dataclasses.replace(listed, not_before=NOW + dt.timedelta(hours=1)),)),
            [other],
            ["unknown_issuer"],
        ),
        "the key no longer trusted": (
            TrustList(HANGZHOU, NOW, (dataclasses.replace(listed, not_after=NOW - dt.timedelta(hours=1)),)),
            [other],
            ["expired"],
        ),
    }
    for what, (trust, payloads, expected) in cases.items():
        pairs = _both(verifier_page, payloads, trust, keys)
        assert [python for python, _js in pairs] == expected, what
        assert [js for _python, js in pairs] == expected, what


def test_eu_certificates_are_left_to_the_server(verifier_page: Any, keys: KeyStore) -> None:
    trust = trustlist.regional(keys, HANGZHOU, NOW)
    dcc = "HC1:" + _code(keys, HANGZHOU).removeprefix("SZ1:")
    [verdict] = verifier_page.evaluate(VERIFY_ALL, [[dcc], _as_published(keys, trust), NOW.timestamp()])
    assert (verdict["valid"], verdict["decided"], verdict["reason"]) == (False, False, "server_only")
