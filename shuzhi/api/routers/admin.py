"""Administrators: create, list and (de)activate accounts, and reset a forgotten password.

A resident account is created from the resident's GB 11643 ID number, which is validated, turned into the
instance's keyed pseudonym (``shuzhi.privacy``) and dropped: only the ``person_key`` is stored.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuzhi import idcard, regions
from shuzhi.accounts import AccountError, Purpose, Role, create_account, set_password
from shuzhi.accounts.lockout import clear_failures
from shuzhi.api.access import Caller, requires
from shuzhi.api.deps import AppServices, DbSession, Services
from shuzhi.api.schemas import AccountIn, AccountOut, AccountPatch, RowId
from shuzhi.store.models import Account
from shuzhi.store.workflows import get_or_raise

router = APIRouter(prefix="/admin", tags=["admin"])
Admin = Annotated[Caller, requires(roles=[Role.ADMIN], purpose=Purpose.ACCOUNT_ADMINISTRATION)]


def register_account(session: Session, svc: Services, spec: AccountIn, now: dt.datetime) -> Account:
    """Create the account ``spec`` describes, pseudonymising a resident's ID number."""
    person_key = None
    if spec.id_number is not None:
        problem = idcard.validate(spec.id_number, regions.province_prefixes(), now.date())
        if problem is not None:
            raise AccountError(f"id_number: {problem.detail}")
        person_key = svc.pseudonyms.key(spec.id_number)
    return create_account(
        session,
        spec.username,
        spec.password,
        spec.role,
        now,
        person_key=person_key,
        enterprise_code=spec.enterprise_code,
    )


@router.post("/accounts", response_model=AccountOut, status_code=status.HTTP_201_CREATED)
def add_account(body: AccountIn, caller: Admin, session: DbSession, svc: AppServices) -> Account:
    """Create an account; a resident's needs their ID number, a staff account must have none."""
    account = register_account(session, svc, body, caller.now)
    caller.record(
        session, "create:accounts", account.person_key, username=account.username, role=account.role
    )
    return account


@router.get("/accounts", response_model=list[AccountOut])
def accounts(caller: Admin, session: DbSession) -> list[Account]:
    """Every account (without password hashes or person keys)."""
    return list(session.scalars(select(Account).order_by(Account.id)))


@router.patch("/accounts/{account_id}", response_model=AccountOut)
def update_account(account_id: RowId, body: AccountPatch, caller: Admin, session: DbSession) -> Account:
    """Deactivate or reactivate an account, or give it a new password (a forgotten one): either way its
    tokens stop working at once; a new password also lifts a login lock."""
    account = get_or_raise(session, Account, account_id)
    if body.active is not None:
        account.active = body.active
    if body.password is not None:
        set_password(account, body.password, caller.now)
        clear_failures(session, account.username)
    changed = {"active": body.active, "password_reset": body.password is not None}
    caller.record(session, "update:accounts", account.person_key, username=account.username, **changed)
    return account
