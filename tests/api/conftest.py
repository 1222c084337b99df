"""An API instance per test: a fresh data directory with its SQLite store, a clock the test moves, and one
logged-in account of every role."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from shuzhi.accounts import Role, create_account
from shuzhi.api import ApiSettings, Verifier, create_app
from shuzhi.store import Account, AuditRecord, Store

T0 = dt.datetime(2020, 2, 10, 9, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery"
RESIDENT_KEY = 4_611_686_018_427_387_904  # person_keys are signed int64 pseudonyms
OTHER_RESIDENT_KEY = -1_234_567_890_123


class Clock:
    """The instance's clock: the test sets and advances it."""

    def __init__(self, now: dt.datetime = T0) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@dataclass
class Instance:
    app: FastAPI
    client: TestClient
    clock: Clock
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def store(self) -> Store:
        return self.app.state.services.store

    def add(self, username: str, role: Role, person_key: int | None = None) -> int:
        with self.store.session() as session:
            return create_account(session, username, PASSWORD, role, self.clock(), person_key).id

    def bearer(self, account_id: int, role: Role) -> dict[str, str]:
        """Headers with a token issued for the account (without the cost of a password check)."""
        token, _claims = self.app.state.services.signer.issue(account_id, role)
        return {"Authorization": f"Bearer {token}"}

    def login(self, username: str, password: str = PASSWORD) -> dict[str, str]:
        response = self.client.post("/auth/token", data={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def audit_records(self, after_seq: int = 0) -> list[AuditRecord]:
        with self.store.session() as session:
            query = select(AuditRecord).where(AuditRecord.seq > after_seq).order_by(AuditRecord.seq)
            return list(session.scalars(query))

    def last_seq(self) -> int:
        records = self.audit_records()
        return records[-1].seq if records else 0


def make_instance(data_dir: Path, verifier: Verifier | None = None) -> Iterator[Instance]:
    """An instance on ``data_dir`` (a copy of the template), its accounts' tokens issued on its clock."""
    clock = Clock()
    app = create_app(ApiSettings(data_dir=data_dir, clock=clock), verifier=verifier)
    with TestClient(app) as client:
        instance = Instance(app, client, clock)
        with instance.store.session() as session:
            for account in session.scalars(select(Account)):
                instance.headers[account.username] = instance.bearer(account.id, Role(account.role))
        yield instance


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with a migrated store, keys and one account per role, named after the role.

    Built once: Argon2id is slow on purpose, so each test copies this folder instead of hashing again."""
    data_dir = tmp_path_factory.mktemp("template") / "data"
    app = create_app(ApiSettings(data_dir=data_dir))
    store: Store = app.state.services.store
    with store.session() as session:
        for role in Role:
            person_key = RESIDENT_KEY if role is Role.RESIDENT else None
            enterprise = ENTERPRISE_CODE if role is Role.ENTERPRISE else None
            create_account(session, role.value, PASSWORD, role, T0, person_key, enterprise)
    store.dispose()
    return data_dir


ENTERPRISE_CODE = "91330100MA2XXXXX1A"  # the enterprise account's firm (as in tests/web/lake.py)


def copy_of(template: Path, tmp_path: Path) -> Path:
    """A private copy of the template data directory."""
    return Path(shutil.copytree(template, tmp_path / "data"))


@pytest.fixture
def instance(template: Path, tmp_path: Path) -> Iterator[Instance]:
    """An instance with accounts 'operator', 'epidemiologist', ..., 'resident' (one per role), with tokens."""
    yield from make_instance(copy_of(template, tmp_path))
