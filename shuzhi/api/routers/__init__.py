"""The API's routers, one per audience; ``ROUTERS`` is what ``create_app`` mounts, in this order.

Later views (the dashboard, health codes and area risk read from the lake) add a module here and an entry in
``ROUTERS``; each endpoint declares its roles and purpose with ``shuzhi.api.access.requires``.
"""

from fastapi import APIRouter

from shuzhi.api.routers import (
    admin,
    auth,
    checkpoint,
    dashboard,
    enterprise,
    federation,
    followup,
    operator,
    public,
    realtime,
    resident,
)

ROUTERS: tuple[APIRouter, ...] = (
    auth.router,
    resident.router,
    checkpoint.router,
    operator.router,
    dashboard.router,
    followup.router,
    enterprise.router,
    realtime.router,
    public.router,
    federation.router,
    admin.router,
)

TAGS = [
    {"name": "auth", "description": "Log in for a bearer token; read one's own account."},
    {
        "name": "resident",
        "description": "A resident's own declarations, appeals, code corrections and access log.",
    },
    {
        "name": "checkpoint",
        "description": "Checkpoint and venue staff: scan a code or certificate, log passage.",
    },
    {
        "name": "operator",
        "description": "Operators, CDC staff and auditors: appeals, manual changes, audit log.",
    },
    {
        "name": "dashboard",
        "description": "Operators and CDC staff: map, codes, index, tracing, follow-up and replay panels.",
    },
    {
        "name": "enterprise",
        "description": "Enterprises apply to return to work; operators review the applications.",
    },
    {
        "name": "realtime",
        "description": "Live venue occupancy, crowd alerts (history and a stream) and venue-code check-ins.",
    },
    {
        "name": "public",
        "description": "Anyone: service health, aggregate statistics, map boundaries and the trust list.",
    },
    {
        "name": "federation",
        "description": "Other regions deliver signed messages; the exchange log; the national view.",
    },
    {"name": "admin", "description": "Administrators: accounts."},
]
