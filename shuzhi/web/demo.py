"""Demo logins: one account per role, with fresh random passwords, to try the pages on a demo province.

``demo_accounts(data_dir)`` creates (or, run again, gives new passwords to) ``demo-operator``,
``demo-operator2`` (a second operator: manual changes need four eyes), ``demo-epidemiologist``,
``demo-checkpoint``, ``demo-auditor``, ``demo-admin`` and ``demo-resident``, bound to a resident without an
account whose code the pipeline coloured red (else yellow, else any) so the resident page has something to
explain.
Every creation and reset is written to the audit log as the shell's act.
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

import ibis
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuzhi import audit
from shuzhi.accounts import Purpose, Role, create_account, find_account, hash_password
from shuzhi.api.results import Results
from shuzhi.api.settings import ApiSettings
from shuzhi.store import Account, Store, upgrade

PREFIX = "demo-"
STAFF_LOGINS = (
    ("operator", Role.OPERATOR),
    ("operator2", Role.OPERATOR),
    ("epidemiologist", Role.EPIDEMIOLOGIST),
    ("checkpoint", Role.CHECKPOINT),
    ("auditor", Role.AUDITOR),
    ("admin", Role.ADMIN),
)
COLOURS_WANTED = ("red", "yellow", "green")


def demo_accounts(data_dir: Path) -> list[tuple[str, str, str]]:
    """``(username, password, role)`` of every demo account, created or given a new password."""
    settings = ApiSettings(data_dir=Path(data_dir))
    upgrade(settings.store_url)
    store = Store(settings.store_url)
    try:
        with store.session() as session:
            found = Results(settings.data)
            resident = demo_resident(found, _taken(session))
            logins = [(name, role, None) for name, role in STAFF_LOGINS]
            if resident is not None:
                logins.append(("resident", Role.RESIDENT, resident))
            firm = demo_enterprise(found)
            if firm is not None:
                logins.append(("enterprise", Role.ENTERPRISE, firm))
            now = settings.clock()
            return [_ensure(session, PREFIX + name, role, key, now) for name, role, key in logins]
    finally:
        store.dispose()


def demo_resident(found: Results, taken: set[int], candidates: int = 100) -> int | None:
    """A resident with a red code, else yellow, else any, who has no account yet (other than the demo's)."""
    if not found.has("codes"):
        return None
    for colour in COLOURS_WANTED:
        rows = found.rows(
            "codes", lambda t, c=colour: t.filter(t.colour == c).order_by("person_key").limit(candidates)
        )
        free = [r["person_key"] for r in rows if r["person_key"] not in taken]
        if free:
            return free[0]
    return None


def demo_enterprise(found: Results) -> str | None:
    """The enterprise with the most registered staff, for the demo's enterprise account."""
    if not found.has("employments"):
        return None
    rows = found.rows(
        "employments",
        lambda t: (
            t.group_by("enterprise_code")
            .aggregate(staff=t.count())
            .order_by([ibis.desc("staff"), "enterprise_code"])
            .limit(1)
        ),
    )
    return rows[0]["enterprise_code"] if rows else None


def _taken(session: Session) -> set[int]:
    """Persons who have a resident account other than the demo resident's."""
    query = select(Account.person_key).where(
        Account.person_key.is_not(None), Account.username != PREFIX + "resident"
    )
    return set(session.scalars(query))


def _ensure(
    session: Session, username: str, role: Role, bound: int | str | None, now: dt.datetime
) -> tuple[str, str, str]:
    """The demo account ``username`` with a new password; ``bound`` is a resident's person_key or an
    enterprise's code."""
    person_key = bound if role is Role.RESIDENT else None
    enterprise_code = bound if role is Role.ENTERPRISE else None
    password = secrets.token_urlsafe(12)
    account = find_account(session, username)
    if account is None:
        account = create_account(session, username, password, role, now, person_key, enterprise_code)
        _audit(session, "create:accounts", account, now)
    else:
        account.password_hash = hash_password(password)
        account.role, account.active = role.value, True
        if person_key is not None:
            account.person_key = person_key
        if enterprise_code is not None:
            account.enterprise_code = enterprise_code
        _audit(session, "update:accounts", account, now)
    return username, password, role.value


def _audit(session: Session, action: str, account: Account, now: dt.datetime) -> None:
    detail = {"username": account.username, "role": account.role, "demo": True}
    entry = audit.Entry(
        "shell", None, action, Purpose.ACCOUNT_ADMINISTRATION.value, account.person_key, detail
    )
    audit.append(session, entry, now)
