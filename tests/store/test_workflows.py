"""Appeals are decided once; a manual colour change needs a second, different operator."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from shuzhi.accounts import Role, create_account
from shuzhi.store import Account, Appeal, ManualChange, Store
from shuzhi.store.workflows import (
    Conflict,
    NotFound,
    changes_in_force,
    decide_appeal,
    decide_change,
    request_change,
)

T0 = dt.datetime(2020, 2, 1, 8, 0, tzinfo=dt.UTC)
PERSON = 7_123_456_789


def _operator(store: Store, name: str) -> Account:
    with store.session() as session:
        return create_account(session, name, "correct horse battery", Role.OPERATOR, T0)


def _request(store: Store, requester: Account, colour: str = "green") -> int:
    with store.session() as session:
        return request_change(session, PERSON, colour, "test negative twice", requester, T0).id


def test_the_requester_cannot_approve_their_own_change(store: Store) -> None:
    alice = _operator(store, "alice")
    change_id = _request(store, alice)
    with pytest.raises(Conflict, match="second operator"), store.session() as session:
        decide_change(session, change_id, alice, approve=True, now=T0)
    with store.session() as session:
        assert session.get(ManualChange, change_id).status == "pending"
        assert changes_in_force(session, PERSON) == []


def test_a_second_operator_approves_and_the_change_is_in_force(store: Store) -> None:
    alice, bob = _operator(store, "alice"), _operator(store, "bob")
    first = _request(store, alice, "yellow")
    second = _request(store, alice, "green")
    with store.session() as session:
        decide_change(session, first, bob, approve=True, now=T0 + dt.timedelta(hours=1))
        decide_change(session, second, bob, approve=True, now=T0 + dt.timedelta(hours=2))
    with store.session() as session:
        in_force = changes_in_force(session, PERSON)
        assert [c.colour for c in in_force] == ["green", "yellow"]
        assert in_force[0].approver.username == "bob" and in_force[0].requester.username == "alice"
        with pytest.raises(Conflict, match="already decided"):
            decide_change(session, first, bob, approve=False, now=T0)


def test_a_rejected_change_is_never_in_force(store: Store) -> None:
    alice = _operator(store, "alice")
    change_id = _request(store, alice)
    with store.session() as session:
        decide_change(session, change_id, alice, approve=False, now=T0)  # withdrawing one's own request
    with store.session() as session:
        assert session.get(ManualChange, change_id).status == "rejected"
        assert changes_in_force(session, PERSON) == []


def test_the_database_refuses_a_self_approval_too(store: Store) -> None:
    alice = _operator(store, "alice")
    change_id = _request(store, alice)
    with pytest.raises(IntegrityError), store.session() as session:
        session.execute(update(ManualChange).where(ManualChange.id == change_id).values(approved_by=alice.id))


def test_an_appeal_is_decided_once(store: Store) -> None:
    carol = _operator(store, "carol")
    with store.session() as session:
        appeal = Appeal(
            person_key=PERSON, created_at=T0, subject="red", text="I was never there", status="pending"
        )
        session.add(appeal)
    with store.session() as session:
        decided = decide_appeal(
            session, appeal.id, carol, upheld=True, decision="trip record corrected", now=T0
        )
        assert (decided.status, decided.decided_by) == ("upheld", carol.id)
    with pytest.raises(Conflict), store.session() as session:
        decide_appeal(session, appeal.id, carol, upheld=False, decision="again", now=T0)
    with pytest.raises(NotFound), store.session() as session:
        decide_appeal(session, 999, carol, upheld=False, decision="none", now=T0)
