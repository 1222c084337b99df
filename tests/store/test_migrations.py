"""Migrations bring an empty database to the head revision, and the head describes the models exactly."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from shuzhi.store import Base, current_revision, head_revision, make_engine, pending_changes, upgrade
from shuzhi.store.migrate import alembic_config


def test_upgrade_empty_database_to_head(database_url: str) -> None:
    assert current_revision(database_url) is None
    upgrade(database_url)
    assert current_revision(database_url) == head_revision()
    engine = make_engine(database_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(Base.metadata.tables) <= tables


def test_models_match_migrations(database_url: str) -> None:
    upgrade(database_url)
    assert pending_changes(database_url) == []


def test_upgrade_is_idempotent_and_reversible(database_url: str) -> None:
    upgrade(database_url)
    upgrade(database_url)
    command.downgrade(alembic_config(database_url), "base")
    assert current_revision(database_url) is None
    upgrade(database_url)
    assert pending_changes(database_url) == []


def test_an_unmigrated_model_change_is_seen(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP INDEX ix_passages_checkpoint_code")
    engine.dispose()
    assert [diff[0] for diff in pending_changes(database_url)] == ["add_index"]
