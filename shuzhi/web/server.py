"""Running the platform with its pages: the API app plus this instance's own signing key, under uvicorn.

``serve_dashboard(data_dir, host, port, region)`` is what ``shuzhi serve`` runs: the API of
``shuzhi.api.create_app`` with :func:`shuzhi.api.issuer.local_credentials` (a key for ``region`` under
``<data>/secrets/credentials``, created the first time), so residents get signed codes, checkpoints verify
them (online and, with the published trust list, offline) and the pages are at ``/web/``.
``app_from_env`` is the same app as a uvicorn factory for several worker processes::

    SHUZHI_DATA=DIR uvicorn --factory shuzhi.web.server:app_from_env --workers 2
"""

from __future__ import annotations

import os
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from shuzhi.api import ApiSettings, create_app
from shuzhi.api.issuer import DEFAULT_REGION, local_credentials
from shuzhi.api.server import DEFAULT_HOST, DEFAULT_PORT
from shuzhi.settings import DataDir

REGION_ENV = "SHUZHI_REGION"


def dashboard_app(
    data_dir: Path, region: str = DEFAULT_REGION, settings: ApiSettings | None = None
) -> FastAPI:
    """The API and pages of the instance in ``data_dir``, signing and verifying with its ``region`` key."""
    credentials = local_credentials(Path(data_dir), region)
    return create_app(settings or ApiSettings(data_dir=Path(data_dir)), credentials=credentials)


def app_from_env() -> FastAPI:
    """:func:`dashboard_app` of ``$SHUZHI_DATA`` and ``$SHUZHI_REGION``, as a uvicorn factory."""
    return dashboard_app(DataDir.resolve().root, os.environ.get(REGION_ENV, DEFAULT_REGION))


def serve_dashboard(
    data_dir: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, region: str = DEFAULT_REGION
) -> None:
    """Serve the API and the pages (``/web/``) of the instance in ``data_dir`` until interrupted."""
    uvicorn.run(dashboard_app(data_dir, region), host=host, port=port)
