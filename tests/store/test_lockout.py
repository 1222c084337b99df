"""The login lockout's counts in the store, on every database: the fifth failure in a row locks, the lock runs
out, a success clears the count, a username longer than an account's is counted by its prefix."""

from __future__ import annotations

import datetime as dt

from shuzhi.accounts.lockout import LockoutPolicy, clear_failures, locked_until, record_failure
from shuzhi.store import Store

T0 = dt.datetime(2020, 2, 10, 9, 0, tzinfo=dt.UTC)
POLICY = LockoutPolicy(max_failures=3, lock=dt.timedelta(minutes=10))


def _fail(store: Store, username: str, at: dt.datetime) -> dt.datetime | None:
    with store.session() as session:
        return record_failure(session, username, at, POLICY)


def _locked(store: Store, username: str, at: dt.datetime) -> dt.datetime | None:
    with store.session(write=False) as session:
        return locked_until(session, username, at)


def test_failures_in_a_row_lock_until_the_lock_runs_out(store: Store) -> None:
    assert [_fail(store, "operator", T0) for _ in range(2)] == [None, None]
    assert _locked(store, "operator", T0) is None
    until = T0 + dt.timedelta(minutes=10)
    assert _fail(store, "operator", T0) == until and _locked(store, "operator", T0) == until
    assert _locked(store, "operator", until) is None
    assert _fail(store, "operator", until) is None  # a fresh count after the lock
    with store.session() as session:
        clear_failures(session, "operator")
    assert [_fail(store, "operator", until) for _ in range(2)] == [None, None]


def test_a_long_username_is_counted_by_the_prefix_an_account_could_have(store: Store) -> None:
    long = "x" * 200
    for _ in range(3):
        _fail(store, long, T0)
    assert _locked(store, "x" * 64, T0) == T0 + dt.timedelta(minutes=10)
