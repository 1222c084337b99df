"""The key store (ids, file modes, passphrases, rotation, no leaks) and signed, merged trust lists."""

import copy
import hashlib
import pickle
import stat
from dataclasses import replace
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization

from shuzhi.credentials import keys, trustlist
from shuzhi.credentials.verifier import verify

from .federation import HANGZHOU, NINGBO, NOW, T0, green_code


def test_the_key_id_is_the_first_8_bytes_of_sha256_of_the_der_public_key(tmp_path):
    info = keys.KeyStore(tmp_path).generate(HANGZHOU, T0)
    der = info.public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert info.kid == hashlib.sha256(der).digest()[:8]


def test_private_keys_are_mode_0600_and_encrypted_with_a_passphrase(tmp_path):
    store = keys.KeyStore(tmp_path, passphrase=b"correct horse")
    info = store.generate(HANGZHOU, T0)
    private = tmp_path / HANGZHOU / f"{info.kid.hex()}.key.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert b"ENCRYPTED PRIVATE KEY" in private.read_bytes()
    assert store.signer(HANGZHOU, NOW).kid == info.kid
    for wrong in (keys.KeyStore(tmp_path, passphrase=b"wrong"), keys.KeyStore(tmp_path)):
        with pytest.raises(keys.KeyStoreError, match="passphrase"):
            wrong.signer(HANGZHOU, NOW)


def test_a_signer_never_shows_or_gives_away_its_private_key(tmp_path):
    store = keys.KeyStore(tmp_path, passphrase=b"secret")
    store.generate(HANGZHOU, T0)
    signer = store.signer(HANGZHOU, NOW)
    secret = str(signer._key.private_numbers().private_value)
    for text in (repr(signer), str(signer), repr(store), repr(signer.info)):
        assert secret not in text and "PRIVATE" not in text and "secret" not in text
    with pytest.raises(TypeError):
        pickle.dumps(signer)
    with pytest.raises(TypeError):
        copy.deepcopy(signer)
    assert not hasattr(signer, "__dict__")


def test_regions_must_be_gb_t_2260_codes(tmp_path):
    store = keys.KeyStore(tmp_path)
    for bad in ("330199", "33010", "abcdef", "../etc"):
        with pytest.raises(keys.KeyStoreError):
            store.generate(bad, T0)
    assert store.generate(keys.NATIONAL, T0).region == keys.NATIONAL


def test_rotation_retires_the_old_key_and_keeps_it_trusted_for_its_tokens(tmp_path):
    store = keys.KeyStore(tmp_path)
    old = store.generate(HANGZHOU, T0, max_token_lifetime=timedelta(days=3))
    new = store.generate(HANGZHOU, NOW)
    assert store.active(HANGZHOU, NOW).kid == new.kid
    retired = next(k for k in store.keys(HANGZHOU) if k.kid == old.kid)
    assert (retired.signing_until, retired.not_after) == (NOW, NOW + timedelta(days=3))
    assert store.publisher(HANGZHOU, NOW).kid == old.kid
    assert store.publisher(HANGZHOU, NOW + timedelta(days=4)).kid == new.kid
    with pytest.raises(keys.KeyStoreError):
        store.signer(HANGZHOU, NOW + timedelta(days=4), kid=old.kid)


def test_no_key_means_no_signing(tmp_path):
    with pytest.raises(keys.KeyStoreError, match="keygen"):
        keys.KeyStore(tmp_path).signer(HANGZHOU, NOW)


def test_a_signed_list_opens_only_with_its_anchor_and_untouched(federation):
    regional = trustlist.regional(federation.hangzhou, HANGZHOU, NOW)
    signed = trustlist.sign(regional, federation.hangzhou.publisher(HANGZHOU, NOW))
    anchor = [federation.hangzhou.active(HANGZHOU, NOW).public_key]
    assert trustlist.open_signed(signed, anchor).to_json() == regional.to_json()
    with pytest.raises(trustlist.TrustListError, match="not an anchor"):
        trustlist.open_signed(signed, [federation.ningbo.active(NINGBO, NOW).public_key])
    tampered = bytearray(signed)
    tampered[-70] ^= 1  # a byte of the payload
    with pytest.raises(trustlist.TrustListError, match="does not verify"):
        trustlist.open_signed(bytes(tampered), anchor)


