"""Accounts in the store: creating them, checking a password, resolving a token to a live account.

A resident account is bound to one ``person_key`` (the pseudonym of their ID number); staff accounts are bound
to none. Usernames are case-insensitive (stored lower-case).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuzhi.accounts.passwords import DUMMY_HASH, hash_password, needs_rehash, verify_password
from shuzhi.accounts.roles import Role
from shuzhi.accounts.tokens import Claims
from shuzhi.store.models import Account


class AccountError(ValueError):
    """An account cannot be created as asked."""


class AccountExists(AccountError):
    """The username, or the person's resident account, exists already."""


class WrongPassword(AccountError):
    """The current password given to change it is wrong (counted as a failed login)."""


def create_account(
    session: Session,
    username: str,
    password: str,
    role: Role,
    now: dt.datetime,
    person_key: int | None = None,
    enterprise_code: str | None = None,
) -> Account:
    """Add an account; a resident needs a ``person_key`` and an enterprise its ``enterprise_code`` (the
    unified social credit code); no other account has either."""
    if (role is Role.RESIDENT) != (person_key is not None):
        raise AccountError("a resident account needs a person_key and a staff account must not have one")
    if (role is Role.ENTERPRISE) != (enterprise_code is not None):
        raise AccountError("an enterprise account needs an enterprise_code and no other account has one")
    name = normal_username(username)
    if find_account(session, name) is not None:
        raise AccountExists(f"username {name!r} is taken")
    if person_key is not None and session.scalar(select(Account.id).where(Account.person_key == person_key)):
        raise AccountExists("this person already has a resident account")
    account = Account(
        username=name,
        role=role.value,
        password_hash=hash_password(password),
        active=True,
        person_key=person_key,
        enterprise_code=enterprise_code,
        created_at=now,
    )
    session.add(account)
    session.flush()
    return account


def normal_username(username: str) -> str:
    """Usernames are case-insensitive: the form they are kept and looked up in."""
    return username.strip().lower()


def find_account(session: Session, username: str) -> Account | None:
    return session.scalar(select(Account).where(Account.username == normal_username(username)))


def authenticate(session: Session, username: str, password: str) -> Account | None:
    """The active account with this username and password, else None (in the same time either way)."""
    account = find_account(session, username)
    if account is None:
        verify_password(DUMMY_HASH, password)
        return None
    if not verify_password(account.password_hash, password) or not account.active:
        return None
    if needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    return account


def speaks_for(account: Account | None, claims: Claims) -> bool:
    """Whether a token still speaks for ``account``: it is active, has the token's role, and its password
    has not been changed (or reset) since the token was issued."""
    if account is None or not account.active or account.role != claims.role.value:
        return False
    changed = account.credentials_changed_at
    return changed is None or claims.issued_at >= changed


def account_for(session: Session, claims: Claims) -> Account | None:
    """The account a token speaks for (see :func:`speaks_for`), else None."""
    account = session.get(Account, claims.account_id)
    return account if speaks_for(account, claims) else None


def set_password(account: Account, password: str, now: dt.datetime) -> None:
    """A new password for ``account``; the tokens issued before now stop speaking for it."""
    try:
        account.password_hash = hash_password(password)
    except ValueError as exc:
        raise AccountError(f"password: {exc}") from exc
    account.credentials_changed_at = now.replace(microsecond=0)  # tokens carry whole seconds


def change_password(account: Account, current: str, new: str, now: dt.datetime) -> None:
    """The account holder's own change: the current password must be right, and the new one differ."""
    if not verify_password(account.password_hash, current):
        raise WrongPassword("current_password: wrong password")
    if new == current:
        raise AccountError("new_password: the same as the current one")
    set_password(account, new, now)
