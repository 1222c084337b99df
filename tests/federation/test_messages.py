"""The envelope: signed by the sender's region key, checked against the national list, addressed, chained."""

from __future__ import annotations

import datetime as dt

import pytest

from shuzhi.credentials.keys import NATIONAL, KeyStore
from shuzhi.federation.bodies import parse
from shuzhi.federation.exchange import KEY_STORE_DIR, accept, acknowledge, compose
from shuzhi.federation.messages import Message, MessageError, digest, new_id, open_sealed, seal

from .conftest import HANGZHOU, NINGBO, T0, keys_only_at


def _message(**changes) -> Message:
    fields = dict(
        sender=HANGZHOU, recipient=NINGBO, kind="statistics", seq=1, prev=b"", sent_at=T0, body={"rows": []}
    )
    return Message(**{**fields, **changes, "id": new_id()})


def test_a_sealed_message_opens_for_its_recipient_with_its_fields(keys_only):
    hangzhou, ningbo = keys_only.member(HANGZHOU), keys_only.member(NINGBO)
    sealed = hangzhou.sign(_message(body={"rows": [{"a": 1}]}))
    opened = open_sealed(sealed, ningbo.trust, NINGBO)
    assert (opened.sender, opened.kind, opened.seq, opened.body) == (
        HANGZHOU,
        "statistics",
        1,
        {"rows": [{"a": 1}]},
    )
    assert opened.sent_at == T0


