"""An instance with fixture results and one account per role: what the web tests and the schemathesis run
call, in process or under uvicorn."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI

from shuzhi.accounts import Role, create_account, find_account
from shuzhi.api.issuer import KEY_STORE_DIR, InstanceCredentials
from shuzhi.credentials.keys import KeyStore
from shuzhi.settings import DataDir
from shuzhi.web.server import dashboard_app

from .lake import ENTERPRISE_CODE, GREEN_KEY, RESIDENT_KEY, Fixture, write_results

PASSWORD = "correct horse battery"
REGION = "330100"


@dataclass
class Site:
    """An instance with fixture results: its app, data directory and, once served, its URL."""

    app: FastAPI
    data: DataDir
    fixture: Fixture
    url: str = ""
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def credentials(self) -> InstanceCredentials:
        return self.app.state.credentials

    def headers(self, username: str) -> dict[str, str]:
        """Bearer headers of an account (a token issued directly: no password hashing)."""
        if username not in self.tokens:
            with self.app.state.services.store.session() as session:
                account = find_account(session, username)
                token, _ = self.app.state.services.signer.issue(account.id, Role(account.role))
            self.tokens[username] = token
        return {"Authorization": f"Bearer {self.tokens[username]}"}


def build_site(root: Path) -> Site:
    """Fixture results and one account per role (named after it), plus a resident with a green code."""
    data = DataDir(root)
    fixture = write_results(data)
    a_day_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    KeyStore(data.secrets / KEY_STORE_DIR).generate(REGION, a_day_ago)  # may sign codes of the past hour
    app = dashboard_app(data.root, REGION)
    accounts = [(role.value, role, RESIDENT_KEY if role is Role.RESIDENT else None) for role in Role]
    accounts.append(("green-resident", Role.RESIDENT, GREEN_KEY))
    with app.state.services.store.session() as session:
        for username, role, key in accounts:
            enterprise = ENTERPRISE_CODE if role is Role.ENTERPRISE else None
            create_account(session, username, PASSWORD, role, app.state.services.clock(), key, enterprise)
    return Site(app, data, fixture)
