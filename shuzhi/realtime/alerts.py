"""Crowd alerts: their history (kept in a JSON-lines file) and their delivery to live subscribers.

:class:`AlertLog` numbers each alert (``id`` 1, 2, 3, ... — the server-sent events' ``id``, so a client that
reconnects with ``Last-Event-ID`` misses nothing), appends it to ``<data>/realtime/alerts.jsonl`` (one JSON
object a line, flushed and fsynced: alerts are rare) and keeps the history in memory for the API. Where
several workers serve an instance, one appends and the others :meth:`AlertLog.follow` the file. Live
subscribers (the SSE stream of each open dashboard) live on asyncio event loops while alerts come from
request, MQTT and timer threads: each subscriber is woken with ``loop.call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import logging
import os
import threading
from pathlib import Path

from shuzhi.realtime.occupancy import Alert

log = logging.getLogger(__name__)


class AlertLog:
    """The alerts of an instance, oldest first, optionally kept in a file (``None``: in memory)."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._alerts: list[Alert] = []
        self._ids: list[int] = []
        self._lock = threading.Lock()
        self._subscribers: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._offset = 0  # bytes of the file read into memory
        with self._lock:
            self._read_new()

    def append(self, alerts: list[Alert]) -> list[Alert]:
        """Number, keep and publish ``alerts``; returns them with their ids."""
        if not alerts:
            return []
        with self._lock:
            self._read_new()  # what a writer before this one appended: numbering goes on from there
            last = self._ids[-1] if self._ids else 0
            numbered = [_with_id(a, last + i) for i, a in enumerate(alerts, 1)]
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("ab") as file:
                    for alert in numbered:
                        file.write((json.dumps(alert.to_json(), ensure_ascii=False) + "\n").encode("utf-8"))
                    file.flush()
                    os.fsync(file.fileno())
                    self._offset = file.tell()
            self._keep(numbered)
        self._wake()
        return numbered

    def follow(self) -> list[Alert]:
        """Take up the alerts another process (the writer) appended to the file, and publish them."""
        with self._lock:
            found = self._read_new()
        if found:
            self._wake()
        return found

    def _read_new(self) -> list[Alert]:
        """Alerts in the file past what was read (complete lines only), kept in memory (lock held)."""
        if self.path is None or not self.path.is_file() or self.path.stat().st_size <= self._offset:
            return []
        with self.path.open("rb") as file:
            file.seek(self._offset)
            chunk = file.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        found = []
        for line in complete.decode("utf-8").splitlines():
            try:
                alert = Alert.from_json(json.loads(line))
            except (ValueError, TypeError, KeyError):
                log.warning("%s: a line that is not an alert, skipped", self.path)
                continue
            if not self._ids or alert.id > self._ids[-1]:
                found.append(alert)
        self._offset += len(complete)
        self._keep(found)
        return found

    def _keep(self, alerts: list[Alert]) -> None:
        self._alerts.extend(alerts)
        self._ids.extend(a.id for a in alerts)

    def _wake(self) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for loop, event in subscribers:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # the loop has closed: the subscriber is gone
                self.unsubscribe((loop, event))

    def since(self, after: int = 0, limit: int | None = None) -> list[Alert]:
        """Alerts with an id above ``after``, oldest first (at most ``limit``)."""
        with self._lock:
            start = bisect.bisect_right(self._ids, after)
            stop = len(self._alerts) if limit is None else min(len(self._alerts), start + limit)
            return self._alerts[start:stop]

    def latest(self, limit: int) -> list[Alert]:
        """The newest ``limit`` alerts, newest first."""
        with self._lock:
            return self._alerts[::-1][:limit]

    @property
    def last_id(self) -> int:
        return self._ids[-1] if self._ids else 0

    def __len__(self) -> int:
        return len(self._alerts)

    def subscribe(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Event]:
        """An event of the running loop, set whenever alerts arrive; pair with :meth:`unsubscribe`."""
        subscriber = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: tuple[asyncio.AbstractEventLoop, asyncio.Event]) -> None:
        with self._lock:
            self._subscribers.discard(subscriber)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)


def _with_id(alert: Alert, number: int) -> Alert:
    values = {name: getattr(alert, name) for name in alert.__dataclass_fields__}
    values["id"] = number
    return Alert(**values)
