"""What every request can depend on: the instance's services and a store session per request.

``Services`` is built once by ``create_app`` and kept on ``app.state``; ``db_session`` opens one session per
request whose transaction commits when the endpoint returns and rolls back when it raises — before the
response is sent (``scope="function"``), so a client never sees a success that was not committed. Endpoints
that only read (anonymous GETs, listed by ``shuzhi.api.access.seal``) get a read-only session: on SQLite a
deferred transaction that neither takes nor waits for the write lock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from shuzhi.accounts import Clock, TokenSigner
from shuzhi.api.settings import ApiSettings
from shuzhi.api.verifier import Verifier
from shuzhi.privacy import Pseudonymiser
from shuzhi.store import Store
from shuzhi.store.models import Passage

log = logging.getLogger(__name__)

PassageListener = Callable[[Sequence[Passage]], None]
"""Called with each batch of committed passages (attributes loaded); must not block for long."""


@dataclass(frozen=True)
class Services:
    settings: ApiSettings
    store: Store
    signer: TokenSigner
    pseudonyms: Pseudonymiser
    verifier: Verifier | None
    passage_listeners: list[PassageListener] = field(default_factory=list)

    @property
    def clock(self) -> Clock:
        return self.settings.clock

    def passages_committed(self, passages: Sequence[Passage]) -> None:
        """Tell each listener about ``passages``, just committed; a failing listener is logged, not raised."""
        for listener in self.passage_listeners:
            try:
                listener(passages)
            except Exception:
                log.exception("passage listener %r failed on %d passages", listener, len(passages))


def services(request: Request) -> Services:
    return request.app.state.services


def db_session(request: Request) -> Iterator[Session]:
    with services(request).store.session(write=_writes(request)) as session:
        yield session


def _writes(request: Request) -> bool:
    """False for the endpoints ``seal`` found read-only (anonymous GETs): no write lock for them."""
    read_only = getattr(request.app.state, "read_only_endpoints", ())
    return request.scope.get("endpoint") not in read_only


async def _services(request: Request) -> Services:
    return services(request)  # async: no thread-pool hop for a dependency that only reads app.state


AppServices = Annotated[Services, Depends(_services)]
DbSession = Annotated[Session, Depends(db_session, scope="function")]
