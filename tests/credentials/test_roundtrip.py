"""Tokens issued in one region verify in another with only the national trust list; every fault is caught."""

import io
import zlib
from datetime import date, timedelta

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from shuzhi.credentials import base45, cose, envelope, keys, qr, tokens, trustlist
from shuzhi.credentials.verifier import Reason, verify

from .federation import HANGZHOU, NINGBO, NOW, green_code

FORGERY_REASONS = {Reason.MALFORMED, Reason.UNKNOWN_ISSUER, Reason.BAD_SIGNATURE}


def _credentials():
    return [
        green_code(),
        tokens.health_code("red", "2022-9th", "close_contact"),
        tokens.covid_test("pcr", "negative", NOW - timedelta(hours=20), "杭州市疾控中心", HANGZHOU),
        tokens.vaccination("BBIBP-CorV", 2, 2, date(2022, 3, 1), HANGZHOU),
        tokens.recovery(date(2022, 3, 1), date(2022, 3, 12), date(2022, 9, 1), HANGZHOU),
    ]


@pytest.mark.parametrize("credential", _credentials(), ids=lambda c: c.kind.value)
def test_a_token_issued_in_hangzhou_verifies_in_ningbo_with_only_the_trust_list(federation, credential):
    payload = federation.issue(credential)
    result = verify(payload, federation.national_list(), now=NOW + timedelta(minutes=1))
    assert result.valid, result.detail
    assert (result.scheme, result.kind, result.issuer, result.subject) == (
        "shuzhi",
        credential.kind.value,
        HANGZHOU,
        "pseudonym-7f3a",
    )
    assert result.payload == credential.claim_map()
    assert result.expires_at - result.issued_at == tokens.DEFAULT_LIFETIME[credential.kind]


def test_ningbo_tokens_verify_against_the_same_national_list(federation):
    payload = federation.issue(green_code(), store=federation.ningbo, region=NINGBO)
    result = verify(payload, federation.national_list(), now=NOW)
    assert result.valid and result.issuer == NINGBO and result.counts_as == "green"


def test_the_qr_image_verifies_like_the_payload(federation, tmp_path):
    payload = federation.issue(green_code())
    path = tmp_path / "code.png"
    info = qr.render(payload, path)
    assert info.version <= 12
    assert verify(path, federation.national_list(), now=NOW).valid
    assert verify(path.read_bytes(), federation.national_list(), now=NOW).valid


def test_an_image_without_a_readable_qr_code_is_malformed(federation):
    blank = io.BytesIO()
    Image.new("L", (200, 200), 255).save(blank, format="PNG")
    trust = federation.national_list()
    assert verify(blank.getvalue(), trust, now=NOW).reason is Reason.MALFORMED
    assert verify(b"not an image", trust, now=NOW).reason is Reason.MALFORMED


def test_expiry_with_clock_skew_tolerance(federation):
    payload = federation.issue(green_code())
    trust = federation.national_list()
    expires = NOW + tokens.DEFAULT_LIFETIME[tokens.Kind.HEALTH_CODE]
    skew = timedelta(seconds=30)
    assert verify(payload, trust, now=expires + skew - timedelta(seconds=1), skew=skew).valid
    late = verify(payload, trust, now=expires + skew + timedelta(seconds=1), skew=skew)
    assert late.reason is Reason.EXPIRED and late.issuer == HANGZHOU


def test_a_future_dated_token_is_not_yet_valid(federation):
    payload = federation.issue(green_code(), at=NOW + timedelta(minutes=3))
    trust = federation.national_list()
    assert verify(payload, trust, now=NOW, skew=timedelta(seconds=60)).reason is Reason.NOT_YET_VALID
    assert verify(payload, trust, now=NOW, skew=timedelta(minutes=4)).valid


def test_a_key_outside_the_trust_list_is_an_unknown_issuer(federation, tmp_path):
    rogue = keys.KeyStore(tmp_path / "rogue")
    rogue.generate(HANGZHOU, NOW - timedelta(days=1))
    payload = federation.issue(green_code(), store=rogue)
    assert verify(payload, federation.national_list(), now=NOW).reason is Reason.UNKNOWN_ISSUER


def test_a_wrong_key_claiming_a_trusted_key_id_is_a_bad_signature(federation):
    trusted = federation.hangzhou.signer(HANGZHOU, NOW)
    impostor = keys.Signer(ec.generate_private_key(ec.SECP256R1()), trusted.info)
    payload = tokens.issue(green_code(), "pseudonym-7f3a", impostor, NOW)
    assert verify(payload, federation.national_list(), now=NOW).reason is Reason.BAD_SIGNATURE


def test_a_region_cannot_issue_for_another(federation):
    signer = federation.hangzhou.signer(HANGZHOU, NOW)
    claims = tokens.Claims(NINGBO, "p", NOW, NOW + timedelta(minutes=5), b"12345678", green_code())
    payload = envelope.wrap(cose.sign(cbor2.dumps(claims.to_cwt()), signer))
    result = verify(payload, federation.national_list(), now=NOW)
    assert result.reason is Reason.UNKNOWN_ISSUER and "cannot issue for 330200" in result.detail


def test_a_revoked_key_rejects_its_tokens(federation):
    payload = federation.issue(green_code())
    kid = federation.hangzhou.active(HANGZHOU, NOW).kid
    federation.hangzhou.revoke(HANGZHOU, keys=(kid,))
    result = verify(payload, federation.national_list(), now=NOW)
    assert result.reason is Reason.REVOKED and kid.hex() in result.detail


