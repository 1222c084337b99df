"""What one API instance is configured with: its data directory, store URL, token lifetimes, login lockout
and clock.

Secrets (the token key, the pseudonym key) are read from ``<data>/secrets``; the store defaults to SQLite at
``<data>/shuzhi.db`` and takes any SQLAlchemy URL (PostgreSQL at scale) from ``database_url`` or
``$SHUZHI_DATABASE_URL``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from shuzhi.accounts import Clock, TokenPolicy, utcnow
from shuzhi.accounts.lockout import LockoutPolicy
from shuzhi.settings import DataDir
from shuzhi.store import sqlite_url

DATABASE_URL_ENV = "SHUZHI_DATABASE_URL"


@dataclass(frozen=True)
class ApiSettings:
    data_dir: Path
    database_url: str | None = None
    tokens: TokenPolicy = field(default_factory=TokenPolicy)
    lockout: LockoutPolicy = field(default_factory=LockoutPolicy)
    clock: Clock = utcnow
    migrate: bool = True  # bring the store to the newest schema when the app is created

    @property
    def data(self) -> DataDir:
        return DataDir(Path(self.data_dir).resolve())

    @property
    def store_url(self) -> str:
        return self.database_url or os.environ.get(DATABASE_URL_ENV) or sqlite_url(self.data.root)