def test_a_region_cannot_sign_or_list_keys_outside_its_jurisdiction(federation):
    with pytest.raises(trustlist.TrustListError):
        trustlist.sign(
            trustlist.regional(federation.ningbo, NINGBO, NOW), federation.hangzhou.signer(HANGZHOU, NOW)
        )
    ningbo_keys = trustlist.regional(federation.ningbo, NINGBO, NOW).keys
    claimed_by_hangzhou = trustlist.TrustList(HANGZHOU, NOW, ningbo_keys)
    with pytest.raises(trustlist.TrustListError, match="outside its jurisdiction"):
        trustlist.merge([claimed_by_hangzhou])
    by_province = trustlist.TrustList("330000", NOW, ningbo_keys)
    assert trustlist.merge([by_province]).get(ningbo_keys[0].kid) is not None


def test_a_key_from_an_earlier_list_vouches_only_for_its_own_region(federation):
    known = federation.national_list()
    ningbo_list = trustlist.sign(
        trustlist.regional(federation.ningbo, NINGBO, NOW), federation.ningbo.publisher(NINGBO, NOW)
    )
    assert trustlist.open_signed(ningbo_list, known.keys).issuer == NINGBO
    hangzhou_key = next(k for k in known.keys if k.region == HANGZHOU)
    forged = trustlist.sign(
        trustlist.TrustList(NINGBO, NOW, ()),
        keys.Signer(federation.hangzhou.signer(HANGZHOU, NOW)._key, _as_region(federation, NINGBO)),
    )
    with pytest.raises(trustlist.TrustListError, match="cannot sign the list of 330200"):
        trustlist.open_signed(forged, [hangzhou_key])


def _as_region(federation, region):
    return replace(federation.hangzhou.active(HANGZHOU, NOW), region=region)


def test_after_rotation_the_regions_list_is_vouched_for_by_its_old_key(federation):
    previous = federation.national_list()
    rotated = NOW + timedelta(days=1)
    new_key = federation.hangzhou.generate(HANGZHOU, rotated)
    signed = trustlist.sign(
        trustlist.regional(federation.hangzhou, HANGZHOU, rotated),
        federation.hangzhou.publisher(HANGZHOU, rotated),
    )
    opened = trustlist.open_signed(signed, previous.keys)  # no new pin needed
    assert opened.get(new_key.kid) is not None


def test_merging_keeps_revocations_and_refuses_a_key_id_for_two_keys(federation):
    federation.hangzhou.revoke(HANGZHOU, tokens=(b"\x01" * 8,))
    hangzhou = trustlist.regional(federation.hangzhou, HANGZHOU, NOW)
    ningbo = trustlist.regional(federation.ningbo, NINGBO, NOW)
    merged = trustlist.merge([hangzhou, ningbo])
    assert merged.revoked_tokens == {b"\x01" * 8}
    assert len(merged.keys) == 2
    clash = trustlist.TrustList("330000", NOW, (_with_kid(ningbo.keys[0], hangzhou.keys[0].kid),))
    with pytest.raises(trustlist.TrustListError, match="two different keys"):
        trustlist.merge([hangzhou, clash])


def _with_kid(key: trustlist.TrustedKey, kid: bytes) -> trustlist.TrustedKey:
    return replace(key, kid=kid)


def test_the_cbor_form_round_trips_and_checks_key_ids(federation):
    trust = federation.national_list()
    again = trustlist.TrustList.from_cbor(trust.to_cbor())
    assert again.to_json() == trust.to_json()
    broken = trustlist.TrustList(trust.issuer, NOW, (_with_kid(trust.keys[0], b"\0" * 8),)).to_cbor()
    with pytest.raises(trustlist.TrustListError, match="does not match"):
        trustlist.TrustList.from_cbor(broken)
    with pytest.raises(trustlist.TrustListError, match="malformed"):
        trustlist.TrustList.from_cbor(b"\xa0")


def test_a_national_list_verifies_tokens_of_every_region(federation):
    trust = federation.national_list()
    for store, region in ((federation.hangzhou, HANGZHOU), (federation.ningbo, NINGBO)):
        assert verify(federation.issue(green_code(), store=store, region=region), trust, now=NOW).valid