@pytest.mark.parametrize("by", ["token_id", "token_hash"])
def test_a_revoked_token_is_rejected_by_id_or_hash(federation, by):
    payload = federation.issue(green_code())
    other = federation.issue(green_code())
    first = verify(payload, federation.national_list(), now=NOW)
    federation.hangzhou.revoke(HANGZHOU, tokens=(getattr(first, by),))
    trust = federation.national_list()
    assert verify(payload, trust, now=NOW).reason is Reason.REVOKED
    assert verify(other, trust, now=NOW).valid


def test_rotation_keeps_old_tokens_valid_and_stops_the_old_key_signing(federation):
    old_signer = federation.hangzhou.signer(HANGZHOU, NOW)
    before = tokens.issue(green_code(), "p", old_signer, NOW, timedelta(days=2))
    rotated_at = NOW + timedelta(hours=1)
    new_key = federation.hangzhou.generate(HANGZHOU, rotated_at)
    trust = federation.national_list(rotated_at)
    assert {k.kid for k in trust.keys} >= {old_signer.kid, new_key.kid}
    assert verify(before, trust, now=rotated_at + timedelta(hours=1)).valid
    after = federation.issue(green_code(), at=rotated_at + timedelta(hours=1))
    assert verify(after, trust, now=rotated_at + timedelta(hours=1)).kid == new_key.kid
    late = tokens.issue(green_code(), "p", old_signer, rotated_at + timedelta(hours=1))  # a stolen old key
    result = verify(late, trust, now=rotated_at + timedelta(hours=1))
    assert result.reason is Reason.UNKNOWN_ISSUER and "could not sign" in result.detail


def test_the_old_key_leaves_the_trust_list_once_its_tokens_cannot_be_valid(federation):
    old = federation.hangzhou.active(HANGZHOU, NOW)
    federation.hangzhou.generate(HANGZHOU, NOW)
    retired = next(k for k in federation.hangzhou.keys(HANGZHOU) if k.kid == old.kid)
    assert retired.not_after == NOW + retired.max_token_lifetime
    kids = {k.kid for k in federation.national_list(retired.not_after + timedelta(seconds=1)).keys}
    assert old.kid not in kids


def test_a_token_cannot_outlive_its_key(federation):
    signer = federation.hangzhou.signer(HANGZHOU, NOW)
    with pytest.raises(tokens.IssueError):
        tokens.issue(green_code(), "p", signer, NOW, signer.info.not_after - NOW + timedelta(seconds=1))


def test_decompression_is_capped(federation):
    bomb = envelope.SHUZHI_PREFIX + base45.encode(zlib.compress(b"\0" * (envelope.MAX_DECOMPRESSED + 1)))
    result = verify(bomb, federation.national_list(), now=NOW)
    assert result.reason is Reason.MALFORMED and "exceeds" in result.detail


def test_an_unknown_prefix_is_malformed(federation):
    payload = federation.issue(green_code())
    assert verify("XX1:" + payload[4:], federation.national_list(), now=NOW).reason is Reason.MALFORMED


def _cose_of(payload: str) -> bytes:
    return envelope.unwrap(payload)[1]


@pytest.fixture(scope="module")
def signed(module_federation) -> tuple[trustlist.TrustList, str]:
    """One health code and the national list that trusts its key, shared by the property tests."""
    return module_federation.national_list(), module_federation.issue(green_code())


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_flipping_any_byte_of_the_cose_message_is_rejected(signed, data):
    trust, payload = signed
    original = _cose_of(payload)
    index = data.draw(st.integers(0, len(original) - 1), label="index")
    mask = data.draw(st.integers(1, 255), label="mask")
    tampered = bytearray(original)
    tampered[index] ^= mask
    result = verify(envelope.wrap(bytes(tampered)), trust, now=NOW)
    assert result.reason in _expected_reasons(original, index), result.detail


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_changing_any_character_of_the_payload_is_rejected(signed, data):
    trust, payload = signed
    index = data.draw(st.integers(0, len(payload) - 1), label="index")
    char = data.draw(st.sampled_from(base45.ALPHABET + "abc\u00e9").filter(lambda c: c != payload[index]))
    result = verify(payload[:index] + char + payload[index + 1 :], trust, now=NOW)
    assert not result.valid and result.reason in FORGERY_REASONS, result.detail


def _expected_reasons(encoded: bytes, index: int) -> set[Reason]:
    """Where the flipped byte sits decides the reason: in the claims or the signature, bad_signature; in the
    key id, unknown_issuer; in the structure around them, anything that rejects a forgery."""
    message = cose.decode(encoded)
    if _inside(encoded, message.payload, index) or _inside(encoded, message.signature, index):
        return {Reason.BAD_SIGNATURE}
    if _inside(encoded, message.kid, index):
        return {Reason.UNKNOWN_ISSUER}
    return FORGERY_REASONS


def _inside(haystack: bytes, needle: bytes, index: int) -> bool:
    start = haystack.rindex(needle)
    return start <= index < start + len(needle)


def test_the_signed_parts_cover_most_of_the_message(signed):
    """The byte-flip property would say little if most flips fell outside the claims and signature."""
    _, payload = signed
    original = _cose_of(payload)
    exact = [i for i in range(len(original)) if _expected_reasons(original, i) != FORGERY_REASONS]
    assert len(exact) > 0.85 * len(original)
