"""The platform's HTTP API (FastAPI, OpenAPI): routers by audience, declared access on every endpoint.

``create_app(settings, verifier=None)`` builds the app of one instance; ``serve(data_dir, host, port)`` runs
it under uvicorn. Modules: ``settings`` (what an instance is configured with), ``deps`` (services and a store
session per request), ``access`` (``requires(roles=..., purpose=...)`` and the registry of declarations),
``schemas`` (bodies), ``verifier`` (the checkpoint's pluggable credential verifier), ``routers`` (auth,
resident, checkpoint, operator, public, admin), ``app`` (the factory), ``server`` (uvicorn, shell accounts).
"""

from shuzhi.api.access import ANYONE, Caller, Operation, operations, requires
from shuzhi.api.app import create_app
from shuzhi.api.server import add_account, serve
from shuzhi.api.settings import ApiSettings
from shuzhi.api.verifier import CheckpointVerdict, Verdict, Verifier, credentials_verifier

__all__ = [
    "ANYONE",
    "ApiSettings",
    "Caller",
    "CheckpointVerdict",
    "Operation",
    "Verdict",
    "Verifier",
    "add_account",
    "create_app",
    "credentials_verifier",
    "operations",
    "requires",
    "serve",
]
