"""Alembic environment of the operational store, configured from code by ``shuzhi.store.migrate``.

The URL arrives in ``config.attributes["url"]``; the engine is built by :func:`shuzhi.store.db.make_engine` so
migrations run with the same SQLite pragmas as the application. Batch mode lets SQLite alter tables.
Revisions render a model's own column types (``TypeDecorator``) as their plain SQL type, so no revision
imports the models.
"""

from typing import Any

from alembic import context
from sqlalchemy import TypeDecorator

from shuzhi.store.db import make_engine
from shuzhi.store.models import Base


def render_item(kind: str, obj: Any, _context: Any) -> str | bool:
    if kind == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def run_migrations_online() -> None:
    engine = make_engine(context.config.attributes["url"])
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=True,
                compare_type=True,
                render_item=render_item,
            )
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
    finally:
        engine.dispose()


run_migrations_online()
