"""Failed logins in a row lock a username for a while, counted in the store so that every worker counts them.

Passwords guessed online are tried at the login endpoint. After ``max_failures`` failures in a row the
username is refused for ``lock`` — its password is not even checked — whether or not an account has that
name, so a refusal tells nobody which usernames exist; names are counted as accounts are looked up
(case-insensitive). A successful login, or a password reset by an administrator, clears the count; a failure
after a lock has run out starts a fresh count. Each lock is audited by the endpoint.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from shuzhi.accounts.service import normal_username
from shuzhi.store.models import LoginFailure

USERNAME_LENGTH = 64  # the longest username an account may have: longer attempts are counted by this prefix


@dataclass(frozen=True)
class LockoutPolicy:
    """How many failed logins in a row lock a username, and for how long."""

    max_failures: int = 5
    lock: dt.timedelta = dt.timedelta(minutes=15)


def locked_until(session: Session, username: str, now: dt.datetime) -> dt.datetime | None:
    """When the username's lock ends, if it is locked at ``now``."""
    row = session.get(LoginFailure, _key(username))
    if row is None or row.locked_until is None or row.locked_until <= now:
        return None
    return row.locked_until


def record_failure(
    session: Session, username: str, now: dt.datetime, policy: LockoutPolicy
) -> dt.datetime | None:
    """Count a failed login; when it is the ``max_failures``-th in a row, lock the username and return until
    when (else None). The caller commits."""
    key = _key(username)
    row = session.get(LoginFailure, key, with_for_update=True)
    if row is None:
        row = LoginFailure(username=key, failures=0, last_failed_at=now)
        session.add(row)
    elif row.locked_until is not None and row.locked_until <= now:
        row.failures, row.locked_until = 0, None  # the lock ran out: a fresh count
    row.failures += 1
    row.last_failed_at = now
    if row.failures >= policy.max_failures:
        row.locked_until = now + policy.lock
        return row.locked_until
    return None


def clear_failures(session: Session, username: str) -> None:
    """A successful login: the count starts again from nothing."""
    row = session.get(LoginFailure, _key(username))
    if row is not None:
        session.delete(row)


def _key(username: str) -> str:
    """Counted as accounts are looked up: case-insensitive, by the length an account's name may have."""
    return normal_username(username)[:USERNAME_LENGTH]
