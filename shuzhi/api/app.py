"""The application factory: one FastAPI app per instance, its services built once from ``ApiSettings``.

``create_app`` migrates the store to the newest schema (unless told not to), loads the token key and the
pseudonym key from ``<data>/secrets``, mounts the routers of every audience and the web pages
(``shuzhi.web.routes``), maps the store's workflow errors to HTTP statuses and seals the app: a route
without a ``requires(...)`` declaration makes creation fail. Given ``credentials`` (``shuzhi.api.issuer``),
the instance signs residents' codes, publishes its trust list and, unless another verifier is given,
verifies scans with it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from shuzhi import __version__
from shuzhi.accounts import AccountError, AccountExists, TokenSigner, load_or_create_key
from shuzhi.api.access import seal
from shuzhi.api.deps import Services
from shuzhi.api.healthcode import NoCode
from shuzhi.api.issuer import InstanceCredentials
from shuzhi.api.results import NotComputed, Results
from shuzhi.api.routers import ROUTERS, TAGS
from shuzhi.api.routers.checkpoint import passage_writer
from shuzhi.api.settings import ApiSettings
from shuzhi.api.verifier import Verifier
from shuzhi.federation.messages import MessageError
from shuzhi.policy import PolicyError
from shuzhi.privacy import Pseudonymiser
from shuzhi.privacy.pseudonym import KEY_FILE_NAME as PSEUDONYM_KEY_FILE
from shuzhi.realtime.live import Realtime
from shuzhi.store import Store, upgrade
from shuzhi.store.workflows import Conflict, NotFound
from shuzhi.supplies import StockError
from shuzhi.web.routes import mount_pages

ERROR_STATUS: dict[type[Exception], int] = {
    NotFound: status.HTTP_404_NOT_FOUND,
    Conflict: status.HTTP_409_CONFLICT,
    AccountExists: status.HTTP_409_CONFLICT,
    AccountError: status.HTTP_422_UNPROCESSABLE_CONTENT,
    NotComputed: status.HTTP_404_NOT_FOUND,
    NoCode: status.HTTP_404_NOT_FOUND,
    PolicyError: status.HTTP_422_UNPROCESSABLE_CONTENT,  # an edition named in a request that does not exist
    StockError: status.HTTP_422_UNPROCESSABLE_CONTENT,
    MessageError: status.HTTP_422_UNPROCESSABLE_CONTENT,  # a federation message that cannot be opened
}


def create_app(
    settings: ApiSettings, verifier: Verifier | None = None, credentials: InstanceCredentials | None = None
) -> FastAPI:
    """The API of one instance; ``verifier`` judges scanned payloads at checkpoints (none: scans get 503).

    ``credentials`` sign residents' codes and give the trust list (and the verifier, if none is given)."""
    if verifier is None and credentials is not None:
        verifier = credentials.verifier()
    services = build_services(settings, verifier)
    realtime = Realtime.for_data(settings.data, settings.clock, store=services.store)  # live occupancy
    services.passage_listeners.append(realtime.committed)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        realtime.start()
        try:
            async with passage_writer(app, services):  # group commit of checkpoint scans
                yield
        finally:
            realtime.stop()
            services.store.dispose()

    app = FastAPI(
        title="shuzhi 数治",
        summary="Govern a public-health emergency with data: one map, one code, one index.",
        version=__version__,
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.credentials = credentials
    app.state.results = Results(settings.data)
    app.state.realtime = realtime
    for router in ROUTERS:
        app.include_router(router)
    mount_pages(app)
    for error, code in ERROR_STATUS.items():
        app.add_exception_handler(error, _responder(code))
    seal(app)
    return app


def build_services(settings: ApiSettings, verifier: Verifier | None) -> Services:
    if settings.migrate:
        upgrade(settings.store_url)
    secrets = settings.data.secrets
    return Services(
        settings=settings,
        store=Store(settings.store_url),
        signer=TokenSigner(load_or_create_key(secrets), settings.tokens, settings.clock),
        pseudonyms=Pseudonymiser.from_file(secrets / PSEUDONYM_KEY_FILE),
        verifier=verifier,
    )


def _responder(code: int):
    async def respond(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": _detail(code, exc)}, status_code=code)

    return respond


def _detail(code: int, exc: Exception) -> str | list[dict[str, object]]:
    """The message; for 422, in the shape OpenAPI documents for it (FastAPI's ``HTTPValidationError``)."""
    if code == status.HTTP_422_UNPROCESSABLE_CONTENT:
        return [{"loc": ["body"], "msg": str(exc), "type": "value_error"}]
    return str(exc)
