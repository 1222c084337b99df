"""Alembic revisions of the operational store, one file per schema change."""
