"""Privacy fixtures: a store on each database of ``database_url`` (SQLite; PostgreSQL when configured)."""

from store.conftest import store  # noqa: F401
