"""One thread that takes work from many listeners and does it a burst at a time.

A listener's thread hands its item over and is free (or waits for its own answer, if it needs
one); the thread takes every item waiting and does them together, so the database's write lock
is asked for once per burst, not once per item, and statements that cost the same for one row or
ten run once. Used for the clicks the door stores for the worker (handlers/common/deferred.py)
and for the memos (handlers/intake/writer.py). The thread starts with the first item and ends
after a while without one.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger("tsunagi.handlers")

T = TypeVar("T")


def each(what: str, do: Callable[[T], None]) -> Callable[[list[T]], None]:
    """A burst handler doing `do` for every item: one item's failure is logged (its type only,
    as "could not <what>") and the others are still done."""

    def handle(burst: list[T]) -> None:
        for item in burst:
            try:
                do(item)
            except Exception as exc:
                log.warning("could not %s (%s)", what, type(exc).__name__)

    return handle


class Bursts(Generic[T]):
    """`handle(burst)` does a burst of items; it tells each item's owner itself, and a failure
    it lets through is logged (type only) and ends nothing but that burst."""

    IDLE = 5.0  # seconds without an item before the thread ends

    def __init__(self, name: str, handle: Callable[[list[T]], None]) -> None:
        self.name = name
        self._handle = handle
        self._queue: queue.SimpleQueue[T] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._unhandled = 0  # put, not yet handled
        self._handled = threading.Condition(self._lock)

    def put(self, item: T) -> None:
        with self._lock:
            self._unhandled += 1
        self._queue.put(item)
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()

    def flush(self, timeout: float) -> bool:
        """Wait until every item put so far is handled (at a normal stop, and in tests). False
        if that took longer than `timeout`."""
        with self._handled:
            return self._handled.wait_for(lambda: self._unhandled == 0, timeout)

    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=self.IDLE)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():  # an item put meanwhile starts no second thread
                        self._thread = None
                        return
                continue
            burst = [first]
            while True:
                try:
                    burst.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._handle(burst)
            except Exception as exc:  # the owners were told what they could be; go on
                log.error(
                    "%s: a burst of %s failed (%s)", self.name, len(burst), type(exc).__name__
                )
            with self._handled:
                self._unhandled -= len(burst)
                self._handled.notify_all()
