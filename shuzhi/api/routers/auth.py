"""Logging in: a username and password (OAuth2 password form) for an expiring bearer token.

Every login and every failed attempt is audited. ``/auth/me`` tells a caller who the token says they are.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm

from shuzhi.accounts import Purpose, Role, authenticate
from shuzhi.api.access import ANYONE, Caller, requires
from shuzhi.api.deps import AppServices, DbSession
from shuzhi.api.schemas import AccountOut, TokenOut
from shuzhi.store.models import Account

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=TokenOut)
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    caller: Annotated[Caller, requires(roles=ANYONE, purpose=Purpose.AUTHENTICATION)],
    session: DbSession,
    svc: AppServices,
) -> TokenOut:
    """Exchange a username and password for a bearer token (8 h for staff, 30 days for residents)."""
    account = authenticate(session, form.username, form.password)
    if account is None:
        caller.record(session, "login_failed", username=form.username[:64])
        session.commit()
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "wrong username or password", headers={"WWW-Authenticate": "Bearer"}
        )
    token, claims = svc.signer.issue(account.id, Role(account.role))
    dataclasses.replace(caller, account=account).record(
        session, "login", expires_at=claims.expires_at.isoformat()
    )
    return TokenOut(access_token=token, role=claims.role, expires_at=claims.expires_at)


@router.get("/me", response_model=AccountOut)
def me(caller: Annotated[Caller, requires(roles=list(Role), purpose=Purpose.AUTHENTICATION)]) -> Account:
    """The account the bearer token speaks for."""
    return caller.logged_in
