"""Group commit: many requests' writes in one transaction, each request answered after that commit.

A :class:`GroupCommit` belongs to one event loop (an app's lifespan starts and stops it). ``await
submit(item)`` queues the item; one writer task takes everything queued (up to ``max_batch`` items), runs
``write(session, items)`` in a store session on its own thread — the event loop keeps serving requests and the
next batch gathers meanwhile — commits, calls ``committed(results)`` and then resolves each submitter's future
with its result. A batch whose write or commit fails is rolled back as a whole and every one of its submitters
gets :class:`GroupCommitError`; nothing of it was committed, nothing acknowledged is lost. On SQLite the
batch holds the write lock for one transaction instead of one per request, and the writers of all processes
take turns (``Store.writer_turn``) instead of polling in SQLite's busy handler; on PostgreSQL the same code
runs unchanged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from shuzhi.store.db import Store

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

MAX_BATCH = 512


class GroupCommitError(RuntimeError):
    """The batch this item was in could not be committed (or the writer is not running); nothing was kept."""


class GroupCommit(Generic[T, R]):
    """Batches ``submit``-ted items into one transaction each; see the module docstring."""

    def __init__(
        self,
        store: Store,
        write: Callable[[Session, list[T]], Sequence[R]],
        committed: Callable[[Sequence[R]], None] | None = None,
        max_batch: int = MAX_BATCH,
        turn: Callable[[], AbstractAsyncContextManager[object]] = nullcontext,
    ) -> None:
        self.store = store
        self.write = write
        self.committed = committed
        self.turn = turn  # entered around each transaction: the process's turn to write, if it has one
        self.max_batch = max_batch
        self._queue: asyncio.Queue[tuple[T, asyncio.Future[R]] | None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._thread: ThreadPoolExecutor | None = None
        self.batches = 0  # committed batches
        self.items = 0  # committed items

    @property
    def running(self) -> bool:
        """Taking items: started and not told to stop."""
        return self._task is not None and not self._task.done() and not self._stopping

    async def start(self) -> None:
        if self.running:
            raise RuntimeError("this group commit is running already")
        self._stopping = False
        self._queue = asyncio.Queue()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="group-commit")
        self._task = asyncio.create_task(self._run(), name="group-commit")

    async def stop(self) -> None:
        """Commit what is queued, then stop (items submitted after this fail)."""
        if self._task is None or self._queue is None:
            return
        self._stopping = True  # nothing is queued behind the end mark
        self._queue.put_nowait(None)
        await self._task
        self._task = None
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None

    async def submit(self, item: T) -> R:
        """Queue ``item``; its result once its batch is committed (``GroupCommitError`` if it was not)."""
        if not self.running or self._queue is None:
            raise GroupCommitError("the writer is not running")
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((item, future))
        return await future

    async def _run(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        stopping = False
        try:
            while not stopping:
                first = await self._queue.get()
                batch = [] if first is None else [first]
                stopping = first is None
                while len(batch) < self.max_batch and not self._queue.empty():
                    queued = self._queue.get_nowait()
                    if queued is None:
                        stopping = True
                    else:
                        batch.append(queued)
                if batch:
                    await self._commit(loop, batch)
        finally:  # however the writer ends, nobody is left waiting
            self._stopping = True
            while not self._queue.empty():
                queued = self._queue.get_nowait()
                if queued is not None and not queued[1].done():
                    queued[1].set_exception(GroupCommitError("the writer stopped"))

    async def _commit(
        self, loop: asyncio.AbstractEventLoop, batch: list[tuple[T, asyncio.Future[R]]]
    ) -> None:
        items = [item for item, _ in batch]
        try:
            async with self.turn():
                results = await loop.run_in_executor(self._thread, self._transaction, items)
        except Exception as exc:
            log.exception("group commit of %d items failed; all of them are refused", len(items))
            for _, future in batch:
                if not future.done():
                    future.set_exception(GroupCommitError(f"not committed: {type(exc).__name__}"))
            return
        self.batches += 1
        self.items += len(items)
        if self.committed is not None:
            try:
                self.committed(results)
            except Exception:
                log.exception("after-commit hook failed on %d items (they are committed)", len(items))
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():  # a submitter that went away (cancelled) just does not hear back
                future.set_result(result)

    def _transaction(self, items: list[T]) -> Sequence[R]:
        with self.store.writer_turn(), self.store.session() as session:
            results = self.write(session, items)
            if len(results) != len(items):
                raise RuntimeError(f"write returned {len(results)} results for {len(items)} items")
        return results
