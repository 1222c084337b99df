"""Writers of one SQLite file take turns on a lock file: the next writer waits in the kernel, not asleep in
SQLite's busy handler, and is let in as soon as the holder is done."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from shuzhi.store import Store, sqlite_url, upgrade


def test_a_second_store_on_the_same_file_waits_for_the_turn_and_gets_it_at_once(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    upgrade(url)
    first, second = Store(url), Store(url)  # two processes' stores: separate lock-file descriptions
    entered = threading.Event()
    with first.writer_turn():
        waiter = threading.Thread(target=lambda: _enter(second, entered))
        waiter.start()
        assert not entered.wait(0.3)  # held: the second writer waits
        released = time.monotonic()
    assert entered.wait(5)
    assert time.monotonic() - released < 0.1  # woken at once, not after a busy-handler sleep
    waiter.join()
    first.dispose()
    second.dispose()


def test_stores_without_a_file_need_no_turn() -> None:
    store = Store("sqlite://")
    with store.writer_turn(), store.writer_turn():  # nothing to wait for, not even a re-entry
        pass
    store.dispose()


def _enter(store: Store, entered: threading.Event) -> None:
    with store.writer_turn():
        entered.set()


def test_a_disposed_store_takes_turns_again_when_reused(tmp_path: Path) -> None:
    """An app's lifespan disposes its store at shutdown; a restarted lifespan writes with the same store."""
    store = Store(sqlite_url(tmp_path))
    with store.writer_turn():
        pass
    store.dispose()
    with store.writer_turn():
        pass
    store.dispose()
