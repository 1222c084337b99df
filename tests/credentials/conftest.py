"""Fixtures of the credentials tests: a federation of real key stores (see federation.py)."""

from pathlib import Path

import pytest

from .federation import Federation, make_federation


@pytest.fixture
def federation(tmp_path: Path) -> Federation:
    return make_federation(tmp_path)


@pytest.fixture(scope="module")
def module_federation(tmp_path_factory: pytest.TempPathFactory) -> Federation:
    """The same federation, shared by the property tests of a module (key generation is the slow part)."""
    return make_federation(tmp_path_factory.mktemp("federation"))