@pytest.mark.parametrize(
    "tamper, field",
    [
        (lambda b: b[:-1] + bytes([b[-1] ^ 1]), "signature"),  # one bit of the signature
        (lambda b: b"\x00" + b, "cose"),
        (lambda b: b[: len(b) // 2], "cose"),
    ],
)
def test_a_tampered_message_is_refused_naming_what_broke(keys_only, tamper, field):
    hangzhou, ningbo = keys_only.member(HANGZHOU), keys_only.member(NINGBO)
    sealed = hangzhou.sign(_message())
    with pytest.raises(MessageError) as caught:
        open_sealed(tamper(sealed), ningbo.trust, NINGBO)
    assert caught.value.field == field


def test_a_message_for_another_region_is_refused(keys_only):
    sealed = keys_only.member(HANGZHOU).sign(_message(recipient=NATIONAL))
    with pytest.raises(MessageError, match="to: addressed to 100000, this is 330200"):
        open_sealed(sealed, keys_only.member(NINGBO).trust, NINGBO)


def test_a_region_cannot_speak_for_another(keys_only):
    hangzhou = keys_only.member(HANGZHOU)
    signer = hangzhou.keys.signer(HANGZHOU, T0)
    with pytest.raises(MessageError, match="from: a key of 330100 cannot sign for 330200"):
        seal(_message(sender=NINGBO, recipient=HANGZHOU), signer)


def test_a_key_outside_the_trust_list_is_refused(keys_only, tmp_path):
    stranger = KeyStore(tmp_path / KEY_STORE_DIR)
    stranger.generate(HANGZHOU, T0 - dt.timedelta(days=1))
    sealed = seal(_message(), stranger.signer(HANGZHOU, T0))
    with pytest.raises(MessageError, match="kid: key .* is not in the trust list"):
        open_sealed(sealed, keys_only.member(NINGBO).trust, NINGBO)


def test_a_message_dated_outside_the_keys_signing_period_is_refused(keys_only):
    hangzhou = keys_only.member(HANGZHOU)
    early = T0 - dt.timedelta(days=400)
    sealed = seal(_message(sent_at=early), hangzhou.keys.signer(HANGZHOU, T0))
    with pytest.raises(MessageError, match="iat: .* outside the key's signing period"):
        open_sealed(sealed, keys_only.member(NINGBO).trust, NINGBO)


def test_messages_are_accepted_only_in_their_chain_and_a_repeat_lands_once(keys_only, tmp_path):
    """Sent 1, 2; delivered 2 first (refused: 1 is missing), then 1, 2, and 2 again (a duplicate)."""
    from shuzhi.federation.bodies import Receipt, parse
    from shuzhi.federation.messages import open_sealed as opened

    national, hangzhou = keys_only.member(NATIONAL), keys_only.member(HANGZHOU)
    first = compose(hangzhou, NATIONAL, "trust_list", T0)
    second = compose(hangzhou, NATIONAL, "trust_list", T0 + dt.timedelta(minutes=1))

    def status(receipt: bytes) -> Receipt:
        return parse("receipt", opened(receipt, hangzhou.trust, HANGZHOU).body)

    early = status(accept(national, second, T0))
    assert early.status == "rejected" and early.reason.startswith("seq: expected message 1")
    assert status(accept(national, first, T0)).status == "accepted"
    receipt = accept(national, second, T0)
    assert status(receipt).status == "accepted" and status(receipt).digest == digest(second)
    assert status(accept(national, second, T0)).status == "duplicate"
    assert acknowledge(hangzhou, receipt, T0).status == "accepted"
    log = {(m["direction"], m["seq"], m["status"]) for m in _log(national) + _log(hangzhou)}
    assert {("in", 2, "rejected"), ("in", 1, "accepted"), ("in", 2, "accepted")} <= log
    assert ("out", 2, "acknowledged") in log and ("out", 1, "sent") in log
    stored = national.data.root / "federation" / "trust_lists" / f"{HANGZHOU}.cose"
    assert stored.exists()


def test_an_unopenable_message_is_logged_as_rejected(keys_only):
    ningbo = keys_only.member(NINGBO)
    with pytest.raises(MessageError):
        accept(ningbo, b"not a message", T0)
    assert _log(ningbo)[0]["status"] == "rejected" and "cose" in _log(ningbo)[0]["reason"]


def _log(member):
    from shuzhi.federation.exchange import messages

    with member.store.session() as session:
        return messages(session)


def test_a_rotated_key_is_trusted_everywhere_once_the_nation_publishes_the_list_its_region_sent(tmp_path):
    """Ningbo rotates its key; its list (signed by the old key) reaches the nation, which publishes a new
    national list and sends it to Hangzhou; then Hangzhou accepts what Ningbo's new key signs."""
    import datetime as dt

    from shuzhi.federation.exchange import publish_national_list

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    federation = keys_only_at(tmp_path, now)
    national, hangzhou, ningbo = (federation.member(r) for r in (NATIONAL, HANGZHOU, NINGBO))
    new = ningbo.keys.generate(NINGBO, now)
    from_new_key = compose(ningbo, HANGZHOU, "handover", now)  # signed by the active, new key
    with pytest.raises(MessageError, match="kid: key .* is not in the trust list"):
        accept(hangzhou, from_new_key, now)

    accept(national, compose(ningbo, NATIONAL, "trust_list", now), now)
    assert new.kid in {k.kid for k in publish_national_list(national, now).keys}
    accept(hangzhou, compose(national, HANGZHOU, "trust_list", now), now)
    hangzhou = federation.member(HANGZHOU)  # as the next process starts: from its stored national list
    answer = open_sealed(accept(hangzhou, from_new_key, now), hangzhou.trust, NINGBO)  # the receipt
    assert answer.body["status"] == "accepted"


def test_the_national_key_rotates_and_members_follow_without_a_new_anchor(tmp_path):
    """The nation makes a new key; its next list (still signed by the old one) carries it to the members;
    once the old key has left trust the nation signs with the new one, and members take that list and roll
    their anchor forward to it: no one hands them a new anchor, and they still start from what they hold."""
    import datetime as dt

    from shuzhi.federation.exchange import NATIONAL_ANCHOR, publish_national_list

    base = dt.datetime.now(dt.UTC).replace(microsecond=0)
    federation = keys_only_at(tmp_path, base)
    national, hangzhou = federation.member(NATIONAL), federation.member(HANGZHOU)
    rotated, later = base + dt.timedelta(days=300), base + dt.timedelta(days=340)  # old national key gone
    new_key = national.keys.generate(NATIONAL, rotated)
    hangzhou.keys.generate(HANGZHOU, rotated)  # so Hangzhou can still sign its receipts later on

    publish_national_list(national, rotated)  # signed by the old key, which still vouches for the new
    accept(hangzhou, compose(national, HANGZHOU, "trust_list", rotated), rotated)
    publish_national_list(national, later)  # signed by the new key alone
    accept(federation.member(HANGZHOU), compose(national, HANGZHOU, "trust_list", later), later)
    assert [(m["seq"], m["status"]) for m in _log(hangzhou) if m["direction"] == "in"] == [
        (2, "accepted"),
        (1, "accepted"),
    ]
    anchor = (federation.members[HANGZHOU].root / "federation" / NATIONAL_ANCHOR).read_bytes()
    from shuzhi.credentials.keys import public_pem

    assert anchor == public_pem(new_key.public_key)
    assert federation.member(HANGZHOU).trust.issued_at == later  # the stored list opens with the new anchor


def test_statistics_rows_are_refused_by_their_own_index_whether_malformed_or_outside_the_sender(tmp_path):
    federation = keys_only_at(tmp_path, T0)
    hangzhou, national = federation.member(HANGZHOU), federation.member(NATIONAL)
    counts = {"new_cases": 1, "new_local_cases": 1, "new_14d": 1, "cumulative": 1}
    row = {"area_level": "county", "day": "2020-02-02", "level": "low", "edition": "2020-5th", **counts}
    rows = [{**row, "area_code": "33010X"}, {**row, "area_code": "330102"}, {**row, "area_code": "320102"}]
    message = Message(HANGZHOU, NATIONAL, "statistics", 1, b"", T0, {"rows": rows}, new_id())
    receipt = open_sealed(accept(national, hangzhou.sign(message), T0), hangzhou.trust, HANGZHOU)
    answer = parse("receipt", receipt.body)
    assert answer.landed == {"regional_statistics": 1}
    assert [(r["row"], r["field"]) for r in answer.rejected_rows] == [(0, "area_code"), (2, "area_code")]
    assert answer.rejected_rows[1]["reason"] == f"outside {HANGZHOU}"
