"""What every request can depend on: the instance's services and a store session per request.

``Services`` is built once by ``create_app`` and kept on ``app.state``; ``db_session`` opens one session per
request whose transaction commits when the endpoint returns and rolls back when it raises — before the
response is sent (``scope="function"``), so a client never sees a success that was not committed. Endpoints
that only read (anonymous GETs, listed by ``shuzhi.api.access.seal``) get a read-only session: on SQLite a
deferred transaction that neither takes nor waits for the write lock.

Before a request's session opens, the request waits its turn at the process's :class:`SessionGate` on the
event loop, holding no thread: at most ``READERS`` read-only sessions at once and — on SQLite, which has one
writer at a time anyway — one writing session (the group-commit writer of scans takes the same turn). So
threads never wait for pool connections that only other waiting threads could give back, and writers of one
process queue in order instead of polling in SQLite's busy handler, where some starved for 30 s.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
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
"""Called with each batch of committed passages (detached, every attribute loaded) right after the commit and
before the scans are answered, on the event loop's thread (without the app's lifespan, as in some tests, on a
worker thread): it must be quick and must not block. Its errors are logged; the scans succeed anyway."""


READERS = 8
"""Read-only sessions open at once per process (the SQLite pool keeps more connections than this)."""


class SessionGate:
    """Turns for store sessions, per event loop: ``READERS`` readers, and one writer at a time on SQLite."""

    def __init__(self, serial_writes: bool, readers: int = READERS, writers: int = READERS) -> None:
        self.readers = readers
        self.writers = 1 if serial_writes else writers
        self._turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[asyncio.Semaphore, ...]]
        self._turns = weakref.WeakKeyDictionary()

    @asynccontextmanager
    async def turn(self, write: bool) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        turns = self._turns.get(loop)
        if turns is None:
            turns = self._turns[loop] = (asyncio.Semaphore(self.readers), asyncio.Semaphore(self.writers))
        async with turns[write]:
            yield

    def writing(self) -> AbstractAsyncContextManager[None]:
        return self.turn(write=True)


@dataclass(frozen=True)
class Services:
    settings: ApiSettings
    store: Store
    signer: TokenSigner
    pseudonyms: Pseudonymiser
    verifier: Verifier | None
    passage_listeners: list[PassageListener] = field(default_factory=list)
    gate: SessionGate = field(init=False)

    def __post_init__(self) -> None:
        serial = self.store.engine.dialect.name == "sqlite"
        object.__setattr__(self, "gate", SessionGate(serial_writes=serial))

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


async def _session_turn(request: Request) -> AsyncIterator[None]:
    async with services(request).gate.turn(_writes(request)):
        yield


def db_session(
    request: Request, turn: Annotated[None, Depends(_session_turn, scope="function")]
) -> Iterator[Session]:
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
