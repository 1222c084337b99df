"""Logging in: a username and password (OAuth2 password form) for an expiring bearer token.

Every login and every failed attempt is audited; failed logins in a row lock a username for a while
(:mod:`shuzhi.accounts.lockout`). ``/auth/me`` tells a caller who the token says they are.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuzhi.accounts import Purpose, Role, WrongPassword, authenticate, change_password
from shuzhi.accounts.lockout import LockoutPolicy, clear_failures, locked_until, record_failure
from shuzhi.api.access import ANYONE, Caller, requires
from shuzhi.api.deps import AppServices, DbSession
from shuzhi.api.schemas import AccountOut, PasswordChangeIn, TokenOut
from shuzhi.store.models import Account

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/token",
    response_model=TokenOut,
    responses={429: {"description": "too many failed logins for this username: locked for a while"}},
)
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    caller: Annotated[Caller, requires(roles=ANYONE, purpose=Purpose.AUTHENTICATION)],
    session: DbSession,
    svc: AppServices,
) -> TokenOut:
    """Exchange a username and password for a bearer token (8 h for staff, 30 days for residents).

    After too many failed logins in a row a username is locked for a while (429, with ``Retry-After``)."""
    until = locked_until(session, form.username, caller.now)
    if until is not None:
        caller.record(session, "login_refused_locked", username=form.username[:64])
        session.commit()
        raise _locked(until, caller.now)
    account = authenticate(session, form.username, form.password)
    if account is None:
        _fail(session, caller, form.username, svc.settings.lockout)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "wrong username or password", headers={"WWW-Authenticate": "Bearer"}
        )
    clear_failures(session, form.username)
    token, claims = svc.signer.issue(account.id, Role(account.role))
    dataclasses.replace(caller, account=account).record(
        session, "login", expires_at=claims.expires_at.isoformat()
    )
    return TokenOut(access_token=token, role=claims.role, expires_at=claims.expires_at)


def _fail(session: Session, caller: Caller, username: str, policy: LockoutPolicy) -> None:
    """Count and audit a failed login (locking the username at the policy's count), committed."""
    for attempt in range(2):  # two first failures of one username, racing: the second counts again
        until = record_failure(session, username, caller.now, policy)
        caller.record(session, "login_failed", username=username[:64])
        if until is not None:
            caller.record(session, "login_locked", username=username[:64], until=until.isoformat())
        try:
            session.commit()
            return
        except IntegrityError:
            session.rollback()
            if attempt:
                raise


def _locked(until: dt.datetime, now: dt.datetime) -> HTTPException:
    seconds = max(1, math.ceil((until - now).total_seconds()))
    detail = f"too many failed logins for this username: try again after {until:%Y-%m-%d %H:%M} UTC"
    return HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, detail, headers={"Retry-After": str(seconds)})


@router.post(
    "/password",
    response_model=TokenOut,
    responses={429: {"description": "too many failed logins for this username: locked for a while"}},
)
def change_own_password(
    body: PasswordChangeIn,
    caller: Annotated[Caller, requires(roles=list(Role), purpose=Purpose.AUTHENTICATION)],
    session: DbSession,
    svc: AppServices,
) -> TokenOut:
    """Change one's own password (the current one is asked again): every token issued before ends, on every
    device; the answer carries a fresh one for this device. A wrong current password counts as a failed
    login: a stolen token cannot guess the password either."""
    account = caller.logged_in
    until = locked_until(session, account.username, caller.now)
    if until is not None:
        raise _locked(until, caller.now)
    try:
        change_password(account, body.current_password, body.new_password, caller.now)
    except WrongPassword:
        _fail(session, caller, account.username, svc.settings.lockout)
        raise
    token, claims = svc.signer.issue(account.id, Role(account.role))
    caller.record(session, "change:password", account.person_key)
    return TokenOut(access_token=token, role=claims.role, expires_at=claims.expires_at)


@router.get("/me", response_model=AccountOut)
def me(caller: Annotated[Caller, requires(roles=list(Role), purpose=Purpose.AUTHENTICATION)]) -> Account:
    """The account the bearer token speaks for."""
    return caller.logged_in
