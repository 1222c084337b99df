"""Delivery at least once: unanswered messages go again, in order, until answered; a repeat lands nothing."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from shuzhi.credentials.keys import NATIONAL
from shuzhi.federation.delivery import (
    Courier,
    deliver_everywhere,
    deliver_pending,
    in_process,
    peers,
    pending,
    remember,
)
from shuzhi.federation.exchange import accept, acknowledge, compose
from shuzhi.store import FederationMessage

from .conftest import HANGZHOU, NINGBO, T0, keys_only_at


def _to(member):
    """A transport into ``member``'s inbox, answering as the HTTP endpoint does."""
    return in_process({"inbox": member}, T0)("inbox")


def _down(sealed: bytes) -> tuple[int, bytes]:
    raise ConnectionError("network down")


def test_unanswered_messages_go_again_in_order_and_a_repeat_lands_nothing(keys_only):
    hangzhou, national = keys_only.member(HANGZHOU), keys_only.member(NATIONAL)
    first, _second = (compose(hangzhou, NATIONAL, "trust_list", T0) for _ in range(2))
    with pytest.raises(ConnectionError):
        deliver_pending(hangzhou, NATIONAL, _down, T0)
    assert [m.seq for m in pending(hangzhou, NATIONAL)] == [1, 2]

    accept(
        national, first, T0
    )  # the first got through once already (say, by file): its repeat is a duplicate
    done = deliver_pending(hangzhou, NATIONAL, _to(national), T0)
    assert [(d.seq, d.receipt.status) for d in done] == [(1, "duplicate"), (2, "accepted")]
    assert not pending(hangzhou, NATIONAL)


def test_a_message_the_receiver_cannot_open_leaves_the_chain_and_the_next_takes_its_number(keys_only):
    hangzhou, national = keys_only.member(HANGZHOU), keys_only.member(NATIONAL)
    compose(hangzhou, NATIONAL, "trust_list", T0)

    def garbled(sealed: bytes) -> tuple[int, bytes]:
        return _to(national)(sealed[:-1] + bytes([sealed[-1] ^ 1]))  # one bit flipped on the way

    done = deliver_pending(hangzhou, NATIONAL, garbled, T0)
    assert done[0].receipt is None and done[0].refusal.startswith("signature")
    refused = done[0].seq
    compose(hangzhou, NATIONAL, "trust_list", T0)
    again = deliver_pending(hangzhou, NATIONAL, _to(national), T0)
    assert [(d.seq, d.receipt.status) for d in again] == [(refused, "accepted")]  # the same number, accepted


def test_two_deliveries_of_one_message_at_once_land_it_once(keys_only, database_url):
    """Two workers take the same message at the same moment: one accepts it, the other answers duplicate."""
    from concurrent.futures import ThreadPoolExecutor
    from dataclasses import replace

    from sqlalchemy import func, select

    from shuzhi.federation.bodies import parse
    from shuzhi.federation.messages import open_sealed
    from shuzhi.store import FederationMessage, Store, upgrade

    upgrade(database_url)
    national = replace(keys_only.member(NATIONAL), store=Store(database_url))
    hangzhou = keys_only.member(HANGZHOU)
    sealed = hangzhou.sign(_first_message())  # the first of a new chain, to a fresh store
    with ThreadPoolExecutor(2) as pool:
        receipts = list(pool.map(lambda _: accept(national, sealed, T0), range(2)))
    answers = [parse("receipt", open_sealed(r, hangzhou.trust, HANGZHOU).body) for r in receipts]
    assert sorted(a.status for a in answers) == ["accepted", "duplicate"], [a.reason for a in answers]
    with national.store.session() as session:
        accepted = select(func.count()).where(FederationMessage.status == "accepted")
        assert session.scalar(accepted) == 1


def test_a_courier_takes_every_regions_unanswered_messages_out_round_after_round(tmp_path):
    federation = keys_only_at(tmp_path, T0)
    hangzhou, national = federation.member(HANGZHOU), federation.member(NATIONAL)
    remember(hangzhou.data, NATIONAL, "http://national.example:8000/")
    remember(hangzhou.data, NINGBO, "https://ningbo.example")
    assert peers(hangzhou.data) == {
        NATIONAL: "http://national.example:8000",
        NINGBO: "https://ningbo.example",
    }
    for _ in range(2):
        compose(hangzhou, NATIONAL, "trust_list", T0)
    network = {"up": False}

    def transport(url: str):
        assert url == "http://national.example:8000"  # Ningbo has nothing waiting: not called
        return _to(national) if network["up"] else _down

    first = deliver_everywhere(hangzhou, T0, transport)
    assert isinstance(first[NATIONAL], ConnectionError) and len(pending(hangzhou, NATIONAL)) == 2

    network["up"] = True
    courier = Courier(hangzhou, every=0.05, transport=transport).start()
    try:
        deadline = time.monotonic() + 10
        while pending(hangzhou, NATIONAL) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        courier.stop()
    assert not pending(hangzhou, NATIONAL) and courier.rounds >= 1
    with hangzhou.store.session() as session:
        sent = session.scalars(select(FederationMessage).where(FederationMessage.direction == "out")).all()
        assert [(m.seq, m.status, m.outcome["status"]) for m in sent] == [
            (1, "acknowledged", "accepted"),
            (2, "acknowledged", "accepted"),
        ]


def test_a_repeat_answered_after_the_first_does_not_overwrite_what_the_first_receipt_says(tmp_path):
    federation = keys_only_at(tmp_path, T0)
    hangzhou, national = federation.member(HANGZHOU), federation.member(NATIONAL)
    sealed = compose(hangzhou, NATIONAL, "trust_list", T0)
    first = acknowledge(hangzhou, accept(national, sealed, T0), T0)
    repeat = acknowledge(hangzhou, accept(national, sealed, T0), T0)  # say, the courier's crossing a send
    assert (first.status, repeat.status) == ("accepted", "duplicate")
    with hangzhou.store.session() as session:
        kept = session.scalars(select(FederationMessage).where(FederationMessage.direction == "out")).one()
        assert (kept.status, kept.outcome["status"]) == ("acknowledged", "accepted")


def test_a_peer_url_must_be_http(tmp_path):
    hangzhou = keys_only_at(tmp_path, T0).member(HANGZHOU)
    with pytest.raises(ValueError, match="url: 'ftp://ningbo' is not an http"):
        remember(hangzhou.data, NINGBO, "ftp://ningbo")


def _first_message():
    from shuzhi.federation.messages import Message, new_id

    return Message(HANGZHOU, NATIONAL, "statistics", 1, b"", T0, {"rows": []}, new_id())
