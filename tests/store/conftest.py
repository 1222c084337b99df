"""Store fixtures: every store test runs on the databases of ``database_url`` (tests/conftest.py): SQLite in a
temporary folder and, when ``SHUZHI_TEST_PG_URL`` names a PostgreSQL database (emptied before each test),
PostgreSQL too."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shuzhi.store import Store, upgrade


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A store migrated to the newest schema."""
    upgrade(database_url)
    opened = Store(database_url)
    yield opened
    opened.dispose()
