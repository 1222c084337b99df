"""Base45 (RFC 9285), the zlib envelope and COSE_Sign1 (RFC 9052) on their own."""

import zlib

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from hypothesis import given
from hypothesis import strategies as st

from shuzhi.credentials import base45, cose, envelope


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"AB", "BB8"),
        (b"Hello!!", "%69 VD92EX0"),
        (b"base-45", "UJCLQE7W581"),
        (b"ietf!", "QED8WEX0"),
        (b"", ""),
    ],
)
def test_base45_rfc_9285_examples(data, text):
    assert base45.encode(data) == text
    assert base45.decode(text) == data


@given(st.binary(max_size=300))
def test_base45_round_trip(data):
    text = base45.encode(data)
    assert set(text) <= set(base45.ALPHABET)
    assert base45.decode(text) == data


@pytest.mark.parametrize("text", ["GGW", "ZZ", "A", "AB8a", "BB8\n", "ÄB8"])
def test_base45_rejects_invalid_text(text):
    with pytest.raises(base45.Base45Error):
        base45.decode(text)


def test_envelope_stages_name_where_they_broke():
    with pytest.raises(envelope.EnvelopeError) as prefix:
        envelope.unwrap("HC2:6BF")
    assert prefix.value.stage == "prefix"
    with pytest.raises(envelope.EnvelopeError) as stream:
        envelope.decompress(b"\x78\x9c\x01\x02")
    assert stream.value.stage == "zlib"
    with pytest.raises(envelope.EnvelopeError, match="after the end"):
        envelope.decompress(zlib.compress(b"cose") + b"x")
    assert envelope.decompress(zlib.compress(b"cose")) == b"cose"


class _Key:
    """A bare P-256 signer for COSE tests (the key store's Signer is tested in test_keys)."""

    def __init__(self) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.kid = b"kid-0001"

    def sign(self, data: bytes) -> bytes:
        return cose.raw_ecdsa(self.private.sign(data, ec.ECDSA(hashes.SHA256())))


def test_cose_sign_and_verify_es256_with_raw_signature():
    key = _Key()
    message = cose.decode(cose.sign(b"claims", key))
    assert (message.alg, message.kid, message.payload, len(message.signature)) == (
        cose.ES256,
        b"kid-0001",
        b"claims",
        64,
    )
    assert cose.verify(message, key.private.public_key())
    assert not cose.verify(message, ec.generate_private_key(ec.SECP256R1()).public_key())
    assert not cose.verify(message, ec.generate_private_key(ec.SECP384R1()).public_key())


def test_cose_accepts_untagged_and_cwt_wrapped_messages_and_the_unprotected_kid():
    key = _Key()
    tagged = cbor2.loads(cose.sign(b"claims", key))
    protected = cbor2.dumps({cose.HEADER_ALG: cose.ES256})
    signature = key.sign(cose.sig_structure(protected, b"claims"))
    body = [protected, {cose.HEADER_KID: b"kid-0001"}, b"claims", signature]
    for encoded in (
        cbor2.dumps(list(tagged.value)),
        cbor2.dumps(cbor2.CBORTag(cose.TAG_CWT, tagged)),
        cbor2.dumps(cbor2.CBORTag(cose.TAG_SIGN1, body)),
    ):
        message = cose.decode(encoded)
        assert message.kid == b"kid-0001"
        assert cose.verify(message, key.private.public_key())


def test_the_protected_kid_wins_over_the_unprotected_one():
    protected = cbor2.dumps({cose.HEADER_ALG: cose.ES256, cose.HEADER_KID: b"protected"})
    message = cose.decode(cbor2.dumps([protected, {cose.HEADER_KID: b"unprotected"}, b"", b""]))
    assert message.kid == b"protected"


def test_cose_verifies_ps256_with_salt_as_long_as_the_hash():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    protected = cbor2.dumps({cose.HEADER_ALG: cose.PS256, cose.HEADER_KID: b"rsa"})
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    signature = private.sign(cose.sig_structure(protected, b"claims"), pss, hashes.SHA256())
    message = cose.decode(cbor2.dumps(cbor2.CBORTag(cose.TAG_SIGN1, [protected, {}, b"claims", signature])))
    assert cose.verify(message, private.public_key())
    longer_salt = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH)
    other = private.sign(cose.sig_structure(protected, b"claims"), longer_salt, hashes.SHA256())
    assert not cose.verify(cose.decode(cbor2.dumps([protected, {}, b"claims", other])), private.public_key())


@pytest.mark.parametrize(
    "encoded",
    [
        cbor2.dumps(cbor2.CBORTag(19, [b"", {}, b"", b""])),
        cbor2.dumps([b"", {}, b""]),
        cbor2.dumps([b"", [], b"", b""]),
        cbor2.dumps([cbor2.dumps([1]), {}, b"", b""]),
        cbor2.dumps([b"", {}, b"", b""]) + b"\x00",
        b"\xff",
    ],
    ids=["wrong tag", "three items", "list header", "protected not a map", "trailing byte", "not cbor"],
)
def test_malformed_cose_is_refused(encoded):
    with pytest.raises(cose.CoseError):
        cose.decode(encoded)


def test_unsupported_algorithms_are_refused():
    protected = cbor2.dumps({cose.HEADER_ALG: -8})  # EdDSA
    with pytest.raises(cose.CoseError, match="unsupported"):
        cose.verify(cose.decode(cbor2.dumps([protected, {}, b"", b""])), _Key().private.public_key())
