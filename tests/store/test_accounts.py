"""Accounts in the store: Argon2id hashes, one resident account per person, login by password."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.exc import IntegrityError

from shuzhi.accounts import AccountError, AccountExists, Role, authenticate, create_account
from shuzhi.store import Account, Store

T0 = dt.datetime(2020, 2, 1, 8, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery"


def test_passwords_are_kept_as_argon2id_hashes(store: Store) -> None:
    with store.session() as session:
        account = create_account(session, "Alice", PASSWORD, Role.OPERATOR, T0)
    assert account.username == "alice"
    assert account.password_hash.startswith("$argon2id$") and PASSWORD not in account.password_hash
    with store.session() as session:
        assert authenticate(session, "ALICE", PASSWORD).id == account.id
        assert authenticate(session, "alice", "wrong password!") is None
        assert authenticate(session, "nobody", PASSWORD) is None


def test_an_inactive_account_cannot_log_in(store: Store) -> None:
    with store.session() as session:
        create_account(session, "alice", PASSWORD, Role.OPERATOR, T0).active = False
    with store.session() as session:
        assert authenticate(session, "alice", PASSWORD) is None


def test_residents_are_bound_to_one_person_and_staff_to_none(store: Store) -> None:
    with store.session() as session:
        create_account(session, "r1", PASSWORD, Role.RESIDENT, T0, person_key=-42)
        with pytest.raises(AccountExists):
            create_account(session, "r2", PASSWORD, Role.RESIDENT, T0, person_key=-42)
        with pytest.raises(AccountExists):
            create_account(session, "R1", PASSWORD, Role.OPERATOR, T0)
        with pytest.raises(AccountError):
            create_account(session, "r3", PASSWORD, Role.RESIDENT, T0)
        with pytest.raises(AccountError):
            create_account(session, "op", PASSWORD, Role.OPERATOR, T0, person_key=7)
        with pytest.raises(ValueError, match="at least"):
            create_account(session, "op", "short", Role.OPERATOR, T0)


def test_the_database_binds_residents_to_persons_too(store: Store) -> None:
    with pytest.raises(IntegrityError), store.session() as session:
        session.add(Account(username="x", role="resident", password_hash="h", active=True, created_at=T0))
