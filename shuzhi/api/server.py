"""Running the API: ``serve(data_dir, host, port)`` under uvicorn, and adding an account from the shell.

``shuzhi serve`` (the main CLI) and ``python -m shuzhi.api serve`` both end here. The first administrator is
created with ``python -m shuzhi.api add-account NAME --role admin`` (password from ``$SHUZHI_PASSWORD`` or a
prompt); everyone after that through ``POST /admin/accounts``.
"""

from __future__ import annotations

from pathlib import Path

import uvicorn

from shuzhi import audit
from shuzhi.accounts import Purpose
from shuzhi.api.app import build_services, create_app
from shuzhi.api.routers.admin import register_account
from shuzhi.api.schemas import AccountIn
from shuzhi.api.settings import ApiSettings
from shuzhi.api.verifier import Verifier
from shuzhi.store.models import Account

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def serve(
    data_dir: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, verifier: Verifier | None = None
) -> None:
    """Serve the API of the instance in ``data_dir`` until interrupted."""
    uvicorn.run(create_app(ApiSettings(data_dir=data_dir), verifier=verifier), host=host, port=port)


def add_account(settings: ApiSettings, spec: AccountIn) -> Account:
    """Create an account from the shell (the way to the first administrator); audited as the shell's act."""
    services = build_services(settings, verifier=None)
    try:
        with services.store.session() as session:
            now = settings.clock()
            account = register_account(session, services, spec, now)
            entry = audit.Entry(
                "shell",
                None,
                "create:accounts",
                Purpose.ACCOUNT_ADMINISTRATION.value,
                account.person_key,
                {"username": account.username, "role": account.role},
            )
            audit.append(session, entry, now)
            return account
    finally:
        services.store.dispose()
