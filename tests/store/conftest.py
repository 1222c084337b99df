"""Store fixtures: every store test runs on SQLite in a temporary folder and, when ``SHUZHI_TEST_PG_URL``
names a PostgreSQL database (emptied before each test), on PostgreSQL too."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from shuzhi.store import Base, Store, make_engine, sqlite_url, upgrade

PG_URL = os.environ.get("SHUZHI_TEST_PG_URL")


def _emptied(url: str) -> str:
    engine = make_engine(url)
    with engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    return url


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param(
            "postgresql",
            id="postgresql",
            marks=pytest.mark.skipif(PG_URL is None, reason="set SHUZHI_TEST_PG_URL to run on PostgreSQL"),
        ),
    ]
)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a fresh SQLite file, or the emptied PostgreSQL database of SHUZHI_TEST_PG_URL."""
    return sqlite_url(tmp_path) if request.param == "sqlite" else _emptied(PG_URL or "")


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    """A store migrated to the newest schema."""
    upgrade(url)
    opened = Store(url)
    yield opened
    opened.dispose()
