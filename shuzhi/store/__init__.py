"""The operational store: state the platform records while it runs, behind SQLAlchemy, migrated by Alembic.

Owns the tables (``models``), engines and sessions from a URL (``db``: SQLite under the data directory by
default, PostgreSQL by URL), the schema migrations (``migrate``), the workflows of appeals and manual changes
(``workflows``) and the follow-up worklist's live reads of visits and declarations (``visits``). The audit
chain's logic lives in ``shuzhi.audit``, accounts and tokens in ``shuzhi.accounts``; both keep their rows
here.
"""

from shuzhi.store.db import Store, make_engine, sqlite_url
from shuzhi.store.migrate import current_revision, head_revision, pending_changes, revision_of, upgrade
from shuzhi.store.models import (
    Account,
    Appeal,
    AuditRecord,
    Base,
    FederationMessage,
    FollowupVisit,
    HealthDeclaration,
    LoginFailure,
    ManualChange,
    Passage,
    ReturnToWorkApplication,
    TripDeclaration,
)

__all__ = [
    "Account",
    "Appeal",
    "AuditRecord",
    "Base",
    "FederationMessage",
    "FollowupVisit",
    "HealthDeclaration",
    "LoginFailure",
    "ManualChange",
    "Passage",
    "ReturnToWorkApplication",
    "Store",
    "TripDeclaration",
    "current_revision",
    "head_revision",
    "make_engine",
    "pending_changes",
    "revision_of",
    "sqlite_url",
    "upgrade",
]
