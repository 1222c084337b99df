"""The supplies spec tests use the risk tests' fixtures: an engine per backend, edited editions."""

from risk.conftest import edition, engine  # noqa: F401
